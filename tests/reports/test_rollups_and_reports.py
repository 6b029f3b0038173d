"""Daily rollups and the reports read from them, against the small history of history.py
(figures computed by hand there)."""

from datetime import date, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from kopilka.ledger import locks
from kopilka.ledger import services as ledger
from kopilka.ledger.models import Account
from kopilka.pos.schemas import ConfirmIn
from kopilka.reports import rollups, selectors
from kopilka.reports.models import DailyBonus, DailySales
from kopilka.sales import services as pos

from .history import MON, at, build_history


@pytest.fixture
def history(merchant, register, make_customer, actor):
    return build_history(
        merchant=merchant, register=register, make_customer=make_customer, actor=actor
    )


def test_sales_rollup_counts_new_loyal_and_anonymous_receipts_per_local_day(merchant, history):
    rollups.refresh(now=at(5, 12))
    rows = {
        r.day: r for r in DailySales.objects.filter(merchant=merchant, day__lt=date(2026, 3, 5))
    }
    monday, tuesday, wednesday = rows[MON], rows[date(2026, 3, 3)], rows[date(2026, 3, 4)]
    assert (monday.receipts, monday.revenue, monday.card_receipts, monday.new_customers) == (
        2,
        150000,
        1,
        1,
    )
    assert (tuesday.receipts, tuesday.bonus_paid, tuesday.new_receipts) == (1, 3000, 0)
    assert (wednesday.receipts, wednesday.new_customers, wednesday.new_revenue) == (1, 1, 30000)


def test_customer_mix_per_week_splits_new_loyal_and_other(merchant, history):
    rollups.refresh(now=at(5, 12))
    [week] = selectors.customer_mix(
        merchant=merchant, start=MON, end=date(2026, 3, 8), bucket="week"
    )
    assert week.new_customers == 2
    assert (week.new.receipts, week.new.revenue, week.new.average) == (2, 130000, 65000)
    assert (week.loyal.receipts, week.loyal.revenue) == (1, 200000)
    assert (week.other.receipts, week.other.revenue) == (1, 50000)
    assert week.share("other") == 0.25


def test_bonus_flow_by_day_with_the_outstanding_balance(merchant, history):
    rollups.refresh(now=at(5, 12))
    report = selectors.bonus_flow(merchant=merchant, start=MON, end=date(2026, 3, 4))
    # 5 % of 1,000.00; of 2,000.00 - 30.00 paid with bonuses; of 300.00.
    assert [row.accrued for row in report.rows] == [5000, 9850, 1500]
    assert [row.spent for row in report.rows] == [0, 3000, 0]
    assert [row.manual for row in report.rows] == [0, 0, -1000]
    assert [row.outstanding for row in report.rows] == [5000, 11850, 12350]
    assert report.totals == {"accrued": 16350, "spent": 3000, "manual": -1000}
    assert report.breakage == 0.0
    assert [row.payments for row in report.rows] == [0, 1, 0]
    assert report.payments == 1


def test_a_purchase_paid_from_several_lots_counts_as_one_payment_with_bonuses(
    merchant, history, register, make_customer, actor
):
    customer = make_customer()
    account = ledger.account_open(customer=customer, program=history, actor=actor)
    with transaction.atomic():
        [locked] = locks.lock_accounts([account.pk])
        for amount in (1000, 2000):  # two lots
            ledger.credit(account=locked, amount=amount, actor=actor, now=at(2, 12))
    pos.receipt_confirm(
        register=register,
        key="several-lots",
        data=ConfirmIn(
            customer={"id": customer.pk},
            lines=[{"line_no": 1, "sku": "GOODS", "qty": "1", "unit_price": 10000}],
            spend=2500,
            external_number="LOTS-1",
        ),
        now=at(4, 10),
    )

    rollups.refresh(now=at(5, 12))

    [spends] = DailyBonus.objects.filter(day=date(2026, 3, 4), kind="spend")
    assert (spends.entries, spends.receipts) == (2, 1)
    report = selectors.bonus_flow(merchant=merchant, start=MON, end=date(2026, 3, 4))
    assert [row.payments for row in report.rows] == [0, 1, 1]


def test_outstanding_starts_from_everything_before_the_period(merchant, history):
    rollups.refresh(now=at(5, 12))
    report = selectors.bonus_flow(merchant=merchant, start=date(2026, 3, 4), end=date(2026, 3, 4))
    assert report.rows[0].outstanding == 12350


def test_a_store_filter_narrows_sales_but_not_the_balance(merchant, history, store, actor):
    from kopilka.merchants import services as merchants

    other = merchants.store_create(merchant=merchant, name="Другой", actor=actor)
    rollups.refresh(now=at(5, 12))
    [nothing] = selectors.customer_mix(merchant=merchant, start=MON, end=MON, store_ids=[other.pk])
    assert nothing.receipts == 0
    report = selectors.bonus_flow(merchant=merchant, start=MON, end=MON, store_ids=[other.pk])
    assert report.rows[0].accrued == 0 and report.rows[0].outstanding == 5000


def test_running_the_refresh_twice_changes_nothing(merchant, history):
    rollups.refresh(now=at(5, 12))
    before = sorted(DailyBonus.objects.values_list("day", "kind", "amount", "entries"))
    rollups.refresh(now=at(5, 12))
    after = sorted(DailyBonus.objects.values_list("day", "kind", "amount", "entries"))
    assert before == after and len(before) == 5


def test_only_days_with_new_rows_and_the_last_two_are_rebuilt_once_rows_settle(merchant, history):
    later = timezone.now() + timedelta(minutes=10)  # the history's rows are then settled
    first = rollups.refresh(now=later, merchant=merchant)
    assert first.days >= 3 + 2  # the three days of the history, yesterday and today
    again = rollups.refresh(now=later, merchant=merchant)
    assert again.days == 2


def test_bonuses_at_risk_lists_customers_with_lots_expiring_soon(merchant, history, actor):
    customer = Account.objects.filter(customer__isnull=False).first().customer
    account = Account.objects.get(customer=customer)
    with transaction.atomic():
        [locked] = locks.lock_accounts([account.pk])
        ledger.credit(account=locked, amount=700, actor=actor, now=at(5, 12), expires_at=at(10, 12))
    [risk] = selectors.bonuses_at_risk(merchant=merchant, now=at(6, 0), within_days=7)
    assert (risk.customer_id, risk.program_id, risk.amount, risk.first_expiry) == (
        customer.pk,
        history.pk,
        700,
        at(10, 12),
    )
    assert selectors.bonuses_at_risk(merchant=merchant, now=at(6, 0), within_days=3) == []
    assert (
        selectors.bonuses_at_risk(
            merchant=merchant, now=at(6, 0), within_days=7, program_id=history.pk + 1
        )
        == []
    )


def test_a_long_rebuild_reads_first_purchases_once_and_finds_the_same_figures(merchant, history):
    from zoneinfo import ZoneInfo

    rollups.refresh(now=at(5, 12))
    daily = sorted(DailySales.objects.values_list("day", "new_customers", "new_receipts"))
    DailySales.objects.all().delete()
    firsts = rollups._first_purchases(merchant)
    assert len(firsts) == 2
    for day in (MON, date(2026, 3, 3), date(2026, 3, 4), date(2026, 3, 5)):
        rollups.rebuild_day(merchant, day, ZoneInfo(merchant.time_zone), firsts=firsts)
    again = sorted(DailySales.objects.values_list("day", "new_customers", "new_receipts"))
    assert again == daily and sum(row[1] for row in again) == 2

"""The dashboard's figures against a small history built by hand, at the service level and
on the page."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kopilka.backoffice.dashboard import dashboard_figures, period_start
from kopilka.customers.models import Customer
from kopilka.ledger import services as ledger
from kopilka.ledger.models import EntryKind
from kopilka.merchants.models import Role
from kopilka.sales.models import Receipt
from tests.conftest import SYSTEM
from tests.ledger.helpers import locked

from .admin_client import staff_user

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)  # 15:00 in Moscow, the merchant's zone
DAY = timedelta(days=1)


@pytest.fixture
def history(merchant, store, register, program, make_customer):
    """Three customers (registered 20, 2 and 0 days ago), six receipts and a ledger
    that accrues, spends, freezes and lets points expire."""
    anna, boris, vera = make_customer(), make_customer(), make_customer()
    for customer, age in ((anna, 20), (boris, 2), (vera, 0)):
        Customer.objects.filter(pk=customer.pk).update(created_at=NOW - age * DAY)

    def receipt(number, customer, age, **fields):
        return Receipt.objects.create(
            merchant=merchant,
            store=store,
            register=register,
            customer=customer,
            external_number=number,
            occurred_at=NOW - age * DAY,
            **fields,
        )

    sale = receipt("1", anna, 1)
    receipt("2", boris, 3)
    receipt("3", None, 2)
    receipt("4", anna, 10)  # outside the last 7 days
    receipt("5", None, 1, status=Receipt.Status.VOIDED)  # never counted
    receipt("6", anna, 0, kind=Receipt.Kind.REFUND, refund_of=sale)  # not a sale
    account = ledger.account_open(customer=anna, program=program, actor=SYSTEM)

    def credit(amount, age, **fields):
        locked(account, ledger.credit, amount=amount, actor=SYSTEM, now=NOW - age * DAY, **fields)

    credit(100, 20, lifetime_days=10)  # expired 10 days ago, written off below
    credit(1000, 10)
    credit(200, 5, lifetime_days=1)  # expired 4 days ago, no job has written it off
    credit(500, 3, kind=EntryKind.WELCOME)
    credit(400, 1, freeze_days=14)  # frozen: outstanding, not yet available
    locked(account, ledger.expire, actor=SYSTEM, now=NOW - 9 * DAY)
    locked(account, ledger.spend, amount=300, actor=SYSTEM, now=NOW - DAY)
    return anna


def test_the_period_starts_at_midnight_in_the_merchants_time_zone(merchant):
    start = period_start(merchant, 7, NOW)
    assert start.isoformat() == "2026-06-09T00:00:00+03:00"


def test_the_last_seven_days_in_figures(merchant, history):
    figures = dashboard_figures(merchant=merchant, days=7, now=NOW)
    # Boris and Vera registered within the week; only Boris made his first purchase in it
    # (Anna's was ten days ago).
    assert (figures.customers_total, figures.customers_registered) == (3, 2)
    assert figures.customers_new == 1
    assert (figures.receipts_with_card, figures.receipts_without_card) == (2, 1)
    # Accrued 200 + 400; the welcome 500 is a gift; the 200 that expired 4 days ago counts
    # as expired although no job has written it off yet.
    assert (figures.accrued, figures.gifts, figures.spent, figures.expired) == (600, 500, 300, 200)
    # 100 + 1000 + 200 + 500 + 400 credited, 100 and 200 expired, 300 spent.
    assert (figures.outstanding, figures.pending) == (1600, 400)


def test_a_longer_period_takes_in_older_accruals_and_written_off_expiries(merchant, history):
    figures = dashboard_figures(merchant=merchant, days=30, now=NOW)
    assert (figures.customers_total, figures.customers_registered) == (3, 3)
    assert figures.customers_new == 2  # Anna (ten days ago) and Boris
    assert (figures.receipts_with_card, figures.receipts_without_card) == (3, 1)
    assert (figures.accrued, figures.gifts, figures.spent) == (1700, 500, 300)
    assert figures.expired == 300  # 100 written off, 200 not yet
    assert (figures.outstanding, figures.pending) == (1600, 400)


def test_the_chart_has_one_point_per_local_day(merchant, history):
    figures = dashboard_figures(merchant=merchant, days=7, now=NOW)
    assert [day.day.isoformat() for day in figures.days][::6] == ["2026-06-09", "2026-06-15"]
    by_day = {day.day.isoformat(): (day.accrued, day.spent) for day in figures.days}
    assert by_day["2026-06-14"] == (400, 300)
    assert by_day["2026-06-12"] == (0, 0)  # the welcome bonus is a gift, not an accrual
    assert by_day["2026-06-10"] == (200, 0)
    assert sum(accrued for accrued, _ in by_day.values()) == figures.accrued


def test_the_figures_take_as_many_queries_for_a_week_as_for_a_quarter(merchant, history):
    counts = []
    for days in (7, 90):
        with CaptureQueriesContext(connection) as queries:
            dashboard_figures(merchant=merchant, days=days, now=NOW)
        counts.append(len(queries))
    # A fixed handful: not one per day (a day before the week may add one range query).
    assert max(counts) <= 20


def test_another_merchants_activity_stays_out_of_the_figures(
    merchant, other_merchant, history, make_customer
):
    make_customer(merchant=other_merchant)
    figures = dashboard_figures(merchant=other_merchant, days=30, now=NOW)
    assert (figures.customers_total, figures.accrued, figures.outstanding) == (1, 0, 0)


def test_the_dashboard_page_shows_the_period_and_the_chart(client, merchant, history):
    client.force_login(staff_user(merchant, Role.MARKETER))
    page = client.get("/admin/", {"period": "90"})
    assert page.status_code == 200
    assert page.context["period"] == 90
    assert page.context["figures"].customers_total == 3
    html = page.content.decode()
    assert 'id="dashboard-chart"' in html
    assert "kopilka/vendor/chart-4.6.1.umd.min.js" in html
    assert client.get("/admin/", {"period": "1000"}).context["period"] == 30

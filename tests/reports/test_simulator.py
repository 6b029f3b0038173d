"""The program simulator over a small real history booked through the POS services."""

import uuid
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from django.apps import apps
from django.db.models import Sum
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from kopilka.ledger.models import Account, Entry, EntryKind
from kopilka.ledger.selectors import account_balance
from kopilka.merchants import services as merchants
from kopilka.pos.schemas import ConfirmIn, RefundIn
from kopilka.programs import services as programs
from kopilka.reports.simulator import (
    bonus_scenario,
    current_scenario,
    fixed_discount_scenario,
    simulate,
)
from kopilka.sales import services as pos
from kopilka.sales.models import Receipt

D = datetime(2026, 1, 10, 12, tzinfo=UTC)
START, END = D - timedelta(hours=12), D + timedelta(days=40)


def line(no, sku, price, qty="1"):
    return {"line_no": no, "sku": sku, "qty": qty, "unit_price": price}


@pytest.fixture
def history(make_history):
    return make_history()


@pytest.fixture
def make_history(merchant, register, make_customer, actor):
    """A bonus program (10 %, half a receipt payable by bonuses, one day of freeze, 30 days of
    life, a 200.00 welcome bonus for 60 days) and its receipts:

    before the period   D-5d Анна joins (welcome); D-3d she buys for 100.00 (accrual 10.00)
    D                   Анна buys A 300.00 + 2 x B 100.00, paying 100.00 with bonuses
    D + 1h              an anonymous receipt of 150.00
    D + 1d              Борис joins (welcome)
    D + 2d              Борис buys for 80.00, paying as much as allowed with bonuses
    D + 3d              Анна brings back one B
    D + 20d             Анна buys for 600.00, paying 150.00 with bonuses

    With campaigns: accruals x2 once per customer, and 5.00 on each of two receipts.
    With levels: everyone is "Базовый"; "Золото" (20 % cashback) needs 400.00 within 30 days.
    """

    def make(levels=False, campaigns=False):
        program = _program(merchant, actor, levels)
        if campaigns:
            programs.campaign_create(
                merchant=merchant,
                program=program,
                name="x2",
                kind="multiplier",
                multiplier=2,
                usage_limit=1,
                actor=actor,
            )
            programs.campaign_create(
                merchant=merchant,
                name="+5",
                kind="fixed_bonus",
                bonus=500,
                usage_limit=2,
                actor=actor,
            )
        _receipts(program, register, make_customer, actor)
        return program

    return make


def _program(merchant, actor, levels):
    program = programs.program_create(
        merchant=merchant,
        name="Бонусы",
        actor=actor,
        accrual_rounding="kopeck",
        max_share_percent=50,
        freeze_days=1,
        lifetime_days=30,
        welcome_bonus=20000,
        welcome_lifetime_days=60,
    )
    programs.accrual_rule_set(program=program, steps=[(0, 10)], actor=actor)
    if levels:
        programs.level_create(program=program, name="Базовый", priority=1, actor=actor)
        programs.level_create(
            program=program,
            name="Золото",
            priority=2,
            actor=actor,
            window_days=30,
            min_spend=40000,
            cashback_percent=20,
        )
    return program


def _receipts(program, register, make_customer, actor):
    anna, boris = make_customer(), make_customer()

    def sale(number, now, lines, customer=None, spend=0):
        body = {"lines": lines, "spend": spend, "external_number": number}
        if customer is not None:
            body["customer"] = {"id": customer.pk}
        pos.receipt_confirm(
            register=register, key=str(uuid.uuid4()), data=ConfirmIn(**body), now=now
        )
        return Receipt.objects.get(external_number=number)

    programs.customer_enrol(customer=anna, program=program, actor=actor, now=D - timedelta(days=5))
    sale("P-1", D - timedelta(days=3), [line(1, "C", 10000)], anna)
    first = sale("S-1", D, [line(1, "A", 30000), line(2, "B", 10000, "2")], anna, spend=10000)
    sale("S-2", D + timedelta(hours=1), [line(1, "C", 15000)])
    programs.customer_enrol(customer=boris, program=program, actor=actor, now=D + timedelta(days=1))
    sale("S-3", D + timedelta(days=2), [line(1, "C", 8000)], boris, spend="max")
    pos.receipt_refund(
        register=register,
        receipt_id=first.pk,
        key=str(uuid.uuid4()),
        data=RefundIn(lines=[{"line_no": 2, "qty": "1"}]),
        now=D + timedelta(days=3),
    )
    sale("S-4", D + timedelta(days=20), [line(1, "C", 60000)], anna, spend=15000)


def _entries(kind) -> int:
    return Entry.objects.filter(kind=kind, created_at__gte=START).aggregate(
        total=Sum("amount", default=0)
    )["total"]


def test_the_current_program_reproduces_the_real_ledger_receipt_by_receipt(merchant, history):
    report = simulate(
        merchant=merchant, start=START, end=END, scenarios=[current_scenario(history)], details=True
    )
    [result] = report.results
    real = {r.pk: r for r in Receipt.objects.filter(occurred_at__gte=START)}
    assert {d.receipt_id for d in result.details} == set(real)
    for replayed in result.details:
        receipt = real[replayed.receipt_id]
        assert (replayed.discount, replayed.bonus_spent, replayed.accrual) == (
            receipt.discount,
            receipt.bonus_spent,
            receipt.accrued,
        ), receipt.external_number
        assert (replayed.returned, replayed.clawed_back) == (receipt.returned, receipt.clawed_back)
    assert result.accrued == _entries(EntryKind.ACCRUAL) == 4000 + 400 + 4500
    assert result.spent == -_entries(EntryKind.SPEND) == 10000 + 4000 + 15000
    assert result.returned == _entries(EntryKind.REFUND_RETURN) == 2000
    assert result.clawed_back == -_entries(EntryKind.REFUND_CLAWBACK) == 800
    assert result.other_credits == _entries(EntryKind.WELCOME) == 20000
    balances = [account_balance(a, now=END) for a in Account.objects.all()]
    assert result.outstanding == sum(b.available + b.pending for b in balances)
    assert result.expired == sum(b.expired for b in balances) > 0
    assert (result.receipts, result.refunds) == (4, 1)
    assert result.revenue == 50000 + 15000 + 8000 + 60000 - 10000


def test_levels_reached_in_the_period_change_the_replayed_accrual_as_they_did_the_real_one(
    merchant, make_history
):
    program = make_history(levels=True)
    [result] = simulate(
        merchant=merchant, start=START, end=END, scenarios=[current_scenario(program)], details=True
    ).results
    real = {r.pk: r.accrued for r in Receipt.objects.filter(occurred_at__gte=START)}
    assert {d.receipt_id: d.accrual for d in result.details} == real
    # S-4 came when Анна had bought 100.00 + 500.00 - 100.00 within 30 days: 20 % of 450.00.
    assert Receipt.objects.get(external_number="S-4").accrued == 9000
    assert result.levels == (("Базовый", 1), ("Золото", 1))


def test_campaign_uses_before_and_within_the_period_limit_the_replay_as_they_did_the_till(
    merchant, make_history
):
    program = make_history(campaigns=True)
    [result] = simulate(
        merchant=merchant, start=START, end=END, scenarios=[current_scenario(program)], details=True
    ).results
    real = {
        r.pk: (r.accrued, r.campaign_bonus) for r in Receipt.objects.filter(occurred_at__gte=START)
    }
    assert {d.receipt_id: (d.accrual, d.campaign_bonus) for d in result.details} == real
    # Анна used x2 and one +5 before the period: only S-1 brings her +5; Борис gets both on S-3.
    assert real[Receipt.objects.get(external_number="S-3").pk] == (800, 500)
    assert result.campaign_bonus == _entries(EntryKind.CAMPAIGN) == 1000


def test_five_percent_bonuses_and_a_three_percent_discount_give_the_hand_computed_figures(
    merchant, history
):
    bonuses = bonus_scenario(
        percent=5, max_share_percent=30, lifetime_days=90, whole_bonuses=False, name="5 %"
    )
    discount = fixed_discount_scenario(percent=3, name="3 %")
    report = simulate(merchant=merchant, start=START, end=END, scenarios=[bonuses, discount])

    five = report.result("5 %")
    # S-1: caps 90.00 + 60.00, spends 100.00 (10.00 of the old accrual, 90.00 of the welcome
    # bonus), earns 5 % of 400.00. S-3: Борис asks for all he may: 30 % of 80.00 = 24.00, earns
    # 5 % of 56.00. The refund of one B gives back 20.00 (to the old accrual, then the welcome
    # lot) and claws back 4.00. S-4 asks for 150.00 of a 180.00 cap but Анна holds 146.00:
    # 10.00 + 120.00 + 16.00; it earns 5 % of 454.00.
    assert (five.accrued, five.clawed_back) == (2000 + 280 + 2270, 400)
    assert (five.spent, five.returned) == (10000 + 2400 + 14600, 2000)
    assert (five.opening, five.other_credits, five.expired) == (21000, 20000, 0)
    assert five.outstanding == (20000 - 2400 + 280) + 2270
    assert five.discount == 0
    assert five.revenue == 123000
    assert five.cost == 25000
    assert five.cost_share == Fraction(25000, 123000)
    assert five.cost_with_liability == 4150

    three = report.result("3 %")
    assert three.discount == 1500 + 450 + 240 + 1800 - 300
    assert (three.accrued, three.spent) == (0, 0)
    # Nobody earns; Анна's old 10.00 accrual burns on D+28d, the welcome lots outlive the period.
    assert (three.expired, three.outstanding) == (1000, 40000)
    assert three.cost_share == Fraction(3690, 123000)


def test_the_simulator_writes_nothing(merchant, history):
    def counts():
        return {m._meta.label: m.objects.count() for m in apps.get_models()}

    before = counts()
    simulate(
        merchant=merchant,
        start=START,
        end=END,
        scenarios=[current_scenario(history), fixed_discount_scenario(percent=3)],
    )
    assert counts() == before


def test_another_merchants_receipts_are_not_replayed(merchant, other_merchant, history):
    report = simulate(
        merchant=other_merchant, start=START, end=END, scenarios=[bonus_scenario(percent=5)]
    )
    [result] = report.results
    assert (result.receipts, result.revenue, result.opening) == (0, 0, 0)


def test_only_the_chosen_stores_receipts_are_replayed(merchant, store, history, actor):
    elsewhere = merchants.store_create(merchant=merchant, name="Другой", actor=actor)
    scenario = [bonus_scenario(percent=5)]
    [here] = simulate(
        merchant=merchant, start=START, end=END, scenarios=scenario, stores=[store]
    ).results
    [there] = simulate(
        merchant=merchant, start=START, end=END, scenarios=scenario, stores=[elsewhere]
    ).results
    assert (here.receipts, here.refunds, here.revenue) == (4, 1, 123000)
    assert (there.receipts, there.refunds, there.revenue) == (0, 0, 0)


def test_a_program_of_other_stores_gives_these_receipts_nothing_in_the_replay(
    merchant, history, actor
):
    elsewhere = merchants.store_create(merchant=merchant, name="Другой", actor=actor)
    program = programs.program_update(program=history, actor=actor, stores=[elsewhere])
    [result] = simulate(
        merchant=merchant, start=START, end=END, scenarios=[current_scenario(program)]
    ).results
    assert (result.receipts, result.accrued, result.spent) == (4, 0, 0)


@hypothesis_settings(max_examples=20)
@given(
    percent=st.integers(0, 20),
    share=st.integers(0, 100),
    lifetime=st.none() | st.integers(1, 60),
    freeze=st.integers(0, 3),
)
def test_every_point_is_accounted_for_and_nothing_is_issued_at_zero_percent(
    merchant, history, percent, share, lifetime, freeze
):
    scenario = bonus_scenario(
        percent=percent, max_share_percent=share, lifetime_days=lifetime, freeze_days=freeze
    )
    [result] = simulate(merchant=merchant, start=START, end=END, scenarios=[scenario]).results
    assert (
        result.opening
        + result.other_credits
        + result.issued
        - result.spent_net
        - result.expired
        - result.manual_debits
        == result.outstanding
    )
    if percent == 0:
        assert result.accrued == result.clawed_back == 0


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_processes_give_the_figures_of_one(merchant, history):
    scenarios = [current_scenario(history), bonus_scenario(percent=5, lifetime_days=10)]
    one = simulate(merchant=merchant, start=START, end=END, scenarios=scenarios)
    two = simulate(merchant=merchant, start=START, end=END, scenarios=scenarios, processes=2)
    assert two.processes == 2
    assert two.results == one.results

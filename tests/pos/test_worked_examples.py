"""The seeds' worked examples, end to end through the POS API (money in kopecks)."""

import pytest

from kopilka.catalog import services as catalog
from kopilka.ledger import locks
from kopilka.ledger import services as ledger
from kopilka.programs import services as programs
from kopilka.sales.models import Receipt

from .conftest import line


@pytest.fixture
def customer_with_bonuses(make_customer, bonus_program, actor):
    """A customer holding 1,000 bonuses in the program."""

    def make(amount=100000):
        customer = make_customer()
        account = programs.customer_enrol(customer=customer, program=bonus_program, actor=actor)
        from django.db import transaction

        with transaction.atomic():
            [locked] = locks.lock_accounts([account.pk])
            ledger.credit(account=locked, amount=amount, actor=actor)
        return customer

    return make


def test_a_ticket_of_100_with_a_10_percent_cap_pays_at_most_10_bonuses_and_90_money(
    till, bonus_program, customer_with_bonuses, actor
):
    programs.program_update(program=bonus_program, actor=actor, max_share_percent=10)
    customer = customer_with_bonuses()
    body = {"customer": {"id": customer.pk}, "lines": [line(1, "TICKET", 10000)], "spend": "max"}
    quoted = till.post("/receipts/quote", body).json()
    assert quoted["totals"]["max_spend"] == 1000
    confirmed = till.confirm({**body, "external_number": "T-1"})
    assert confirmed.status_code == 201, confirmed.json()
    totals = confirmed.json()["totals"]
    assert (totals["bonus_spent"], totals["to_pay"]) == (1000, 9000)
    too_much = till.confirm({**body, "spend": 1100, "external_number": "T-2"})
    assert too_much.status_code == 409
    assert too_much.json()["code"] == "spend_not_allowed"


def test_paying_7_of_720_with_bonuses_leaves_713_to_pay_and_accrues_on_713(
    till, bonus_program, customer_with_bonuses, actor
):
    programs.accrual_rule_set(program=bonus_program, steps=[(0, 10)], actor=actor)
    customer = customer_with_bonuses()
    response = till.confirm(
        {
            "customer": {"id": customer.pk},
            "lines": [line(1, "COMBO", 72000)],
            "spend": 700,
            "external_number": "720-1",
            "payments": [{"method": "card", "amount": 71300}],
        }
    )
    assert response.status_code == 201, response.json()
    totals = response.json()["totals"]
    assert (totals["bonus_spent"], totals["to_pay"], totals["accrual"]) == (700, 71300, 7130)
    assert response.json()["balance"]["available"] == 100000 - 700 + 7130


@pytest.mark.parametrize(("total", "accrual"), [(490000, 9800), (500000, 25000)])
def test_steps_of_2_percent_below_5000_and_5_percent_from_5000(
    till, bonus_program, make_customer, actor, total, accrual
):
    programs.accrual_rule_set(program=bonus_program, steps=[(0, 2), (500000, 5)], actor=actor)
    customer = make_customer()
    response = till.confirm(
        {"customer": {"id": customer.pk}, "lines": [line(1, "MED", total)], "external_number": "S"}
    )
    assert response.json()["totals"]["accrual"] == accrual


def test_an_excluded_product_earns_nothing_takes_no_bonuses_but_counts_in_sum_and_visits(
    till, bonus_program, customer_with_bonuses, category, product, actor
):
    programs.accrual_rule_set(program=bonus_program, steps=[(0, 5)], actor=actor)
    bags = category("Пакеты", no_accrual=True, no_discount=True, no_bonus_payment=True)
    product("BAG", category=bags)
    product("BREAD", no_accrual=True, no_bonus_payment=True, no_discount=True)
    customer = customer_with_bonuses()
    response = till.confirm(
        {
            "customer": {"id": customer.pk},
            "lines": [line(1, "MILK", 10000), line(2, "BAG", 900), line(3, "BREAD", 5000)],
            "spend": "max",
            "external_number": "EX-1",
        }
    )
    assert response.status_code == 201, response.json()
    lines = {row["line_no"]: row for row in response.json()["lines"]}
    for excluded in (2, 3):
        assert (lines[excluded]["accrual"], lines[excluded]["bonus_spent"]) == (0, 0)
        assert lines[excluded]["discount"] == 0
    assert (lines[1]["bonus_spent"], lines[1]["accrual"]) == (10000, 0)  # all paid by bonuses
    receipt = Receipt.objects.get(pk=response.json()["receipt_id"])
    assert receipt.subtotal == 15900  # the purchase sum includes the excluded items
    assert Receipt.objects.filter(customer=customer, kind="sale").count() == 1  # one visit


def test_excluded_products_take_no_discount_under_a_discount_program(
    till, merchant, make_customer, category, product, actor
):
    programs.program_create(
        merchant=merchant,
        name="Скидка",
        kind="fixed_discount",
        fixed_discount_percent=10,
        actor=actor,
    )
    product("BAG", category=category("Пакеты", no_discount=True))
    customer = make_customer()
    response = till.confirm(
        {
            "customer": {"id": customer.pk},
            "lines": [line(1, "MILK", 10000), line(2, "BAG", 900)],
            "external_number": "D-1",
        }
    )
    assert [row["discount"] for row in response.json()["lines"]] == [1000, 0]
    assert response.json()["totals"]["to_pay"] == 9900


def test_only_the_goods_and_services_groups_earn_3_percent(
    till, merchant, bonus_program, make_customer, category, product, actor
):
    goods, services, other = category("Товари"), category("Послуги"), category("Інше")
    segment = catalog.segment_create(
        merchant=merchant, name="для Бонусної", actor=actor, categories=[goods, services]
    )
    programs.accrual_rule_set(
        program=bonus_program, steps=[(0, 3)], segments=[segment], actor=actor
    )
    product("PILLS", category=goods)
    product("VISIT", category=services)
    product("TOY", category=other)
    customer = make_customer()
    response = till.confirm(
        {
            "customer": {"id": customer.pk},
            "lines": [line(1, "PILLS", 100000), line(2, "VISIT", 50000), line(3, "TOY", 70000)],
            "external_number": "SEG-1",
        }
    )
    assert [row["accrual"] for row in response.json()["lines"]] == [3000, 1500, 0]


@pytest.mark.parametrize("return_spent", [True, False])
def test_spent_bonuses_come_back_on_refund_only_when_the_program_says_so(
    till, bonus_program, customer_with_bonuses, actor, return_spent
):
    programs.program_update(program=bonus_program, actor=actor, return_spent_on_refund=return_spent)
    programs.accrual_rule_set(program=bonus_program, steps=[(0, 5)], actor=actor)
    customer = customer_with_bonuses(amount=50000)
    sale = till.confirm(
        {
            "customer": {"id": customer.pk},
            "lines": [line(1, "A", 60000), line(2, "B", 40000)],
            "spend": 30000,
            "external_number": "R-1",
        }
    ).json()
    assert sale["balance"]["available"] == 50000 - 30000 + 3500
    refund = till.post(f"/receipts/{sale['receipt_id']}/refunds", {}, idempotency_key="refund-1")
    assert refund.status_code == 201, refund.json()
    body = refund.json()
    assert body["accrual_clawed_back"] == 3500
    assert body["bonus_returned"] == (30000 if return_spent else 0)
    assert body["balance"]["available"] == (50000 if return_spent else 20000)


# --- combined programs (seed 002: "совмещённые системы") -----------------------------------


@pytest.fixture
def combined_program(merchant, actor):
    """The merchant's only program: a 10 % discount and 5 % bonuses on the same receipt."""
    program = programs.program_create(
        merchant=merchant,
        name="Скидка и бонусы",
        kind="combined",
        fixed_discount_percent=10,
        accrual_rounding="kopeck",
        actor=actor,
    )
    programs.accrual_rule_set(program=program, steps=[(0, 5)], actor=actor)
    return program


def test_a_combined_program_gives_10_percent_off_then_bonuses_pay_and_accrue_on_the_rest(
    till, combined_program, make_customer, actor
):
    customer = make_customer()
    account = programs.customer_enrol(customer=customer, program=combined_program, actor=actor)
    from django.db import transaction

    with transaction.atomic():
        [locked] = locks.lock_accounts([account.pk])
        ledger.credit(account=locked, amount=100000, actor=actor)  # 1,000 bonuses
    body = {
        "customer": {"id": customer.pk},
        "lines": [line(1, "COAT", 100000)],
        "spend": 20000,
        "external_number": "C-1",
    }
    response = till.confirm(body)
    assert response.status_code == 201, response.json()
    totals = response.json()["totals"]
    # 1000.00 - 10 % = 900.00; 200 bonuses pay 200.00 of it: 700.00 to pay.
    # Accrual on the money part: 5 % of 700.00 = 35.00.
    assert (totals["discount"], totals["bonus_spent"], totals["to_pay"]) == (10000, 20000, 70000)
    assert totals["accrual"] == 3500
    assert response.json()["balance"]["available"] == 100000 - 20000 + 3500


def test_a_combined_program_accrues_nothing_on_discounted_items_when_told_so(
    till, combined_program, make_customer, category, product, actor
):
    programs.program_update(program=combined_program, actor=actor, accrue_on_discounted=False)
    product("BAG", category=category("Пакеты", no_discount=True))
    customer = make_customer()
    response = till.confirm(
        {
            "customer": {"id": customer.pk},
            "lines": [line(1, "MILK", 100000), line(2, "BAG", 10000)],
            "external_number": "C-2",
        }
    )
    lines = response.json()["lines"]
    # MILK takes 10 % off (100.00) and so earns nothing; the bag takes no discount and earns
    # 5 % of 100.00 = 5.00.
    assert [row["discount"] for row in lines] == [10000, 0]
    assert [row["accrual"] for row in lines] == [0, 500]


def test_a_combined_program_with_accumulative_steps_discounts_by_earlier_purchases(
    till, merchant, make_customer, actor
):
    program = programs.program_create(
        merchant=merchant,
        name="Накопительная и бонусы",
        kind="combined",
        accrual_rounding="kopeck",
        actor=actor,
    )
    programs.discount_steps_set(program=program, steps=[(300000, 5)], actor=actor)
    programs.accrual_rule_set(program=program, steps=[(0, 2)], actor=actor)
    customer = make_customer()
    first = till.confirm(
        {"customer": {"id": customer.pk}, "lines": [line(1, "TV", 400000)], "external_number": "A1"}
    ).json()["totals"]
    # No purchases before: no discount; 2 % of 4000.00 = 80.00.
    assert (first["discount"], first["accrual"]) == (0, 8000)
    second = till.confirm(
        {"customer": {"id": customer.pk}, "lines": [line(1, "TV", 100000)], "external_number": "A2"}
    ).json()["totals"]
    # 4000.00 bought before, past the 3000.00 step: 5 % of 1000.00 = 50.00 off, then
    # 2 % of 950.00 = 19.00.
    assert (second["discount"], second["to_pay"], second["accrual"]) == (5000, 95000, 1900)


# --- when a bonus's lifetime starts (seed 004: "from the moment of accrual") ---------------


@pytest.mark.parametrize(("lifetime_start", "days"), [("accrual", 30), ("freeze_end", 33)])
def test_the_quote_dates_the_bonuses_burn_as_the_program_counts_their_lifetime(
    till, bonus_program, make_customer, actor, lifetime_start, days
):
    from datetime import UTC, datetime, timedelta

    programs.program_update(
        program=bonus_program,
        actor=actor,
        freeze_days=3,
        lifetime_days=30,
        lifetime_start=lifetime_start,
    )
    programs.accrual_rule_set(program=bonus_program, steps=[(0, 5)], actor=actor)
    customer = make_customer()
    moment = datetime.now(UTC).replace(microsecond=0)
    body = {"customer": {"id": customer.pk}, "lines": [line(1, "A", 10000)]}
    quoted = till.post("/receipts/quote", {**body, "occurred_at": moment.isoformat()}).json()
    # Frozen 3 days; living 30 days from the accrual (day 30) or from the end of the freeze
    # (day 3 + 30 = 33).
    burns = moment + timedelta(days=days)
    totals = quoted["totals"]
    assert datetime.fromisoformat(totals["accrual_available_from"]) == moment + timedelta(days=3)
    assert datetime.fromisoformat(totals["accrual_expires_at"]) == burns
    assert {
        "code": "accrual_expires",
        "source": f"program:{bonus_program.pk}",
        "value": burns.isoformat(),
    } in quoted["reasons"]
    sale = till.confirm({**body, "external_number": "L-1"}).json()
    from kopilka.ledger.models import Lot

    lot = Lot.objects.get(account__customer=customer, kind="accrual")
    occurred = Receipt.objects.get(pk=sale["receipt_id"]).occurred_at
    assert lot.expires_at - occurred == timedelta(days=days)
    assert lot.available_from - occurred == timedelta(days=3)

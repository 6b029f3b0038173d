"""Seed 003 through the API: levels by bar and ticket spend or by 20 visits in 30 days,
demotion after a quiet month, cashback by category, 10 % of a ticket payable by bonuses."""

from datetime import timedelta

import pytest
from django.utils import timezone

from kopilka.catalog import services as catalog
from kopilka.programs import services as programs
from kopilka.sales.models import Receipt

from .conftest import line


@pytest.fixture
def cinema(merchant, bonus_program, category, product, actor):
    bar_category, tickets_category = category("Бар"), category("Билеты")
    product("BEER", category=bar_category)
    product("TICKET", category=tickets_category)
    bar = catalog.segment_create(
        merchant=merchant, name="Бар", actor=actor, categories=[bar_category]
    )
    tickets = catalog.segment_create(
        merchant=merchant, name="Билеты", actor=actor, categories=[tickets_category]
    )
    ticket_cap = {"max_share_percent": 10}
    programs.level_create(
        program=bonus_program,
        name="Бронза",
        priority=1,
        actor=actor,
        cashback_percent=2,
        segments={tickets: ticket_cap},
    )
    silver = programs.level_create(
        program=bonus_program,
        name="Серебро",
        priority=2,
        actor=actor,
        window_days=30,
        min_spend=500000,
        min_visits=20,
        cashback_percent=3,
        segments={
            bar: {"min_spend": 300000, "cashback_percent": 5},
            tickets: {"min_spend": 200000, "cashback_percent": 3, **ticket_cap},
        },
    )
    return silver


def buy(till, customer, number, lines, spend=0):
    response = till.confirm(
        {"customer": {"id": customer.pk}, "lines": lines, "spend": spend, "external_number": number}
    )
    assert response.status_code == 201, response.json()
    return response.json()


def test_bar_and_ticket_spend_within_30_days_reach_silver_and_change_cashback(
    till, cinema, make_customer
):
    customer = make_customer()
    first = buy(till, customer, "1", [line(1, "BEER", 350000), line(2, "TICKET", 250000)])
    assert (first["level"]["before"]["name"], first["level"]["after"]["name"]) == (
        "Бронза",
        "Серебро",
    )
    assert first["totals"]["accrual"] == 12000  # bronze: 2 % of 6,000
    second = buy(till, customer, "2", [line(1, "BEER", 10000)])
    assert second["level"]["before"]["name"] == "Серебро"
    assert second["totals"]["accrual"] == 500  # silver: 5 % on the bar


def test_a_quiet_month_brings_the_customer_back_down(till, cinema, make_customer):
    customer = make_customer()
    buy(till, customer, "1", [line(1, "BEER", 350000), line(2, "TICKET", 250000)])
    Receipt.objects.update(occurred_at=timezone.now() - timedelta(days=31))
    quote = till.post(
        "/receipts/quote", {"customer": {"id": customer.pk}, "lines": [line(1, "BEER", 100)]}
    ).json()
    assert quote["level"]["before"]["name"] == "Бронза"
    assert quote["level"]["next"]["name"] == "Серебро"


def test_twenty_visits_in_30_days_reach_silver_and_the_quote_counts_down(
    till, cinema, make_customer
):
    customer = make_customer()
    for n in range(18):
        buy(till, customer, f"v{n}", [line(1, "BEER", 1000)])
    quote = till.post(
        "/receipts/quote", {"customer": {"id": customer.pk}, "lines": [line(1, "BEER", 1000)]}
    ).json()
    assert quote["level"]["next"]["visits"] == 1  # after this one, one more
    buy(till, customer, "v18", [line(1, "BEER", 1000)])
    last = buy(till, customer, "v19", [line(1, "BEER", 1000)])
    assert last["level"]["after"]["name"] == "Серебро"


def test_refunds_take_the_spend_back(till, cinema, make_customer):
    customer = make_customer()
    sale = buy(till, customer, "1", [line(1, "BEER", 350000), line(2, "TICKET", 250000)])
    till.post(f"/receipts/{sale['receipt_id']}/refunds", {}, idempotency_key="r1")
    quote = till.post(
        "/receipts/quote", {"customer": {"id": customer.pk}, "lines": [line(1, "BEER", 100)]}
    ).json()
    assert quote["level"]["before"]["name"] == "Бронза"


def test_a_ticket_of_100_pays_at_most_10_bonuses_on_every_level(till, cinema, make_customer):
    customer = make_customer()
    buy(till, customer, "1", [line(1, "BEER", 350000), line(2, "TICKET", 250000)])
    quote = till.post(
        "/receipts/quote",
        {"customer": {"id": customer.pk}, "lines": [line(1, "TICKET", 10000)], "spend": "max"},
    ).json()
    assert quote["level"]["before"]["name"] == "Серебро"
    assert quote["lines"][0]["bonus_cap"] == 1000


def test_a_level_given_by_hand_holds_until_its_end(till, cinema, make_customer, actor):
    customer = make_customer()
    programs.level_assign(
        customer=customer,
        level=cinema,
        actor=actor,
        reason="VIP guest",
        until=timezone.now() + timedelta(days=1),
    )
    body = {"customer": {"id": customer.pk}, "lines": [line(1, "BEER", 10000)]}
    assert till.post("/receipts/quote", body).json()["level"]["before"]["name"] == "Серебро"
    cinema.assignments.update(until=timezone.now() - timedelta(seconds=1))
    assert till.post("/receipts/quote", body).json()["level"]["before"]["name"] == "Бронза"


def test_segment_thresholds_cannot_add_up_to_more_than_the_total(bonus_program, merchant, actor):
    from kopilka.programs.exceptions import InvalidProgram

    bar = catalog.segment_create(merchant=merchant, name="B", actor=actor)
    with pytest.raises(InvalidProgram):
        programs.level_create(
            program=bonus_program,
            name="X",
            priority=5,
            actor=actor,
            min_spend=1000,
            segments={bar: {"min_spend": 2000}},
        )


def test_a_level_given_by_hand_and_ended_early_no_longer_counts_at_the_till(
    till, cinema, make_customer, actor
):
    from kopilka.programs.exceptions import InvalidProgram

    customer = make_customer()
    assignment = programs.level_assign(
        customer=customer, level=cinema, actor=actor, reason="VIP guest", until=None
    )
    body = {"customer": {"id": customer.pk}, "lines": [line(1, "BEER", 10000)]}
    assert till.post("/receipts/quote", body).json()["level"]["before"]["name"] == "Серебро"

    programs.level_assignment_end(assignment=assignment, actor=actor, reason="Left the club")

    assert till.post("/receipts/quote", body).json()["level"]["before"]["name"] == "Бронза"
    with pytest.raises(InvalidProgram):  # once ended, it stays ended
        programs.level_assignment_end(
            assignment=assignment,
            actor=actor,
            reason="again",
            until=timezone.now() + timedelta(days=1),
        )


def test_a_discount_a_bonus_program_would_ignore_is_refused(bonus_program, merchant, actor):
    from kopilka.programs.exceptions import InvalidProgram
    from kopilka.programs.models import Program

    with pytest.raises(InvalidProgram) as refused:
        programs.program_update(program=bonus_program, actor=actor, fixed_discount_percent=5)
    assert "fixed_discount_percent" in refused.value.details["fields"]
    with pytest.raises(InvalidProgram) as refused:
        programs.level_create(
            program=bonus_program, name="Gold", priority=1, actor=actor, discount_percent=5
        )
    assert "discount_percent" in refused.value.details["fields"]

    discounts = programs.program_create(
        merchant=merchant, name="Скидки", actor=actor, kind=Program.Kind.ACCUMULATIVE_DISCOUNT
    )
    programs.level_create(
        program=discounts, name="Gold", priority=1, actor=actor, discount_percent=5
    )
    with pytest.raises(InvalidProgram) as refused:  # its levels' discounts would be ignored
        programs.program_update(program=discounts, actor=actor, kind=Program.Kind.BONUS)
    assert "kind" in refused.value.details["fields"]

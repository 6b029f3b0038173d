"""A merchant whose programs follow each other in time: the till books every receipt in the
program whose period includes the moment of the purchase (customers without a typed card and
anonymous receipts alike)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from kopilka.programs import services as programs
from kopilka.programs.selectors import program_for_receipts, program_of_customer
from kopilka.sales.models import Receipt

from .conftest import line


@pytest.fixture
def seasons(merchant, actor):
    """Spring (the older program) ended two hours ago; Summer started then."""
    switch = timezone.now() - timedelta(hours=2)
    spring = programs.program_create(
        merchant=merchant,
        name="Весна 3 %",
        actor=actor,
        accrual_rounding="kopeck",
        active_to=switch,
    )
    summer = programs.program_create(
        merchant=merchant,
        name="Лето 5 %",
        actor=actor,
        accrual_rounding="kopeck",
        active_from=switch,
    )
    programs.accrual_rule_set(program=spring, steps=[(0, 3)], actor=actor)
    programs.accrual_rule_set(program=summer, steps=[(0, 5)], actor=actor)
    return spring, summer, switch


def receipt(customer, number, **extra):
    return {
        "customer": {"id": customer.pk} if customer else None,
        "lines": [line(1, "A", 10000)],
        "external_number": number,
        **extra,
    }


def test_the_program_in_its_period_is_the_default_not_the_oldest(merchant, seasons):
    spring, summer, switch = seasons
    assert program_for_receipts(merchant=merchant) == summer
    assert program_for_receipts(merchant=merchant, now=switch - timedelta(minutes=1)) == spring


def test_a_customer_without_a_typed_card_earns_in_the_current_program(
    till, make_customer, merchant, seasons
):
    _spring, summer, _switch = seasons
    customer = make_customer()
    assert program_of_customer(customer=customer, merchant=merchant) == summer

    booked = till.confirm(receipt(customer, "S-1"))
    assert booked.status_code == 201, booked.json()
    assert booked.json()["totals"]["accrual"] == 500  # Summer's 5 % of 100.00
    assert Receipt.objects.get(pk=booked.json()["receipt_id"]).program_id == summer.pk


def test_an_offline_receipt_from_before_the_switch_is_booked_in_the_old_program(
    till, make_customer, seasons
):
    spring, _summer, switch = seasons
    customer = make_customer()
    earlier = (switch - timedelta(minutes=30)).isoformat()

    booked = till.confirm(receipt(customer, "OFF-1", occurred_at=earlier))
    assert booked.status_code == 201, booked.json()
    assert booked.json()["totals"]["accrual"] == 300  # Spring's 3 %, as on the day
    assert Receipt.objects.get(pk=booked.json()["receipt_id"]).program_id == spring.pk


def test_anonymous_receipts_go_to_the_current_program(till, seasons):
    _spring, summer, _switch = seasons
    booked = till.confirm(receipt(None, "ANON-1"))
    assert Receipt.objects.get(pk=booked.json()["receipt_id"]).program_id == summer.pk


def test_with_no_program_in_its_period_the_oldest_enabled_one_stays_the_default(
    merchant, actor, seasons
):
    spring, summer, switch = seasons
    programs.program_update(program=summer, actor=actor, active_to=switch + timedelta(minutes=5))
    later = switch + timedelta(hours=1)
    assert program_for_receipts(merchant=merchant, now=later) == spring
    programs.program_update(program=spring, actor=actor, enabled=False)
    assert program_for_receipts(merchant=merchant, now=later) == summer


def test_the_default_program_is_the_same_rule_for_a_customer_and_an_anonymous_receipt(
    make_customer, merchant, seasons, actor
):
    """`program_of_customer` spells the default program in SQL for speed; at every moment
    (before, at and after the switch, and when no program is in its period) it picks what
    `program_for_receipts` picks."""
    spring, summer, switch = seasons
    customer = make_customer()
    moments = [switch - timedelta(days=1), switch, switch + timedelta(minutes=1)]
    for now in moments:
        expected = program_for_receipts(merchant=merchant, now=now)
        assert program_of_customer(customer=customer, merchant=merchant, now=now) == expected
    programs.program_update(program=summer, actor=actor, active_to=switch + timedelta(hours=1))
    later = switch + timedelta(days=1)  # no program in its period: the oldest enabled one
    assert program_for_receipts(merchant=merchant, now=later) == spring
    assert program_of_customer(customer=customer, merchant=merchant, now=later) == spring

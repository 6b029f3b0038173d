"""Campaigns at the till, end to end (seed 002: "N-th item as a gift" applies by itself)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kopilka.ledger.models import Entry
from kopilka.merchants import services as merchants
from kopilka.programs import services as programs
from kopilka.programs.models import CampaignUse

from .conftest import line

YOGURTS = [line(1, "YOG", 7900, qty="3")]


def confirm(till, number, lines=YOGURTS, customer=None):
    body = {"lines": lines, "external_number": number}
    if customer is not None:
        body["customer"] = {"id": customer.pk}
    response = till.confirm(body)
    assert response.status_code == 201, response.json()
    return response.json()


@pytest.fixture
def third_free(merchant, bonus_program, actor):
    return programs.campaign_create(
        merchant=merchant, name="Каждый 3-й в подарок", kind="nth_free", n=3, actor=actor
    )


def test_every_third_item_is_free_by_itself_and_is_explained(till, third_free, make_customer):
    customer = make_customer()
    sold = confirm(till, "1", customer=customer)
    assert (sold["totals"]["discount"], sold["totals"]["to_pay"]) == (7900, 15800)
    assert sold["campaigns"] == [third_free.pk]
    assert sold["lines"][0]["reasons"][0]["code"] == "nth_item_free"
    assert CampaignUse.objects.filter(campaign=third_free, customer=customer).count() == 1


def test_a_standalone_campaign_applies_to_an_anonymous_receipt(till, third_free):
    assert confirm(till, "anon")["totals"]["discount"] == 7900


def test_a_usage_limit_stops_the_campaign_for_that_customer(till, third_free, make_customer):
    third_free.usage_limit = 1
    third_free.save()
    customer = make_customer()
    assert confirm(till, "1", customer=customer)["totals"]["discount"] == 7900
    assert confirm(till, "2", customer=customer)["totals"]["discount"] == 0
    assert confirm(till, "3", customer=make_customer())["totals"]["discount"] == 7900


def test_a_campaign_for_another_store_does_not_apply_here(till, merchant, bonus_program, actor):
    elsewhere = merchants.store_create(merchant=merchant, name="Другой", actor=actor)
    programs.campaign_create(
        merchant=merchant, name="Там", kind="nth_free", n=3, stores=[elsewhere], actor=actor
    )
    assert confirm(till, "1")["totals"]["discount"] == 0


def test_a_campaign_set_to_start_the_next_day_starts_at_local_midnight(merchant, actor):
    evening = datetime(2026, 3, 10, 20, 30, tzinfo=UTC)  # 23:30 in Moscow
    campaign = programs.campaign_create(
        merchant=merchant,
        name="Завтра",
        kind="nth_free",
        n=2,
        starts_next_day=True,
        now=evening,
        actor=actor,
    )
    assert campaign.starts_at == datetime(2026, 3, 11, tzinfo=ZoneInfo("Europe/Moscow"))


def test_a_future_campaign_does_not_apply_yet(till, merchant, bonus_program, actor):
    programs.campaign_create(
        merchant=merchant,
        name="Завтра",
        kind="nth_free",
        n=3,
        starts_next_day=True,
        actor=actor,
    )
    assert confirm(till, "1")["totals"]["discount"] == 0


def test_a_fixed_bonus_is_credited_as_a_campaign_entry(
    till, merchant, bonus_program, make_customer, actor
):
    programs.program_update(program=bonus_program, actor=actor, lifetime_days=30)
    programs.campaign_create(
        merchant=merchant,
        name="Бонус за покупку",
        kind="fixed_bonus",
        bonus=10000,
        min_amount=20000,
        program=bonus_program,
        actor=actor,
    )
    customer = make_customer()
    small = confirm(till, "1", lines=[line(1, "A", 10000)], customer=customer)
    assert small["totals"]["campaign_bonus"] == 0
    big = confirm(till, "2", lines=[line(1, "A", 25000)], customer=customer)
    assert big["totals"]["campaign_bonus"] == 10000
    entry = Entry.objects.get(kind="campaign")
    assert entry.amount == 10000
    assert entry.lot.expires_at - entry.lot.available_from == timedelta(days=30)


def test_an_exclusive_campaign_is_never_combined(
    till, merchant, bonus_program, actor, third_free, make_customer
):
    programs.accrual_rule_set(program=bonus_program, steps=[(0, 5)], actor=actor)
    double = programs.campaign_create(
        merchant=merchant,
        name="x2",
        kind="multiplier",
        multiplier=2,
        exclusive=True,
        priority=10,
        actor=actor,
    )
    customer = make_customer()
    known = till.post("/receipts/quote", {"customer": {"id": customer.pk}, "lines": YOGURTS}).json()
    assert known["campaigns"] == [double.pk]
    assert (known["totals"]["discount"], known["totals"]["accrual"]) == (0, 2370)  # 10 %
    # An anonymous buyer cannot earn bonuses, so the multiplier is out and the gift is in.
    anonymous = till.post("/receipts/quote", {"lines": YOGURTS}).json()
    assert anonymous["campaigns"] == [third_free.pk]

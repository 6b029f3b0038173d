"""Programs made from the templates: each is built through the programs services in one go
(audited), and quotes its seed's worked example as the engine computes it."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest
from django.utils import translation

from kopilka import rules
from kopilka.catalog import services as catalog
from kopilka.catalog.models import Segment
from kopilka.merchants.models import AuditEvent
from kopilka.programs.exceptions import InvalidProgram
from kopilka.programs.models import Campaign, Program
from kopilka.programs.selectors import campaigns_for, to_rules
from kopilka.programs.templates import TEMPLATES, program_from_template
from kopilka.rules import Activity, Cart, CartLine, CustomerState

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
RICH = CustomerState(available=10**9)


def line(no, price, qty=1, segments=()):
    return CartLine(
        line_no=no,
        sku=f"SKU{no}",
        qty=Fraction(qty),
        unit_price=price,
        segment_ids=frozenset(segments),
    )


def made(merchant, actor, key, **kwargs) -> Program:
    return program_from_template(merchant=merchant, template=key, actor=actor, **kwargs)


def quote(program, cart, customer=RICH):
    config = to_rules(program)
    campaigns = campaigns_for(merchant=program.merchant, program=program)
    return rules.quote(replace(config, campaigns=campaigns), customer, cart, now=NOW)


def test_every_template_makes_a_program_audited_once_with_the_template_named(merchant, actor):
    for template in TEMPLATES:
        program = made(merchant, actor, template.key)
        event = AuditEvent.objects.get(action="program.from_template", object_id=str(program.pk))
        assert event.data["template"] == template.key
        assert program.kind == template.program["kind"]
    assert Program.objects.filter(merchant=merchant).count() == len(TEMPLATES)


def test_the_kontur_bonus_program_gives_5_percent_and_lets_bonuses_pay_30_percent(merchant, actor):
    program = made(merchant, actor, "bonus")
    outcome = quote(program, Cart(lines=(line(1, 100000),), requested_spend=None))
    # 1 000 ₽: up to 300 ₽ paid with bonuses, 5 % accrued on the 700 ₽ paid in money.
    assert (outcome.max_spend, outcome.bonus_spent, outcome.to_pay) == (30000, 30000, 70000)
    assert outcome.accrual == 3500
    no_spend = quote(program, Cart(lines=(line(1, 100000),)))
    assert no_spend.accrual == 5000  # 1 000 ₽ earns 50 bonuses


def test_the_evobonus_program_freezes_for_14_days_burns_after_90_and_gives_every_3rd_item(
    merchant, actor
):
    program = made(merchant, actor, "frozen_burning")
    outcome = quote(program, Cart(lines=(line(1, 10000, qty=3),)))
    assert outcome.discount == 10000  # three items of 100 ₽: one is free
    assert outcome.to_pay == 20000
    assert outcome.accrual == 1000  # 5 % of the 200 ₽ paid
    assert outcome.accrual_available_from == NOW + timedelta(days=14)
    assert outcome.accrual_expires_at == NOW + timedelta(days=90)
    [campaign] = Campaign.objects.filter(program=program)
    assert (campaign.kind, campaign.n) == (Campaign.Kind.NTH_FREE, 3)


def test_the_cinema_program_pays_10_percent_of_a_ticket_and_rewards_20_visits_in_30_days(
    merchant, actor
):
    with translation.override("ru"):
        program = made(merchant, actor, "cinema_levels")
    tickets = Segment.objects.get(merchant=merchant, name="Билеты")
    assert Segment.objects.filter(merchant=merchant, name="Бар").exists()
    ticket = Cart(lines=(line(1, 10000, segments={tickets.pk}),), requested_spend=None)
    outcome = quote(program, ticket)
    # A ticket of 100 ₽: up to 10 bonuses + 90 ₽.
    assert (outcome.bonus_spent, outcome.to_pay) == (1000, 9000)

    guest = quote(program, Cart(lines=(line(1, 100000),)))
    assert (guest.level_before.name, guest.accrual) == ("Гость", 5000)
    regular = CustomerState(
        available=0, activity=((0, Activity(visits=20)), (30, Activity(visits=20)))
    )
    lover = quote(program, Cart(lines=(line(1, 100000),)), customer=regular)
    assert (lover.level_before.name, lover.accrual) == ("Киноман", 10000)


def test_the_cinema_template_uses_the_merchants_segments_when_they_exist(merchant, actor):
    with translation.override("ru"):
        bar = catalog.segment_create(merchant=merchant, name="Бар", actor=actor)
        made(merchant, actor, "cinema_levels")
    assert list(Segment.objects.filter(merchant=merchant, name="Бар")) == [bar]


@pytest.mark.parametrize(("total", "accrual"), [(490000, 9800), (500000, 25000)])
def test_the_pharmacy_steps_give_98_for_4900_and_250_for_5000(merchant, actor, total, accrual):
    program = made(merchant, actor, "pharmacy_steps")
    assert quote(program, Cart(lines=(line(1, total),))).accrual == accrual


def test_the_accumulative_discount_grows_with_the_purchases(merchant, actor):
    program = made(merchant, actor, "accumulative_discount")
    cart = Cart(lines=(line(1, 100000),))
    assert quote(program, cart, CustomerState(purchase_total=0)).discount == 0
    assert quote(program, cart, CustomerState(purchase_total=1000000)).discount == 3000
    regular = quote(program, cart, CustomerState(purchase_total=3000000))
    assert (regular.discount, regular.to_pay) == (5000, 95000)  # 1 000 ₽ costs 950 ₽
    assert quote(program, cart, CustomerState(purchase_total=5000000)).discount == 7000


def test_the_fixed_discount_takes_5_percent_off(merchant, actor):
    program = made(merchant, actor, "fixed_discount")
    outcome = quote(program, Cart(lines=(line(1, 100000),)), CustomerState())
    assert (outcome.discount, outcome.to_pay, outcome.accrual) == (5000, 95000, 0)


def test_a_template_program_takes_the_name_given(merchant, actor):
    assert made(merchant, actor, "bonus", name="  Копилка 5 %  ").name == "Копилка 5 %"
    with translation.override("ru"):
        assert made(merchant, actor, "bonus").name == "Бонусная программа"


def test_an_unknown_template_is_refused_and_nothing_is_made(merchant, actor):
    with translation.override("en"), pytest.raises(InvalidProgram) as refused:
        made(merchant, actor, "no-such-template")
    assert "no such template" in str(refused.value)
    assert not Program.objects.filter(merchant=merchant).exists()


def test_a_template_is_made_all_or_nothing(merchant, actor, monkeypatch):
    from kopilka.programs import services

    def refuse(**kwargs):
        raise InvalidProgram("refused")

    monkeypatch.setattr(services, "campaign_create", refuse)
    with pytest.raises(InvalidProgram):
        made(merchant, actor, "frozen_burning")
    assert not Program.objects.filter(merchant=merchant).exists()
    assert not AuditEvent.objects.filter(action="program.create").exists()

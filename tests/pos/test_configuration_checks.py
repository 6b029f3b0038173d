"""Only what the engine honours can be saved (issue 14): the services refuse, with a typed
error naming the field, every configuration the engine would ignore or fail on; a level's
cap for a segment is the one the till applies; and a change made anywhere, even in a shell,
is what the next quote uses."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from kopilka.catalog import services as catalog
from kopilka.merchants import services as merchants
from kopilka.programs import services as programs
from kopilka.programs.exceptions import (
    ArchivedConfiguration,
    CampaignsCollide,
    InvalidAccrualRule,
    InvalidCampaign,
    InvalidLevel,
    InvalidProgram,
)
from kopilka.programs.models import Campaign, Level, Program
from kopilka.programs.selectors import campaigns_for, program_get, to_rules

from .conftest import line

JUNE = datetime(2026, 6, 1, tzinfo=UTC)


def refused_on(error_type, field, call, **kwargs):
    with pytest.raises(error_type) as refused:
        call(**kwargs)
    assert refused.value.details.get("field") == field, refused.value.details
    assert str(refused.value.message)  # a sentence, not a code
    return refused.value


def campaign(merchant, actor, **fields):
    fields.setdefault("name", "Акция")
    return programs.campaign_create(merchant=merchant, actor=actor, **fields)


# --- campaigns ---------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1])
def test_every_0th_or_1st_item_free_is_refused(merchant, actor, n):
    refused_on(InvalidCampaign, "n", campaign, merchant=merchant, actor=actor, kind="nth_free", n=n)
    assert not Campaign.objects.exists()


def test_every_second_item_free_is_saved(merchant, actor):
    assert campaign(merchant, actor, kind="nth_free", n=2).n == 2


@pytest.mark.parametrize("multiplier", [Decimal("0"), Decimal("-2"), Decimal("1")])
def test_a_multiplier_that_removes_or_changes_nothing_is_refused(merchant, actor, multiplier):
    refused_on(
        InvalidCampaign,
        "multiplier",
        campaign,
        merchant=merchant,
        actor=actor,
        kind="multiplier",
        multiplier=multiplier,
    )


@pytest.mark.parametrize("extra", [Decimal("0"), Decimal("150")])
def test_an_extra_percent_outside_0_to_100_is_refused(merchant, actor, extra):
    with pytest.raises(InvalidProgram):
        campaign(merchant, actor, kind="extra_percent", extra_percent=extra)


def test_a_figure_of_another_kind_is_refused(merchant, actor):
    refused_on(
        InvalidCampaign,
        "multiplier",
        campaign,
        merchant=merchant,
        actor=actor,
        kind="nth_free",
        n=3,
        multiplier=Decimal("2"),
    )


def test_a_gift_set_must_name_the_merchants_products(merchant, actor, product):
    product("SHAMPOO")
    product("COMB")
    refused_on(
        InvalidCampaign,
        "set_items",
        campaign,
        merchant=merchant,
        actor=actor,
        kind="gift",
        set_items=[{"sku": "SHAMPO", "qty": 2}],
        gift_sku="COMB",
    )
    refused_on(
        InvalidCampaign,
        "gift_sku",
        campaign,
        merchant=merchant,
        actor=actor,
        kind="gift",
        set_items=[{"sku": "SHAMPOO", "qty": 2}],
        gift_sku="BRUSH",
    )
    refused_on(
        InvalidCampaign,
        "set_items",
        campaign,
        merchant=merchant,
        actor=actor,
        kind="gift",
        set_items=[{"sku": "SHAMPOO", "qty": 0}],
        gift_sku="COMB",
    )
    gift = campaign(
        merchant,
        actor,
        kind="gift",
        set_items=[{"sku": "SHAMPOO", "qty": 2}],
        gift_sku="COMB",
    )
    assert gift.gift_sku == "COMB"


def test_another_merchants_product_does_not_make_a_gift_known(
    merchant, other_merchant, actor, product
):
    from kopilka.catalog.services import product_create

    product("SHAMPOO")
    product_create(merchant=other_merchant, sku="COMB", name="Расчёска", actor=actor)
    refused_on(
        InvalidCampaign,
        "gift_sku",
        campaign,
        merchant=merchant,
        actor=actor,
        kind="gift",
        set_items=[{"sku": "SHAMPOO", "qty": 1}],
        gift_sku="COMB",
    )


def test_negative_thresholds_limits_of_zero_and_empty_periods_are_refused(merchant, actor):
    common = {"merchant": merchant, "actor": actor, "kind": "fixed_bonus", "bonus": 10000}
    refused_on(InvalidCampaign, "min_amount", campaign, min_amount=-1, **common)
    refused_on(InvalidCampaign, "usage_limit", campaign, usage_limit=0, **common)
    refused_on(InvalidCampaign, "ends_at", campaign, starts_at=JUNE, ends_at=JUNE, **common)
    refused_on(InvalidCampaign, "bonus", campaign, **{**common, "bonus": 0})


def test_an_accrual_campaign_of_a_discount_program_is_refused(merchant, actor):
    discounts = programs.program_create(
        merchant=merchant, name="Скидки", kind=Program.Kind.FIXED_DISCOUNT, actor=actor
    )
    refused_on(
        InvalidCampaign,
        "program",
        campaign,
        merchant=merchant,
        actor=actor,
        kind="multiplier",
        multiplier=2,
        program=discounts,
    )


def test_two_exclusive_campaigns_of_equal_priority_that_overlap_are_refused(merchant, actor):
    first = campaign(merchant, actor, kind="nth_free", n=3, exclusive=True, priority=5)
    error = refused_on(
        CampaignsCollide,
        "priority",
        campaign,
        merchant=merchant,
        actor=actor,
        kind="nth_free",
        n=2,
        exclusive=True,
        priority=5,
        starts_at=JUNE,
    )
    assert first.name in str(error.message)
    # A non-exclusive one at the same priority is just as undecidable.
    refused_on(
        CampaignsCollide,
        "priority",
        campaign,
        merchant=merchant,
        actor=actor,
        kind="nth_free",
        n=2,
        priority=5,
    )


def test_exclusive_campaigns_apart_in_priority_time_or_stores_are_saved(merchant, actor):
    here = merchants.store_create(merchant=merchant, name="Здесь", actor=actor)
    there = merchants.store_create(merchant=merchant, name="Там", actor=actor)
    june = {"starts_at": JUNE, "ends_at": JUNE + timedelta(days=30)}
    campaign(
        merchant, actor, kind="nth_free", n=3, exclusive=True, priority=5, stores=[here], **june
    )
    campaign(merchant, actor, kind="nth_free", n=3, exclusive=True, priority=6)
    campaign(merchant, actor, kind="nth_free", n=3, exclusive=True, priority=5, stores=[there])
    campaign(
        merchant,
        actor,
        kind="nth_free",
        n=3,
        exclusive=True,
        priority=5,
        stores=[here],
        starts_at=JUNE + timedelta(days=30),  # the first one ends as this one starts
    )
    assert Campaign.objects.count() == 4


def test_switching_a_paused_campaign_back_on_is_checked_again(merchant, actor):
    first = campaign(merchant, actor, kind="nth_free", n=3, exclusive=True, enabled=False)
    campaign(merchant, actor, kind="nth_free", n=2, exclusive=True)
    refused_on(
        CampaignsCollide,
        "priority",
        programs.campaign_update,
        campaign=first,
        actor=actor,
        enabled=True,
    )


# --- rules, caps, steps, levels ----------------------------------------------------------------


def test_accrual_steps_outside_0_to_100_percent_or_below_zero_are_refused(bonus_program, actor):
    refused_on(
        InvalidAccrualRule,
        "steps",
        programs.accrual_rule_set,
        program=bonus_program,
        steps=[(0, 101)],
        actor=actor,
    )
    refused_on(
        InvalidAccrualRule,
        "steps",
        programs.accrual_rule_set,
        program=bonus_program,
        steps=[(-100, 5)],
        actor=actor,
    )
    assert not bonus_program.accrual_rules.exists()


def test_a_second_whole_receipt_rule_and_a_segment_in_two_rules_are_refused(
    merchant, bonus_program, actor
):
    bar = catalog.segment_create(merchant=merchant, name="Бар", actor=actor)
    first = programs.accrual_rule_set(program=bonus_program, steps=[(0, 2)], actor=actor)
    refused_on(
        InvalidAccrualRule,
        "segments",
        programs.accrual_rule_set,
        program=bonus_program,
        steps=[(0, 5)],
        actor=actor,
    )
    programs.accrual_rule_set(program=bonus_program, steps=[(0, 5)], segments=[bar], actor=actor)
    refused_on(
        InvalidAccrualRule,
        "segments",
        programs.accrual_rule_set,
        program=bonus_program,
        steps=[(0, 7)],
        segments=[bar],
        actor=actor,
    )
    # Replacing a rule's own steps is not a second rule.
    programs.accrual_rule_set(program=bonus_program, steps=[(0, 3)], rule=first, actor=actor)
    assert bonus_program.accrual_rules.count() == 2


def test_caps_and_rules_of_a_discount_program_are_refused(merchant, actor):
    discounts = programs.program_create(
        merchant=merchant,
        name="Скидки",
        kind=Program.Kind.ACCUMULATIVE_DISCOUNT,
        actor=actor,
    )
    bar = catalog.segment_create(merchant=merchant, name="Бар", actor=actor)
    with pytest.raises(InvalidProgram):
        programs.segment_cap_set(program=discounts, segment=bar, max_share_percent=10, actor=actor)
    with pytest.raises(InvalidAccrualRule):
        programs.accrual_rule_set(program=discounts, steps=[(0, 5)], actor=actor)
    refused_on(
        InvalidLevel,
        "cashback_percent",
        programs.level_create,
        program=discounts,
        name="Золото",
        priority=1,
        actor=actor,
        cashback_percent=5,
    )


def test_a_segment_cap_above_100_percent_is_refused(merchant, bonus_program, actor):
    bar = catalog.segment_create(merchant=merchant, name="Бар", actor=actor)
    with pytest.raises(InvalidProgram):
        programs.segment_cap_set(
            program=bonus_program, segment=bar, max_share_percent=150, actor=actor
        )
    assert not bonus_program.segment_caps.exists()


def test_discount_steps_of_a_bonus_program_or_below_zero_are_refused(
    merchant, bonus_program, actor
):
    refused_on(
        InvalidProgram,
        "discount_steps",
        programs.discount_steps_set,
        program=bonus_program,
        steps=[(0, 3)],
        actor=actor,
    )
    discounts = programs.program_create(
        merchant=merchant, name="Скидки", kind=Program.Kind.ACCUMULATIVE_DISCOUNT, actor=actor
    )
    refused_on(
        InvalidProgram,
        "discount_steps",
        programs.discount_steps_set,
        program=discounts,
        steps=[(-1, 3)],
        actor=actor,
    )


def test_negative_level_thresholds_are_refused(merchant, bonus_program, actor):
    bar = catalog.segment_create(merchant=merchant, name="Бар", actor=actor)
    refused_on(
        InvalidLevel,
        "segments",
        programs.level_create,
        program=bonus_program,
        name="Бар",
        priority=1,
        actor=actor,
        segments={bar: {"min_spend": -100}},
    )


def test_a_level_without_thresholds_above_another_is_refused(bonus_program, actor):
    programs.level_create(
        program=bonus_program, name="Серебро", priority=1, min_spend=100000, actor=actor
    )
    refused_on(
        InvalidLevel,
        "priority",
        programs.level_create,
        program=bonus_program,
        name="Все",
        priority=2,
        actor=actor,
    )
    assert list(bonus_program.levels.values_list("name", flat=True)) == ["Серебро"]


# --- the cap the till applies ------------------------------------------------------------------


def test_a_levels_50_percent_ticket_cap_is_not_replaced_by_the_programs_30(
    till, merchant, bonus_program, category, product, make_customer, actor
):
    tickets_category = category("Билеты")
    product("TICKET", category=tickets_category)
    tickets = catalog.segment_create(
        merchant=merchant, name="Билеты", actor=actor, categories=[tickets_category]
    )
    programs.program_update(program=bonus_program, actor=actor, max_share_percent=30)
    level = programs.level_create(
        program=bonus_program,
        name="Все",
        priority=1,
        actor=actor,
        segments={tickets: {"max_share_percent": 50}},
    )
    quote = till.post(
        "/receipts/quote",
        {
            "customer": {"id": make_customer().pk},
            "lines": [line(1, "TICKET", 10000), line(2, "POPCORN", 10000)],
        },
    ).json()
    assert [o["bonus_cap"] for o in quote["lines"]] == [5000, 3000]
    caps = [[r["source"] for r in o["reasons"] if r["code"] == "bonus_cap"] for o in quote["lines"]]
    assert caps == [[f"level:{level.pk}/segment:{tickets.pk}"], [f"program:{bonus_program.pk}"]]


# --- every change reaches the till's cached configuration ----------------------------------------


def as_the_till_reads_it(program):
    """The program row as a till reads it on its next receipt, and its configuration."""
    return to_rules(program_get(merchant=program.merchant, pk=program.pk))


def test_a_level_deleted_in_a_shell_is_gone_from_the_next_quote(bonus_program, actor):
    level = programs.level_create(
        program=bonus_program, name="Золото", priority=1, cashback_percent=5, actor=actor
    )
    assert [lv.name for lv in as_the_till_reads_it(bonus_program).levels] == ["Золото"]
    Level.objects.get(pk=level.pk).delete()  # what the tester did in `manage.py shell`
    assert as_the_till_reads_it(bonus_program).levels == ()


def test_orm_edits_of_segments_stores_and_steps_reach_the_next_quote(
    merchant, bonus_program, actor
):
    bar = catalog.segment_create(merchant=merchant, name="Бар", actor=actor)
    store = merchants.store_create(merchant=merchant, name="Центр", actor=actor)
    rule = programs.accrual_rule_set(program=bonus_program, steps=[(0, 2)], actor=actor)
    level = programs.level_create(
        program=bonus_program, name="Золото", priority=1, actor=actor, segments={bar: {}}
    )
    assert as_the_till_reads_it(bonus_program).store_ids is None

    bonus_program.stores.add(store)
    assert as_the_till_reads_it(bonus_program).store_ids == frozenset({store.pk})

    step = rule.steps.get()
    step.percent = Decimal("4")
    step.save()
    [seen] = as_the_till_reads_it(bonus_program).accrual_rules
    assert seen.steps[0].percent == Decimal("0.04")

    figures = level.segments.get()
    figures.max_share_percent = Decimal("40")
    figures.save()
    [gold] = as_the_till_reads_it(bonus_program).levels
    assert gold.max_share_by_segment == ((bar.pk, Decimal("0.4")),)

    bar.delete()  # takes the rule's and the level's rows for it along
    [gold] = as_the_till_reads_it(bonus_program).levels
    assert gold.max_share_by_segment == ()


# --- switching off and removing ------------------------------------------------------------------


def test_a_level_with_history_is_archived_not_deleted_and_leaves_the_engine(
    bonus_program, make_customer, actor
):
    gold = programs.level_create(
        program=bonus_program, name="Золото", priority=1, cashback_percent=5, actor=actor
    )
    programs.level_assign(customer=make_customer(), level=gold, reason="Друг", actor=actor)
    assert programs.level_remove(level=gold, actor=actor) == programs.ARCHIVED
    gold.refresh_from_db()
    assert gold.archived_at is not None
    assert gold.assignments.count() == 1  # history keeps it
    assert as_the_till_reads_it(bonus_program).levels == ()
    with pytest.raises(ArchivedConfiguration):
        programs.level_assign(customer=make_customer(), level=gold, reason="Ещё", actor=actor)
    # Its priority is free for a new level, and switching it back on then says why not.
    programs.level_create(program=bonus_program, name="Новое", priority=1, actor=actor)
    refused_on(InvalidLevel, "priority", programs.level_switch, level=gold, on=True, actor=actor)


def test_a_level_nothing_refers_to_is_deleted(bonus_program, actor):
    gold = programs.level_create(program=bonus_program, name="Золото", priority=1, actor=actor)
    assert programs.level_remove(level=gold, actor=actor) == programs.DELETED
    assert not Level.objects.filter(pk=gold.pk).exists()


def test_a_level_switched_off_and_on_again_is_back_at_the_till(bonus_program, actor):
    gold = programs.level_create(program=bonus_program, name="Золото", priority=1, actor=actor)
    programs.level_switch(level=gold, on=False, actor=actor)
    assert as_the_till_reads_it(bonus_program).levels == ()
    programs.level_switch(level=gold, on=True, actor=actor)
    assert [lv.name for lv in as_the_till_reads_it(bonus_program).levels] == ["Золото"]


def test_a_used_campaign_is_archived_and_no_longer_runs(
    till, merchant, bonus_program, make_customer, actor
):
    third = campaign(merchant, actor, kind="nth_free", n=3)
    customer = make_customer()
    sold = till.confirm(
        {
            "customer": {"id": customer.pk},
            "lines": [line(1, "YOG", 7900, qty="3")],
            "external_number": "1",
        }
    ).json()
    assert sold["campaigns"] == [third.pk]
    assert programs.campaign_remove(campaign=third, actor=actor) == programs.ARCHIVED
    assert third.uses.count() == 1
    assert campaigns_for(merchant=merchant, program=bonus_program) == ()


def test_an_archived_accrual_rule_no_longer_accrues_and_frees_its_place(
    till, merchant, bonus_program, make_customer, actor
):
    rule = programs.accrual_rule_set(program=bonus_program, steps=[(0, 5)], actor=actor)
    sold = till.confirm(
        {
            "customer": {"id": make_customer().pk},
            "lines": [line(1, "A", 10000)],
            "external_number": "1",
        }
    ).json()
    assert sold["totals"]["accrual"] == 500
    assert programs.accrual_rule_delete(rule=rule, actor=actor) == programs.ARCHIVED
    assert as_the_till_reads_it(bonus_program).accrual_rules == ()
    programs.accrual_rule_set(program=bonus_program, steps=[(0, 2)], actor=actor)


def test_a_multiplier_above_the_documented_maximum_is_refused(merchant, actor):
    from kopilka import bounds
    from kopilka.programs.exceptions import InvalidProgram

    with pytest.raises(InvalidProgram) as refused:
        programs.campaign_create(
            merchant=merchant,
            name="x1000",
            kind="multiplier",
            multiplier=bounds.MAX_CAMPAIGN_MULTIPLIER + 1,
            actor=actor,
        )
    assert refused.value.details["field"] == "multiplier"


def test_a_welcome_bonus_above_the_largest_grant_is_refused(merchant, actor):
    from kopilka import bounds
    from kopilka.programs.exceptions import InvalidProgram

    with pytest.raises(InvalidProgram) as refused:
        programs.program_create(
            merchant=merchant, name="Щедрая", welcome_bonus=bounds.MAX_BONUS_GRANT + 1, actor=actor
        )
    assert refused.value.details["field"] == "welcome_bonus"


def test_a_fixed_bonus_with_a_lifetime_of_its_own_is_refused_as_the_till_would_ignore_it(
    merchant, actor
):
    from kopilka.programs.exceptions import InvalidProgram

    with pytest.raises(InvalidProgram) as refused:
        programs.campaign_create(
            merchant=merchant,
            name="50 бонусов за покупку",
            kind="fixed_bonus",
            bonus=50_00,
            bonus_lifetime_days=7,
            actor=actor,
        )
    assert refused.value.details["field"] == "bonus_lifetime_days"

"""Marketing campaigns on worked examples, without any database. Money in kopecks."""

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest

from kopilka.rules.campaigns import Campaign, applicable, apply_campaigns
from kopilka.rules.model import CartLine, Reason

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
MEMBER = frozenset()  # an identified customer in no group
DAIRY, TOBACCO = 1, 2


def line(no, price, qty=1, sku=None, **flags):
    return CartLine(line_no=no, sku=sku or f"SKU{no}", qty=Fraction(qty), unit_price=price, **flags)


def amounts(lines):
    return [int(ln.qty * ln.unit_price) - ln.pos_discount for ln in lines]


def run(campaigns, lines, *, groups=MEMBER, store_id=1, now=NOW):
    return apply_campaigns(
        campaigns,
        tuple(lines),
        amounts(lines),
        now=now,
        store_id=store_id,
        customer_group_ids=groups,
    )


def third_free(cid=1, **kw):
    return Campaign(id=cid, kind="nth_free", n=3, **kw)


# nth_free


def test_every_third_item_free_3_yogurts_at_79_take_79_off():
    effects = run([third_free()], [line(1, 7900, qty=3, sku="YOGURT")])
    assert effects.line_discounts == (7900,)
    assert effects.applied == (1,)
    assert effects.reasons == ((0, Reason("nth_item_free", "campaign:1", "3")),)


def test_seven_units_at_mixed_prices_make_the_two_cheapest_free():
    lines = [line(1, 5000, qty=2), line(2, 3000), line(3, 9000, qty=3), line(4, 3000)]
    effects = run([third_free()], lines)
    # 7 units -> 2 free: the two 30.00 units, the first on line order
    assert effects.line_discounts == (0, 3000, 0, 3000)


def test_two_free_units_can_come_from_one_line():
    effects = run([third_free()], [line(1, 1000, qty=6), line(2, 500)])
    assert effects.line_discounts == (1000, 500)  # 7 units -> 2 free: the 5.00 one, one 10.00


def test_fractional_quantities_never_count_as_units():
    cheese = line(1, 100000, qty=Fraction("2.5"))
    assert run([third_free()], [cheese]).line_discounts == (0,)
    assert run([third_free()], [cheese, line(2, 4000)]).line_discounts == (0, 4000)
    halves = [line(1, 1000, qty=Fraction("0.5")) for _ in range(6)]
    assert run([third_free()], halves).applied == ()


def test_a_free_unit_never_discounts_more_than_is_left_of_the_line():
    # The till already took 70.00 off a 79.00 x 3 line: at most what is left goes.
    effects = run([third_free()], [line(1, 7900, qty=3, pos_discount=23000)])
    assert effects.line_discounts == (700,)


def test_no_discount_lines_are_untouched_and_do_not_count():
    cigarettes = line(1, 20000, qty=3, segment_ids=frozenset({TOBACCO}), no_discount=True)
    effects = run([third_free()], [cigarettes, line(2, 500, qty=2)])
    assert effects.line_discounts == (0, 0)
    assert effects.applied == ()


def test_the_segment_restricts_the_units_counted_and_discounted():
    milk = line(1, 8000, qty=2, segment_ids=frozenset({DAIRY}))
    cheap_bread = line(2, 3000)
    kefir = line(3, 9000, segment_ids=frozenset({DAIRY, 5}))
    effects = run([third_free(segment_ids=frozenset({DAIRY}))], [milk, cheap_bread, kefir])
    assert effects.line_discounts == (8000, 0, 0)


# gift


def coffee_gift(cid=2, **kw):
    return Campaign(
        id=cid, kind="gift", set_skus=(("BEANS", 1), ("MUG", 2)), gift_sku="CANDY", **kw
    )


def test_a_complete_set_makes_one_gift_free():
    lines = [
        line(1, 90000, sku="BEANS"),
        line(2, 40000, qty=2, sku="MUG"),
        line(3, 5000, qty=3, sku="CANDY"),
    ]
    effects = run([coffee_gift()], lines)
    assert effects.line_discounts == (0, 0, 5000)
    assert effects.reasons == ((2, Reason("gift_item", "campaign:2", "1")),)


def test_as_many_gifts_as_complete_sets_but_no_more_than_the_gifts_on_the_receipt():
    two_sets = [line(1, 90000, qty=2, sku="BEANS"), line(2, 40000, qty=5, sku="MUG")]
    one_candy = run([coffee_gift()], [*two_sets, line(3, 5000, sku="CANDY")])
    three_candies = run([coffee_gift()], [*two_sets, line(3, 5000, qty=3, sku="CANDY")])
    assert one_candy.line_discounts[2] == 5000
    assert three_candies.line_discounts[2] == 10000


def test_no_gift_without_a_complete_set_or_without_the_gift_on_the_receipt():
    incomplete = [
        line(1, 90000, sku="BEANS"),
        line(2, 40000, sku="MUG"),
        line(3, 5000, sku="CANDY"),
    ]
    no_candy = [line(1, 90000, sku="BEANS"), line(2, 40000, qty=2, sku="MUG")]
    assert run([coffee_gift()], incomplete).applied == ()
    assert run([coffee_gift()], no_candy).applied == ()


def test_set_units_spread_over_lines_add_up():
    lines = [
        line(1, 90000, sku="BEANS"),
        line(2, 40000, sku="MUG"),
        line(3, 40000, sku="MUG"),
        line(4, 5000, sku="CANDY"),
    ]
    assert run([coffee_gift()], lines).line_discounts == (0, 0, 0, 5000)


def test_a_gift_that_cannot_be_discounted_is_not_given():
    lines = [
        line(1, 90000, sku="BEANS"),
        line(2, 40000, qty=2, sku="MUG"),
        line(3, 5000, sku="CANDY", no_discount=True),
    ]
    assert run([coffee_gift()], lines).line_discounts == (0, 0, 0)


def test_buy_two_get_the_third_free_when_the_gift_is_in_its_own_set():
    two_plus_one = Campaign(id=3, kind="gift", set_skus=(("TEA", 2),), gift_sku="TEA")
    # The units bought for the set are not the gift: 2 units give nothing, 3 give one.
    assert run([two_plus_one], [line(1, 10000, qty=2, sku="TEA")]).applied == ()
    assert run([two_plus_one], [line(1, 10000, qty=3, sku="TEA")]).line_discounts == (10000,)
    assert run([two_plus_one], [line(1, 10000, qty=5, sku="TEA")]).line_discounts == (10000,)
    assert run([two_plus_one], [line(1, 10000, qty=6, sku="TEA")]).line_discounts == (20000,)
    # The cheaper tea is the gift; the set may use a no_discount line.
    lines = [line(1, 12000, qty=2, sku="TEA", no_discount=True), line(2, 10000, sku="TEA")]
    assert run([two_plus_one], lines).line_discounts == (0, 10000)


# Accrual campaigns


def test_a_multiplier_and_an_extra_percent_are_reported_per_qualifying_accruing_line():
    lines = [
        line(1, 10000, segment_ids=frozenset({DAIRY})),
        line(2, 10000),
        line(3, 10000, segment_ids=frozenset({DAIRY}), no_accrual=True),
    ]
    double = Campaign(
        id=1, kind="multiplier", multiplier=Fraction(2), segment_ids=frozenset({DAIRY})
    )
    plus3 = Campaign(id=2, kind="extra_percent", extra_percent=Fraction(3, 100))
    triple = Campaign(id=3, kind="multiplier", multiplier=Fraction(3, 2))
    effects = run([double, plus3, triple], lines)
    assert effects.accrual_multiplier == (3, Fraction(3, 2), 1)
    assert effects.accrual_extra_percent == (Fraction(3, 100), Fraction(3, 100), 0)
    assert effects.line_discounts == (0, 0, 0)
    assert effects.applied == (1, 2, 3)
    assert (0, Reason("bonus_multiplier", "campaign:1", "x2")) in effects.reasons
    assert (1, Reason("extra_percent", "campaign:2", "+3%")) in effects.reasons
    assert (1, Reason("bonus_multiplier", "campaign:3", "x1.5")) in effects.reasons


def test_a_fixed_bonus_is_credited_once_when_qualifying_lines_reach_the_minimum():
    bonus = Campaign(id=4, kind="fixed_bonus", fixed_bonus=10000, min_qualifying_amount=100000)
    enough = run([bonus], [line(1, 60000), line(2, 40000)])
    short = run([bonus], [line(1, 60000), line(2, 39999)])
    assert (enough.fixed_bonus, enough.fixed_bonus_by_campaign) == (10000, ((4, 10000),))
    assert enough.reasons == ((-1, Reason("fixed_bonus", "campaign:4", "10000")),)
    assert (short.fixed_bonus, short.applied) == (0, ())


def test_a_fixed_bonus_needs_a_qualifying_line_worth_something():
    bonus = Campaign(id=4, kind="fixed_bonus", fixed_bonus=5000, segment_ids=frozenset({DAIRY}))
    assert run([bonus], [line(1, 60000)]).fixed_bonus == 0
    assert run([bonus], [line(1, 0, segment_ids=frozenset({DAIRY}))]).fixed_bonus == 0
    excluded = line(1, 60000, segment_ids=frozenset({DAIRY}), no_accrual=True)
    assert run([bonus], [excluded]).fixed_bonus == 0
    assert run([bonus], [line(1, 1, segment_ids=frozenset({DAIRY}))]).fixed_bonus == 5000


def test_a_fixed_bonus_threshold_is_measured_after_campaign_discounts():
    bonus = Campaign(id=4, kind="fixed_bonus", fixed_bonus=5000, min_qualifying_amount=20000)
    lines = [line(1, 10000, qty=3)]  # 300.00, one unit free -> 200.00
    assert run([bonus, third_free(priority=-1)], lines).fixed_bonus == 5000
    lines = [line(1, 9000, qty=3)]  # 270.00 -> 180.00
    assert run([bonus, third_free(priority=-1)], lines).fixed_bonus == 0


# Stacking and exclusivity


def test_stackable_discounts_apply_by_priority_each_on_what_is_left():
    lines = [line(1, 7900, qty=3, sku="YOGURT")]
    half_price = Campaign(id=5, kind="nth_free", n=1, priority=-1)  # every unit free
    effects = run([half_price, third_free()], lines)
    assert effects.line_discounts == (23700,)  # 79.00 first, then the 158.00 left
    assert effects.applied == (1, 5)
    again = run([third_free(), third_free(cid=2)], lines)
    assert again.line_discounts == (15800,)  # two 3rd-free campaigns stack: two free units


def test_a_discount_never_exceeds_the_line_when_campaigns_stack():
    lines = [line(1, 7900, qty=3, sku="YOGURT")]
    everything_free = [Campaign(id=i, kind="nth_free", n=1) for i in range(1, 4)]
    effects = run(everything_free, lines)
    assert effects.line_discounts == (23700,)
    assert effects.applied == (1,)  # the others found nothing left to discount


def test_an_exclusive_campaign_at_the_top_is_the_only_one():
    lines = [line(1, 7900, qty=3)]
    exclusive = Campaign(
        id=9, kind="multiplier", multiplier=Fraction(2), exclusive=True, priority=5
    )
    effects = run([third_free(), exclusive], lines)
    assert effects.applied == (9,)
    assert effects.line_discounts == (0,)


def test_a_lower_exclusive_campaign_gives_way_to_the_stackable_ones():
    lines = [line(1, 7900, qty=3)]
    exclusive = Campaign(id=9, kind="multiplier", multiplier=Fraction(2), exclusive=True)
    effects = run([third_free(priority=1), exclusive, third_free(cid=2)], lines)
    assert effects.applied == (1, 2)
    assert effects.accrual_multiplier == (1,)


def test_ties_on_priority_go_to_the_lower_id():
    a = Campaign(id=7, kind="nth_free", n=2, exclusive=True)
    b = Campaign(id=3, kind="nth_free", n=3, exclusive=True)
    assert [c.id for c in applicable([a, b], now=NOW, store_id=1, customer_group_ids=MEMBER)] == [3]


# Who, where and when


def ids(campaigns, *, now=NOW, store_id=1, groups=MEMBER):
    found = applicable(campaigns, now=now, store_id=store_id, customer_group_ids=groups)
    return [c.id for c in found]


def test_the_period_starts_inclusive_and_ends_exclusive():
    c = third_free(starts_at=NOW, ends_at=NOW + timedelta(days=1))
    assert ids([c]) == [1]
    assert ids([c], now=NOW - timedelta(microseconds=1)) == []
    assert ids([c], now=NOW + timedelta(days=1)) == []
    assert ids([c], now=NOW + timedelta(days=1) - timedelta(microseconds=1)) == [1]


def test_store_restriction():
    c = third_free(store_ids=frozenset({1, 2}))
    assert ids([c], store_id=2) == [1]
    assert ids([c], store_id=3) == []
    assert ids([third_free()], store_id=3) == [1]


def test_group_restriction_and_anonymous_customers():
    vip = third_free(cid=1, group_ids=frozenset({10}))
    everyone = third_free(cid=2)
    members = third_free(cid=3, needs_customer=True)
    double = Campaign(id=4, kind="multiplier", multiplier=Fraction(2))
    assert ids([vip, everyone, members, double], groups=frozenset({10, 11})) == [1, 2, 3, 4]
    assert ids([vip, everyone, members, double], groups=frozenset({11})) == [2, 3, 4]
    assert ids([vip, everyone, members, double], groups=None) == [2]


def test_an_anonymous_customer_gets_discounts_but_no_accrual_campaigns():
    lines = [line(1, 7900, qty=3)]
    exclusive_double = Campaign(
        id=4, kind="multiplier", multiplier=Fraction(2), exclusive=True, priority=9
    )
    effects = run([third_free(), exclusive_double], lines, groups=None)
    assert effects.applied == (1,)
    assert effects.line_discounts == (7900,)


@pytest.mark.parametrize(("uses_left", "expected"), [(None, [1]), (1, [1]), (0, []), (-1, [])])
def test_uses_left(uses_left, expected):
    assert ids([third_free(uses_left=uses_left)]) == expected


def test_campaigns_that_cannot_work_never_apply_nor_block_others():
    broken = [
        Campaign(id=1, kind="nth_free", n=0, exclusive=True, priority=9),
        Campaign(id=2, kind="gift", set_skus=(), gift_sku="X", exclusive=True, priority=9),
        Campaign(id=3, kind="gift", set_skus=(("A", 1),), exclusive=True, priority=9),
        Campaign(id=4, kind="lottery", exclusive=True, priority=9),
        Campaign(id=5, kind="gift", set_skus=(("A", 0),), gift_sku="X", exclusive=True),
    ]
    assert ids([*broken, third_free(cid=6)]) == [6]


def test_amounts_must_match_the_lines():
    with pytest.raises(ValueError):
        apply_campaigns(
            [third_free()], (line(1, 100),), [], now=NOW, store_id=1, customer_group_ids=MEMBER
        )


def test_nothing_applicable_changes_nothing():
    lines = [line(1, 7900, qty=3), line(2, 100)]
    effects = run([], lines)
    assert effects.applied == () and effects.reasons == ()
    assert effects.line_discounts == (0, 0)
    assert effects.accrual_multiplier == (1, 1)
    assert effects.accrual_extra_percent == (0, 0)
    assert (effects.fixed_bonus, effects.fixed_bonus_by_campaign) == (0, ())

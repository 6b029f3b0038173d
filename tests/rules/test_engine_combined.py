"""Combined programs (seed 002: "совмещённые системы"): a discount and bonuses on the same
receipt, in the order of the design handbook (section 7): discount first, then payment by
bonuses and accrual on what the discount left. And when a new lot's lifetime starts: from the
accrual (seed 004) or from the end of the freeze, the program's choice.

Money in kopecks: 100 = 1 rouble = 1 bonus. Every expected figure is worked out in a comment.
"""

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest

from kopilka.rules import (
    AccrualRule,
    AccrualStep,
    Activity,
    Cart,
    CartLine,
    CustomerState,
    DiscountStep,
    LevelConfig,
    ProgramConfig,
    burns_before_usable,
    lot_dates,
    quote,
)

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
RICH = CustomerState(available=10**9)


def line(no, price, **flags):
    return CartLine(line_no=no, sku=f"SKU{no}", qty=Fraction(1), unit_price=price, **flags)


def percent(n):
    return Fraction(n, 100)


def flat(pct):
    return AccrualRule(id=1, steps=(AccrualStep(0, percent(pct)),))


def combined(**fields):
    fields.setdefault("accrual_unit", 1)
    return ProgramConfig(id=1, kind="combined", **fields)


def test_a_combined_program_gives_its_fixed_discount_and_accrues_on_what_is_left():
    config = combined(fixed_discount_percent=percent(10), accrual_rules=(flat(5),))
    outcome = quote(config, RICH, Cart(lines=(line(1, 100000),)), now=NOW)
    # 10 % of 1000.00 = 100.00 off; 5 % of the 900.00 left = 45.00 in bonuses.
    assert (outcome.discount, outcome.to_pay, outcome.accrual) == (10000, 90000, 4500)
    codes = [reason.code for reason in outcome.lines[0].reasons]
    assert codes == ["program_discount", "accrual_percent"]


def test_bonuses_pay_up_to_the_cap_of_the_discounted_amount_and_accrue_on_the_money_part():
    config = combined(
        fixed_discount_percent=percent(10), accrual_rules=(flat(5),), max_share=percent(50)
    )
    cart = Cart(lines=(line(1, 100000),), requested_spend=None)
    outcome = quote(config, RICH, cart, now=NOW)
    # After the discount 900.00; half of it payable by bonuses: 450.00.
    # To pay 1000.00 - 100.00 - 450.00 = 450.00; 5 % of 450.00 = 22.50.
    assert (outcome.discount, outcome.max_spend, outcome.bonus_spent) == (10000, 45000, 45000)
    assert (outcome.to_pay, outcome.accrual) == (45000, 2250)


def test_no_accrual_on_discounted_items_when_the_program_says_so():
    config = combined(
        fixed_discount_percent=percent(10), accrual_rules=(flat(5),), accrue_on_discounted=False
    )
    cart = Cart(lines=(line(1, 100000), line(2, 20000, no_discount=True)))
    outcome = quote(config, RICH, cart, now=NOW)
    # Line 1 takes 100.00 off and so earns nothing; line 2 takes no discount and earns
    # 5 % of 200.00 = 10.00.
    assert [o.discount for o in outcome.lines] == [10000, 0]
    assert [o.accrual for o in outcome.lines] == [0, 1000]
    assert "discounted_line_earns_nothing" in [r.code for r in outcome.lines[0].reasons]


def test_accumulative_steps_choose_the_discount_by_earlier_purchases():
    config = combined(
        discount_steps=(DiscountStep(0, percent(0)), DiscountStep(300000, percent(5))),
        accrual_rules=(flat(2),),
    )
    assert config.discount_by_purchases
    cart = Cart(lines=(line(1, 200000),))
    newcomer = quote(config, CustomerState(purchase_total=0), cart, now=NOW)
    regular = quote(config, CustomerState(purchase_total=300000), cart, now=NOW)
    # Newcomer: no discount, 2 % of 2000.00 = 40.00.
    assert (newcomer.discount, newcomer.accrual) == (0, 4000)
    # From 3000.00 of purchases: 5 % of 2000.00 = 100.00 off, 2 % of 1900.00 = 38.00.
    assert (regular.discount, regular.accrual) == (10000, 3800)


def test_a_levels_own_discount_and_cashback_replace_the_programs():
    gold = LevelConfig(
        id=7, name="Gold", priority=2, min_spend=100000, discount=percent(7), cashback=percent(3)
    )
    config = combined(fixed_discount_percent=percent(10), accrual_rules=(flat(5),), levels=(gold,))
    customer = CustomerState(activity=((0, Activity(spend=100000)),))
    outcome = quote(config, customer, Cart(lines=(line(1, 100000),)), now=NOW)
    # 7 % of 1000.00 = 70.00 off; 3 % of the 930.00 left = 27.90.
    assert (outcome.discount, outcome.accrual) == (7000, 2790)
    assert outcome.lines[0].reasons[0].source == "level:7"


def test_an_anonymous_receipt_gets_the_discount_but_no_bonuses():
    config = combined(fixed_discount_percent=percent(10), accrual_rules=(flat(5),))
    outcome = quote(config, None, Cart(lines=(line(1, 100000),)), now=NOW)
    assert (outcome.discount, outcome.to_pay, outcome.accrual) == (10000, 90000, 0)


@pytest.mark.parametrize(
    ("kind", "discount", "accrual"),
    [
        ("bonus", 0, 5000),  # 5 % of 1000.00; a bonus program gives no discount
        ("fixed_discount", 10000, 0),  # 10 % off; a discount program accrues nothing
        ("combined", 10000, 4500),  # both: 5 % of 900.00
    ],
)
def test_each_kind_gives_what_it_says(kind, discount, accrual):
    config = ProgramConfig(
        id=1,
        kind=kind,
        fixed_discount_percent=percent(10),
        accrual_rules=(flat(5),),
        accrual_unit=1,
    )
    outcome = quote(config, RICH, Cart(lines=(line(1, 100000),)), now=NOW)
    assert (outcome.discount, outcome.accrual) == (discount, accrual)


# --- when a lot's lifetime starts ------------------------------------------------------------


def test_the_lifetime_counts_from_the_accrual_or_from_the_end_of_the_freeze():
    # Frozen 14 days, living 90: from accrual it burns on day 90, from the end of the freeze
    # on day 14 + 90 = 104; usable from day 14 either way.
    assert lot_dates(NOW, freeze_days=14, lifetime_days=90, lifetime_from_accrual=True) == (
        NOW + timedelta(days=14),
        NOW + timedelta(days=90),
    )
    assert lot_dates(NOW, freeze_days=14, lifetime_days=90, lifetime_from_accrual=False) == (
        NOW + timedelta(days=14),
        NOW + timedelta(days=104),
    )
    assert lot_dates(NOW, freeze_days=14, lifetime_days=None, lifetime_from_accrual=True) == (
        NOW + timedelta(days=14),
        None,
    )


def test_a_quote_dates_the_accrual_from_the_accrual_and_names_the_burn_date():
    config = ProgramConfig(
        id=1,
        accrual_rules=(flat(5),),
        freeze_days=14,
        lifetime_days=90,
        lifetime_from_accrual=True,
    )
    outcome = quote(config, RICH, Cart(lines=(line(1, 10000),)), now=NOW)
    assert outcome.accrual_available_from == NOW + timedelta(days=14)
    assert outcome.accrual_expires_at == NOW + timedelta(days=90)
    [burns] = [r for r in outcome.reasons if r.code == "accrual_expires"]
    assert (burns.source, burns.value) == ("program:1", "2026-08-30T12:00:00+00:00")
    # Nothing accrued, no burn date.
    nothing = quote(config, RICH, Cart(lines=(line(1, 10),)), now=NOW)  # 5 % of 0.10: 0
    assert nothing.accrual == 0
    assert "accrual_expires" not in [r.code for r in nothing.reasons]


def test_a_levels_own_lifetime_counts_the_same_way_and_is_named_as_the_source():
    silver = LevelConfig(id=4, name="Silver", priority=1, lifetime_days=30, freeze_days=7)
    config = ProgramConfig(
        id=1,
        accrual_rules=(flat(5),),
        freeze_days=14,
        lifetime_days=90,
        lifetime_from_accrual=True,
        levels=(silver,),
    )
    outcome = quote(config, RICH, Cart(lines=(line(1, 10000),)), now=NOW)
    # The level's 7-day freeze and 30-day lifetime, counted from the accrual: day 7, day 30.
    assert outcome.accrual_available_from == NOW + timedelta(days=7)
    assert outcome.accrual_expires_at == NOW + timedelta(days=30)
    [burns] = [r for r in outcome.reasons if r.code == "accrual_expires"]
    assert (burns.source, burns.value) == ("level:4", "2026-07-01T12:00:00+00:00")


@pytest.mark.parametrize(
    ("freeze", "lifetime", "from_accrual", "burns"),
    [
        (30, 30, True, True),  # usable on day 30, burnt on day 30
        (31, 30, True, True),
        (29, 30, True, False),  # one day to spend them
        (30, 30, False, False),  # counted from the end of the freeze: day 30 to day 60
        (30, None, True, False),  # never burn
        (0, 30, True, False),
    ],
)
def test_a_freeze_not_shorter_than_a_lifetime_counted_from_accrual_burns_them_unused(
    freeze, lifetime, from_accrual, burns
):
    assert (
        burns_before_usable(
            freeze_days=freeze, lifetime_days=lifetime, lifetime_from_accrual=from_accrual
        )
        is burns
    )

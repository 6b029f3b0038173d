"""The engine on the seeds' worked examples and on each option, without any database.

Money in kopecks: 100 = 1 rouble = 1 bonus.
"""

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest

from kopilka.rules import (
    AccrualRule,
    AccrualStep,
    Cart,
    CartLine,
    CustomerState,
    DiscountStep,
    ProgramConfig,
    quote,
)
from kopilka.rules.allocation import largest_remainder
from kopilka.rules.engine import InvalidCart

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
RICH = CustomerState(available=10**9)


def line(no, price, qty=1, **flags):
    return CartLine(line_no=no, sku=f"SKU{no}", qty=Fraction(qty), unit_price=price, **flags)


def percent(n):
    return Fraction(n, 100)


def flat(pct, rule_id=1, segments=()):
    return AccrualRule(
        id=rule_id, steps=(AccrualStep(0, percent(pct)),), segment_ids=frozenset(segments)
    )


STEPS_2_5 = AccrualRule(id=1, steps=(AccrualStep(0, percent(2)), AccrualStep(500000, percent(5))))


def test_a_ticket_of_100_with_a_10_percent_cap_pays_10_bonuses_and_90_money():
    config = ProgramConfig(id=1, max_share=percent(10))
    outcome = quote(config, RICH, Cart(lines=(line(1, 10000),), requested_spend=None), now=NOW)
    assert (outcome.max_spend, outcome.bonus_spent, outcome.to_pay) == (1000, 1000, 9000)


def test_paying_7_of_720_with_bonuses_leaves_713_and_accrues_on_713():
    config = ProgramConfig(id=1, accrual_rules=(flat(10),), accrual_unit=1)
    outcome = quote(config, RICH, Cart(lines=(line(1, 72000),), requested_spend=700), now=NOW)
    assert (outcome.bonus_spent, outcome.to_pay) == (700, 71300)
    assert outcome.accrual == 7130  # 10 % of 713


@pytest.mark.parametrize(("total", "accrual"), [(490000, 9800), (500000, 25000)])
def test_steps_of_2_and_5_percent_give_98_for_4900_and_250_for_5000(total, accrual):
    config = ProgramConfig(id=1, accrual_rules=(STEPS_2_5,))
    outcome = quote(config, RICH, Cart(lines=(line(1, total),)), now=NOW)
    assert outcome.accrual == accrual


def test_an_excluded_item_earns_nothing_takes_no_discount_or_bonuses_but_counts_in_the_sum():
    bag = line(2, 900, no_accrual=True, no_discount=True, no_bonus_payment=True)
    config = ProgramConfig(id=1, accrual_rules=(flat(5),), accrual_unit=1)
    outcome = quote(config, RICH, Cart(lines=(line(1, 10000), bag), requested_spend=None), now=NOW)
    bag_outcome = outcome.lines[1]
    assert (bag_outcome.accrual, bag_outcome.bonus_spent, bag_outcome.discount) == (0, 0, 0)
    assert outcome.subtotal == 10900
    assert outcome.bonus_spent == 10000  # only the other line could be paid with bonuses
    discount = ProgramConfig(id=2, kind="fixed_discount", fixed_discount_percent=percent(10))
    discounted = quote(discount, RICH, Cart(lines=(line(1, 10000), bag)), now=NOW)
    assert [o.discount for o in discounted.lines] == [1000, 0]


def test_only_the_goods_and_services_segments_earn_3_percent():
    goods, services, other = 1, 2, 3
    config = ProgramConfig(
        id=1, accrual_rules=(flat(3, segments=(goods, services)),), accrual_unit=1
    )
    cart = Cart(
        lines=(
            line(1, 100000, segment_ids=frozenset({goods})),
            line(2, 50000, segment_ids=frozenset({services})),
            line(3, 70000, segment_ids=frozenset({other})),
        )
    )
    outcome = quote(config, RICH, cart, now=NOW)
    assert [o.accrual for o in outcome.lines] == [3000, 1500, 0]


def test_a_segment_rule_wins_over_the_whole_receipt_rule_for_its_lines():
    bar = 7
    config = ProgramConfig(id=1, accrual_rules=(flat(2), flat(10, rule_id=2, segments=(bar,))))
    cart = Cart(lines=(line(1, 10000, segment_ids=frozenset({bar})), line(2, 10000)))
    assert [o.accrual for o in quote(config, RICH, cart, now=NOW).lines] == [1000, 200]


def test_a_segment_cap_tighter_than_the_program_cap_wins():
    tickets = 4
    config = ProgramConfig(id=1, max_share=percent(50), segment_max_share=((tickets, percent(10)),))
    cart = Cart(
        lines=(line(1, 10000, segment_ids=frozenset({tickets})), line(2, 10000)),
        requested_spend=None,
    )
    outcome = quote(config, RICH, cart, now=NOW)
    assert [o.bonus_cap for o in outcome.lines] == [1000, 5000]
    assert outcome.lines[0].reasons[-1].source == f"segment:{tickets}"


def test_spend_is_limited_by_the_balance_and_by_the_request():
    config = ProgramConfig(id=1)
    cart = Cart(lines=(line(1, 10000),), requested_spend=5000)
    outcome = quote(config, CustomerState(available=3000), cart, now=NOW)
    assert (outcome.max_spend, outcome.bonus_spent) == (3000, 3000)
    assert "spend_capped" in {r.code for r in outcome.reasons}


def test_whole_bonus_spending_rounds_the_maximum_down():
    config = ProgramConfig(id=1, max_share=percent(10), spend_unit=100)
    outcome = quote(config, RICH, Cart(lines=(line(1, 9990),), requested_spend=None), now=NOW)
    assert outcome.bonus_spent == 900  # 9.99 allowed, 9 whole bonuses


def test_no_accrual_on_receipts_paid_partly_with_bonuses_when_the_option_is_off():
    config = ProgramConfig(id=1, accrual_rules=(flat(5),), accrue_when_paid_with_bonuses=False)
    paid = quote(config, RICH, Cart(lines=(line(1, 10000),), requested_spend=100), now=NOW)
    unpaid = quote(config, RICH, Cart(lines=(line(1, 10000),)), now=NOW)
    assert (paid.accrual, unpaid.accrual) == (0, 500)


def test_discounted_lines_earn_only_when_the_program_allows():
    cart = Cart(lines=(line(1, 10000, pos_discount=1000), line(2, 10000)))
    strict = ProgramConfig(id=1, accrual_rules=(flat(10),), accrue_on_discounted=False)
    generous = ProgramConfig(id=1, accrual_rules=(flat(10),))
    assert [o.accrual for o in quote(strict, RICH, cart, now=NOW).lines] == [0, 1000]
    assert [o.accrual for o in quote(generous, RICH, cart, now=NOW).lines] == [900, 1000]


def test_accrual_is_rounded_once_per_receipt_then_split_to_lines():
    config = ProgramConfig(id=1, accrual_rules=(flat(3),), accrual_unit=100)
    cart = Cart(lines=tuple(line(n, 3333) for n in range(1, 4)))  # 3 x 99.99 kopecks of 3 %
    outcome = quote(config, RICH, cart, now=NOW)
    assert outcome.accrual == 200  # 299.97 kopecks -> 2 whole bonuses, not 3 x 0
    assert sum(o.accrual for o in outcome.lines) == 200


def test_frozen_and_expiring_accrual_dates():
    config = ProgramConfig(id=1, accrual_rules=(flat(5),), freeze_days=14, lifetime_days=90)
    outcome = quote(config, RICH, Cart(lines=(line(1, 10000),)), now=NOW)
    assert outcome.accrual_available_from == NOW + timedelta(days=14)
    assert outcome.accrual_expires_at == NOW + timedelta(days=104)


def test_a_store_that_refuses_bonus_payment_still_accrues():
    config = ProgramConfig(id=1, accrual_rules=(flat(5),))
    cart = Cart(lines=(line(1, 10000),), requested_spend=None, store_accepts_bonus_payment=False)
    outcome = quote(config, RICH, cart, now=NOW)
    assert (outcome.bonus_spent, outcome.accrual) == (0, 500)
    assert outcome.reasons[0].code == "store_refuses_bonus_payment"


def test_a_program_of_some_stores_gives_nothing_elsewhere():
    config = ProgramConfig(
        id=1,
        accrual_rules=(flat(5),),
        accrual_unit=1,
        max_share=percent(50),
        store_ids=frozenset({7}),
    )
    lines = (line(1, 10000),)
    there = quote(config, RICH, Cart(lines=lines, requested_spend=None, store_id=7), now=NOW)
    assert (there.accrual, there.bonus_spent) == (250, 5000)  # 5 % of the 50.00 paid in money
    elsewhere = quote(config, RICH, Cart(lines=lines, requested_spend=None, store_id=8), now=NOW)
    assert (elsewhere.subtotal, elsewhere.accrual, elsewhere.max_spend) == (10000, 0, 0)
    assert (elsewhere.reasons[0].code, elsewhere.reasons[0].value) == ("program_not_in_store", "8")


def test_an_inactive_program_gives_nothing_but_the_purchase_still_counts():
    config = ProgramConfig(id=1, accrual_rules=(flat(5),), active_to=NOW)
    outcome = quote(config, RICH, Cart(lines=(line(1, 10000),), requested_spend=None), now=NOW)
    assert (outcome.subtotal, outcome.accrual, outcome.bonus_spent) == (10000, 0, 0)
    assert outcome.reasons[0].code == "program_inactive"


def test_accumulative_discount_steps_by_earlier_purchases():
    config = ProgramConfig(
        id=1,
        kind="accumulative_discount",
        discount_steps=(DiscountStep(0, percent(0)), DiscountStep(1000000, percent(5))),
    )
    cart = Cart(lines=(line(1, 10000),))
    new = quote(config, CustomerState(purchase_total=999999), cart, now=NOW)
    loyal = quote(config, CustomerState(purchase_total=1000000), cart, now=NOW)
    assert (new.discount, loyal.discount, loyal.to_pay) == (0, 500, 9500)


def test_fractional_quantities_are_exact_and_round_half_up_once():
    cheese = CartLine(line_no=1, sku="CH", qty=Fraction("0.345"), unit_price=129990)
    outcome = quote(ProgramConfig(id=1), RICH, Cart(lines=(cheese,)), now=NOW)
    assert outcome.subtotal == 44847  # 0.345 x 1299.90 = 448.4655 roubles


def test_impossible_carts_are_refused():
    with pytest.raises(InvalidCart):
        quote(ProgramConfig(id=1), RICH, Cart(lines=(line(1, 100), line(1, 100))), now=NOW)
    with pytest.raises(InvalidCart):
        quote(ProgramConfig(id=1), RICH, Cart(lines=(line(1, 100, pos_discount=101),)), now=NOW)


def test_largest_remainder_gives_leftover_units_to_the_largest_remainders():
    assert largest_remainder(100, [1, 1, 1]) == [34, 33, 33]
    assert largest_remainder(10, [0, 5, 5]) == [0, 5, 5]
    assert largest_remainder(7, [Fraction(1, 3), Fraction(2, 3)]) == [2, 5]

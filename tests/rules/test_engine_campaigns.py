"""Campaigns inside the quote (seed 002's "N-th item as a gift" and friends)."""

from datetime import UTC, datetime
from fractions import Fraction

from kopilka.rules import (
    AccrualRule,
    AccrualStep,
    Cart,
    CartLine,
    CustomerState,
    ProgramConfig,
    Reason,
    quote,
)
from kopilka.rules.campaigns import Campaign

NOW = datetime(2026, 6, 1, tzinfo=UTC)
YOGURT = CartLine(1, "YOG", Fraction(3), 7900)
CASHBACK = AccrualRule(id=1, steps=(AccrualStep(0, Fraction(5, 100)),))


def test_every_third_yogurt_is_free_and_the_quote_says_why():
    third_free = Campaign(id=7, kind="nth_free", n=3)
    config = ProgramConfig(id=1, campaigns=(third_free,))
    outcome = quote(config, CustomerState(), Cart(lines=(YOGURT,)), now=NOW)
    assert (outcome.discount, outcome.to_pay) == (7900, 15800)
    assert outcome.campaigns_applied == (7,)
    assert any(
        r.code == "nth_item_free" and r.source == "campaign:7" for r in outcome.lines[0].reasons
    )


def test_a_standalone_campaign_works_for_an_anonymous_receipt_without_a_program():
    config = ProgramConfig(id=0, enabled=False, campaigns=(Campaign(id=7, kind="nth_free", n=3),))
    outcome = quote(config, None, Cart(lines=(YOGURT,)), now=NOW)
    assert outcome.discount == 7900


def test_a_multiplier_doubles_the_accrual_and_a_fixed_bonus_comes_on_top():
    config = ProgramConfig(
        id=1,
        accrual_rules=(CASHBACK,),
        accrual_unit=1,
        campaigns=(
            Campaign(id=1, kind="multiplier", multiplier=Fraction(2)),
            Campaign(id=2, kind="fixed_bonus", fixed_bonus=10000),
        ),
    )
    outcome = quote(
        config, CustomerState(), Cart(lines=(CartLine(1, "A", Fraction(1), 10000),)), now=NOW
    )
    assert (outcome.accrual, outcome.campaign_bonus) == (1000, 10000)


def test_campaign_discounts_come_before_the_program_discount():
    config = ProgramConfig(
        id=1,
        kind="fixed_discount",
        fixed_discount_percent=Fraction(10, 100),
        campaigns=(Campaign(id=7, kind="nth_free", n=3),),
    )
    outcome = quote(config, CustomerState(), Cart(lines=(YOGURT,)), now=NOW)
    assert outcome.discount == 7900 + 1580  # 10 % of the 158.00 left


def test_campaigns_never_raise_accrual_above_the_money_paid():
    line = CartLine(line_no=1, sku="A", qty=Fraction(1), unit_price=10000)
    config = ProgramConfig(
        id=1,
        accrual_unit=1,
        accrual_rules=(AccrualRule(id=1, steps=(AccrualStep(0, Fraction(60, 100)),)),),
        campaigns=(Campaign(id=9, kind="multiplier", multiplier=Fraction(3)),),
    )
    outcome = quote(config, CustomerState(), Cart(lines=(line,)), now=NOW)
    assert outcome.accrual == 10000
    assert Reason("accrual_percent", "accrual_rule:1", "100%") in outcome.lines[0].reasons

"""The documented maxima (kopilka.bounds): the one check every face calls, and the engine's
figures for any receipt within them under the most generous configuration allowed, all far
below a bigint (2^63 - 1)."""

from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from types import SimpleNamespace

from hypothesis import example, given
from hypothesis import strategies as st

from kopilka import bounds, rules
from kopilka.bounds import receipt_violation
from kopilka.rules.campaigns import Campaign

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
BIGINT = 2**63 - 1
FIXED_BONUS_CAMPAIGNS = 5


def a_line(no=1, qty="1", price=100, off=0):
    return SimpleNamespace(line_no=no, qty=Decimal(qty), unit_price=price, pos_discount=off)


# ---- receipt_violation: at the maximum nothing, one step above the named bound ----------------


def test_a_receipt_at_every_maximum_breaks_no_bound():
    lines = [a_line(1, "1000", 10**8)] + [a_line(n, "1", 0) for n in range(2, 1001)]
    assert receipt_violation(lines, 10**11) is None
    assert receipt_violation([a_line(1, "1000000", 1)], "max") is None
    assert receipt_violation([a_line(1, "1", 10**11, off=10**11)], 0) is None


def test_one_step_above_each_bound_is_named_with_its_field_and_maximum():
    cases = [
        ([a_line(7, "1000000.001", 1)], 0, ("qty", "lines[0].qty", 10**6, 7)),
        (
            [a_line(1), a_line(2, "1", 10**11 + 1)],
            0,
            ("unit_price", "lines[1].unit_price", 10**11, 2),
        ),
        (
            [a_line(3, "1", 10, off=10**11 + 1)],
            0,
            ("pos_discount", "lines[0].pos_discount", 10**11, 3),
        ),
        # 2 x 50,000,000,000.01 roubles: one line two kopecks above a billion roubles.
        ([a_line(4, "2", 5 * 10**10 + 1)], 0, ("line_amount", "lines[0]", 10**11, 4)),
        ([a_line(n, "1", 1) for n in range(1, 1002)], 0, ("receipt_lines", "lines", 1000, None)),
        ([a_line(1, "1", 10**11), a_line(2, "1", 1)], 0, ("receipt_total", "lines", 10**11, None)),
        ([a_line(1)], 10**11 + 1, ("spend", "spend", 10**11, None)),
    ]
    for lines, spend, (kind, field, maximum, line_no) in cases:
        found = receipt_violation(lines, spend)
        assert (found.kind, found.field, found.maximum, found.line_no) == (
            kind,
            field,
            maximum,
            line_no,
        )


def test_a_million_units_at_the_largest_price_is_ten_to_the_seventeen_and_refused():
    found = receipt_violation([a_line(1, "1000000", 10**11)], 0)
    assert found.kind == "line_amount"
    assert found.value == 10**17


# ---- the engine within the bounds -------------------------------------------------------------

GENEROUS = rules.ProgramConfig(
    id=1,
    accrual_unit=1,
    # 100 % from the first kopeck, the most a percent may be.
    accrual_rules=(
        rules.AccrualRule(id=1, steps=(rules.AccrualStep(0, Fraction(bounds.MAX_PERCENT, 100)),)),
    ),
    campaigns=(
        Campaign(id=1, kind="multiplier", multiplier=Fraction(bounds.MAX_CAMPAIGN_MULTIPLIER)),
        Campaign(id=2, kind="multiplier", multiplier=Fraction(bounds.MAX_CAMPAIGN_MULTIPLIER)),
        Campaign(id=3, kind="extra_percent", extra_percent=Fraction(bounds.MAX_PERCENT, 100)),
        *(
            Campaign(id=10 + i, kind="fixed_bonus", fixed_bonus=bounds.MAX_BONUS_GRANT)
            for i in range(FIXED_BONUS_CAMPAIGNS)
        ),
    ),
)


@st.composite
def carts_within_bounds(draw):
    """Receipts the bounds allow: up to 60 lines, quantities with three decimals, each
    line's quantity x price and the receipt total at most 10^11, biased to the maxima."""
    count = draw(st.integers(1, 60))  # the largest number of lines: the explicit example
    budget = bounds.MAX_RECEIPT_TOTAL
    lines = []
    for no in range(1, count + 1):
        # Thousandths, so that qty x price is an exact bound on the line's amount.
        milli = draw(st.one_of(st.just(1000), st.integers(1, bounds.MAX_QTY * 1000)))
        most = max(0, min(bounds.MAX_UNIT_PRICE, budget // (count - no + 1) * 1000 // milli))
        price = draw(st.one_of(st.just(most), st.integers(0, most)))
        budget -= milli * price // 1000 + 1
        lines.append(
            rules.CartLine(
                line_no=no, sku=f"S{no % 7}", qty=Fraction(milli, 1000), unit_price=price
            )
        )
    return rules.Cart(lines=tuple(lines), requested_spend=0)


@given(carts_within_bounds())
@example(
    rules.Cart(
        lines=tuple(
            rules.CartLine(line_no=n, sku="A", qty=Fraction(1), unit_price=10**8)
            for n in range(1, 1001)
        )
    )
)
def test_every_figure_of_a_receipt_within_the_bounds_stays_far_below_a_bigint(cart):
    as_sent = [
        a_line(line.line_no, Decimal(line.qty.numerator) / line.qty.denominator, line.unit_price)
        for line in cart.lines
    ]
    assert receipt_violation(as_sent, cart.requested_spend) is None
    outcome = rules.quote(GENEROUS, rules.CustomerState(available=BIGINT), cart, now=NOW)
    # Percent x multipliers are capped at 100 %: the accrual is at most the total.
    assert outcome.subtotal <= bounds.MAX_RECEIPT_TOTAL
    assert outcome.accrual <= outcome.subtotal
    assert outcome.campaign_bonus <= FIXED_BONUS_CAMPAIGNS * bounds.MAX_BONUS_GRANT
    figures = [
        outcome.subtotal,
        outcome.discount,
        outcome.max_spend,
        outcome.bonus_spent,
        outcome.to_pay,
        outcome.accrual,
        outcome.campaign_bonus,
        *(value for line in outcome.lines for value in line[1:6]),
    ]
    assert max(figures) < bounds.MAX_LEDGER_MOVEMENT < BIGINT // 10**6


def test_the_largest_receipt_earns_exactly_its_total_plus_the_fixed_bonuses():
    """A thousand lines of 1,000,000.00 roubles: 10^11 kopecks, all of it accrued (100 %,
    multiplied and raised, capped at 100 %), and five fixed bonuses of 10,000,000.00."""
    cart = rules.Cart(
        lines=tuple(
            rules.CartLine(line_no=n, sku="A", qty=Fraction(1), unit_price=10**8)
            for n in range(1, 1001)
        )
    )
    outcome = rules.quote(GENEROUS, rules.CustomerState(), cart, now=NOW)
    assert outcome.subtotal == 100_000_000_000
    assert outcome.accrual == 100_000_000_000
    assert outcome.campaign_bonus == 5_000_000_000

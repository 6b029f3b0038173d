"""Properties of the engine that hold for every cart, program and customer (Hypothesis)."""

import ast
import pathlib
from datetime import UTC, datetime
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

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

from .test_campaign_properties import campaign_lists

NOW = datetime(2026, 6, 1, tzinfo=UTC)
SEGMENTS = st.frozensets(st.integers(1, 4), max_size=2)
PERCENT = st.fractions(min_value=0, max_value=1, max_denominator=1000)


@st.composite
def lines(draw):
    count = draw(st.integers(1, 12))
    result = []
    for n in range(count):
        qty = draw(st.fractions(min_value=Fraction(1, 1000), max_value=20, max_denominator=1000))
        price = draw(st.integers(0, 500000))
        gross = int(qty * price + Fraction(1, 2))
        result.append(
            CartLine(
                line_no=n + 1,
                sku=f"S{n}",
                qty=qty,
                unit_price=price,
                pos_discount=draw(st.integers(0, gross)),
                no_accrual=draw(st.booleans()),
                no_discount=draw(st.booleans()),
                no_bonus_payment=draw(st.booleans()),
                segment_ids=draw(SEGMENTS),
            )
        )
    return tuple(result)


@st.composite
def configs(draw):
    rules = tuple(
        AccrualRule(
            id=i,
            steps=tuple(
                AccrualStep(draw(st.integers(0, 10**6)), draw(PERCENT))
                for _ in range(draw(st.integers(1, 3)))
            ),
            segment_ids=draw(SEGMENTS),
        )
        for i in range(draw(st.integers(0, 3)))
    )
    return ProgramConfig(
        id=1,
        kind=draw(st.sampled_from(["bonus", "bonus", "fixed_discount", "accumulative_discount"])),
        fixed_discount_percent=draw(PERCENT),
        discount_steps=(DiscountStep(0, draw(PERCENT)), DiscountStep(10**6, draw(PERCENT))),
        max_share=draw(PERCENT),
        segment_max_share=tuple((s, draw(PERCENT)) for s in draw(SEGMENTS)),
        spend_unit=draw(st.sampled_from([1, 100])),
        accrual_rules=rules,
        accrue_on_discounted=draw(st.booleans()),
        accrue_when_paid_with_bonuses=draw(st.booleans()),
        accrual_unit=draw(st.sampled_from([1, 100])),
        campaigns=tuple(draw(campaign_lists())),
    )


customers = st.builds(
    CustomerState,
    available=st.integers(0, 10**7),
    purchase_total=st.integers(0, 2 * 10**6),
    can_spend=st.booleans(),
)
requests = st.one_of(st.none(), st.integers(0, 10**7))


@given(configs(), customers, lines(), requests, st.booleans())
def test_line_figures_always_add_up_to_the_receipt(config, customer, cart_lines, requested, ok):
    outcome = quote(
        config,
        customer,
        Cart(lines=cart_lines, requested_spend=requested, store_accepts_bonus_payment=ok),
        now=NOW,
    )
    assert sum(o.amount for o in outcome.lines) == outcome.subtotal
    assert sum(o.discount for o in outcome.lines) == outcome.discount
    assert sum(o.bonus_spent for o in outcome.lines) == outcome.bonus_spent
    assert sum(o.accrual for o in outcome.lines) == outcome.accrual
    assert outcome.to_pay == outcome.subtotal - outcome.discount - outcome.bonus_spent


@given(configs(), customers, lines(), requests)
def test_spend_never_exceeds_balance_request_caps_or_lines(config, customer, cart_lines, requested):
    outcome = quote(config, customer, Cart(lines=cart_lines, requested_spend=requested), now=NOW)
    assert 0 <= outcome.bonus_spent <= outcome.max_spend <= customer.available
    if requested is not None:
        assert outcome.bonus_spent <= requested
    assert outcome.bonus_spent % config.spend_unit == 0
    for line, o in zip(cart_lines, outcome.lines, strict=True):
        assert 0 <= o.bonus_spent <= o.bonus_cap <= o.amount - o.discount
        assert 0 <= o.discount <= o.amount
        if line.no_bonus_payment:
            assert o.bonus_spent == 0
        if line.no_discount:
            assert o.discount == 0


@given(configs(), customers, lines(), requests)
def test_accrual_is_never_negative_nor_on_excluded_lines(config, customer, cart_lines, requested):
    outcome = quote(config, customer, Cart(lines=cart_lines, requested_spend=requested), now=NOW)
    assert outcome.accrual >= 0 and outcome.accrual % config.accrual_unit == 0
    for line, o in zip(cart_lines, outcome.lines, strict=True):
        assert o.accrual >= 0
        if line.no_accrual:
            assert o.accrual == 0
        # Accrual never exceeds what the money part could earn at 100 %.
        assert o.accrual <= o.amount - o.discount - o.bonus_spent


@given(configs(), customers, lines(), requests)
def test_quote_is_deterministic(config, customer, cart_lines, requested):
    cart = Cart(lines=cart_lines, requested_spend=requested)
    assert quote(config, customer, cart, now=NOW) == quote(config, customer, cart, now=NOW)


@given(st.integers(0, 10**9), st.lists(st.integers(0, 10**6), min_size=1, max_size=30))
def test_largest_remainder_parts_add_up_and_stay_within_one_of_the_exact_share(total, weights):
    if sum(weights) == 0:
        total = 0
    parts = largest_remainder(total, weights)
    assert sum(parts) == total
    for part, weight in zip(parts, weights, strict=True):
        exact = Fraction(total * weight, sum(weights)) if sum(weights) else 0
        assert exact - 1 < part < exact + 1


def test_the_engine_imports_no_django_no_io_and_reads_no_clock():
    forbidden = {"django", "os", "time", "random", "socket", "requests", "pathlib", "io"}
    engine_dir = pathlib.Path(__file__).resolve().parents[2] / "src" / "kopilka" / "rules"
    for path in engine_dir.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                if isinstance(node, ast.Attribute) and node.attr in {"now", "today", "utcnow"}:
                    raise AssertionError(f"{path.name} reads the clock")
                continue
            assert not {n.split(".")[0] for n in names} & forbidden, (path.name, names)

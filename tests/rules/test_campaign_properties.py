"""Properties of campaigns that hold for every receipt and every set of campaigns (Hypothesis)."""

from datetime import UTC, datetime, timedelta
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from kopilka.rules.campaigns import Campaign, applicable, apply_campaigns
from kopilka.rules.model import CartLine

from .reference_campaigns import reference_effects

NOW = datetime(2026, 6, 1, tzinfo=UTC)
SKUS = st.sampled_from(["A", "B", "C", "D"])
SEGMENTS = st.frozensets(st.integers(1, 4), max_size=2)
GROUPS = st.one_of(st.none(), st.frozensets(st.integers(1, 3), max_size=2))
MOMENTS = st.one_of(st.none(), st.integers(-3, 3).map(lambda d: NOW + timedelta(days=d)))


@st.composite
def carts(draw):
    result = []
    for n in range(draw(st.integers(1, 10))):
        whole = draw(st.booleans())
        qty = (
            Fraction(draw(st.integers(1, 12)))
            if whole
            else draw(st.fractions(min_value=Fraction(1, 1000), max_value=12, max_denominator=1000))
        )
        price = draw(st.integers(0, 200000))
        gross = int(qty * price + Fraction(1, 2))
        result.append(
            CartLine(
                line_no=n + 1,
                sku=draw(SKUS),
                qty=qty,
                unit_price=price,
                pos_discount=draw(st.integers(0, gross)),
                no_accrual=draw(st.booleans()),
                no_discount=draw(st.booleans()),
                segment_ids=draw(SEGMENTS),
            )
        )
    return tuple(result)


@st.composite
def campaign(draw, cid):
    return Campaign(
        id=cid,
        kind=draw(
            st.sampled_from(["nth_free", "gift", "multiplier", "extra_percent", "fixed_bonus"])
        ),
        priority=draw(st.integers(-2, 2)),
        exclusive=draw(st.booleans()),
        starts_at=draw(MOMENTS),
        ends_at=draw(MOMENTS),
        store_ids=draw(st.frozensets(st.integers(1, 3), max_size=2)),
        segment_ids=draw(SEGMENTS),
        group_ids=draw(st.frozensets(st.integers(1, 3), max_size=1)),
        needs_customer=draw(st.booleans()),
        uses_left=draw(st.one_of(st.none(), st.integers(0, 2))),
        n=draw(st.integers(0, 4)),
        set_skus=tuple(draw(st.lists(st.tuples(SKUS, st.integers(0, 3)), max_size=3))),
        gift_sku=draw(SKUS),
        multiplier=draw(st.fractions(min_value=0, max_value=5, max_denominator=4)),
        extra_percent=draw(
            st.fractions(min_value=0, max_value=Fraction(1, 5), max_denominator=100)
        ),
        fixed_bonus=draw(st.integers(0, 50000)),
        min_qualifying_amount=draw(st.integers(0, 500000)),
    )


@st.composite
def campaign_lists(draw):
    return [draw(campaign(cid)) for cid in range(1, draw(st.integers(0, 6)) + 1)]


def line_amount(line):
    return int(line.qty * line.unit_price + Fraction(1, 2)) - line.pos_discount


def effects_of(campaigns, lines, store_id, groups):
    amounts = [line_amount(line) for line in lines]
    effects = apply_campaigns(
        campaigns, lines, amounts, now=NOW, store_id=store_id, customer_group_ids=groups
    )
    return amounts, effects


@given(campaign_lists(), carts(), st.integers(1, 3), GROUPS)
def test_campaigns_never_make_a_line_negative(campaigns, lines, store_id, groups):
    amounts, effects = effects_of(campaigns, lines, store_id, groups)
    assert len(effects.line_discounts) == len(lines)
    for amount, discount in zip(amounts, effects.line_discounts, strict=True):
        assert 0 <= discount <= amount


@given(campaign_lists(), carts(), st.integers(1, 3), GROUPS)
def test_exclusive_campaigns_never_stack(campaigns, lines, store_id, groups):
    by_id = {c.id: c for c in campaigns}
    _, effects = effects_of(campaigns, lines, store_id, groups)
    if any(by_id[cid].exclusive for cid in effects.applied):
        assert len(effects.applied) == 1
    chosen = applicable(campaigns, now=NOW, store_id=store_id, customer_group_ids=groups)
    if any(c.exclusive for c in chosen):
        assert len(chosen) == 1
    assert set(effects.applied) <= {c.id for c in chosen}


@given(campaign_lists(), carts(), st.integers(1, 3), GROUPS)
def test_campaigns_are_deterministic_and_ignore_the_order_they_come_in(
    campaigns, lines, store_id, groups
):
    _, first = effects_of(campaigns, lines, store_id, groups)
    _, again = effects_of(campaigns, lines, store_id, groups)
    _, reversed_ = effects_of(list(reversed(campaigns)), lines, store_id, groups)
    assert first == again == reversed_


@given(campaign_lists(), carts(), st.integers(1, 3), GROUPS)
def test_discounts_only_on_discountable_qualifying_lines(campaigns, lines, store_id, groups):
    by_id = {c.id: c for c in campaigns}
    _, effects = effects_of(campaigns, lines, store_id, groups)
    discounting = [by_id[cid] for cid in effects.applied if by_id[cid].kind in ("nth_free", "gift")]
    for i, line in enumerate(lines):
        if effects.line_discounts[i]:
            assert not line.no_discount
            assert any(c.qualifies(line) for c in discounting)
        if line.no_accrual:
            assert effects.accrual_multiplier[i] == 1
            assert effects.accrual_extra_percent[i] == 0


@given(campaign_lists(), carts(), st.integers(1, 3), GROUPS)
def test_the_effects_and_their_reasons_agree(campaigns, lines, store_id, groups):
    by_id = {c.id: c for c in campaigns}
    _, effects = effects_of(campaigns, lines, store_id, groups)
    assert effects.fixed_bonus == sum(k for _, k in effects.fixed_bonus_by_campaign)
    assert {cid for cid, _ in effects.fixed_bonus_by_campaign} <= set(effects.applied)
    sources = {reason.source for _, reason in effects.reasons}
    assert sources == {f"campaign:{cid}" for cid in effects.applied}
    for i, _ in effects.reasons:
        assert -1 <= i < len(lines)
    if groups is None:  # an anonymous customer gets no accrual campaigns
        assert effects.fixed_bonus == 0
        assert set(effects.accrual_multiplier) <= {1}
        assert set(effects.accrual_extra_percent) <= {0}
        assert all(not by_id[cid].needs_customer for cid in effects.applied)
    order = [(-by_id[cid].priority, cid) for cid in effects.applied]
    assert order == sorted(order)


@given(carts(), st.integers(1, 4))
def test_nth_free_gives_at_most_one_unit_in_n_and_never_for_fractions(lines, n):
    _, effects = effects_of([Campaign(id=1, kind="nth_free", n=n)], lines, 1, frozenset())
    units = sum(int(line.qty) for line in lines if not line.no_discount)
    most = sorted(
        line.unit_price for line in lines if not line.no_discount for _ in range(int(line.qty))
    )
    assert sum(effects.line_discounts) <= sum(most[: units // n])


@settings(max_examples=400)
@given(campaign_lists(), carts(), st.integers(1, 3), GROUPS)
def test_grouped_campaigns_agree_with_the_line_by_line_reference(
    campaigns, lines, store_id, groups
):
    amounts, effects = effects_of(campaigns, lines, store_id, groups)
    expected = reference_effects(
        campaigns, lines, amounts, now=NOW, store_id=store_id, customer_group_ids=groups
    )
    assert {name: getattr(effects, name) for name in expected} == expected


@settings(max_examples=200)
@given(campaign_lists(), st.lists(carts(), min_size=2, max_size=4), st.integers(1, 3), GROUPS)
def test_a_memo_warmed_by_other_receipts_changes_nothing(campaigns, receipts, store_id, groups):
    memo: dict = {}
    for lines in receipts:  # each receipt sees the memo the ones before it filled
        amounts, fresh = effects_of(campaigns, lines, store_id, groups)
        remembered = apply_campaigns(
            campaigns,
            lines,
            amounts,
            now=NOW,
            store_id=store_id,
            customer_group_ids=groups,
            memo=memo,
        )
        assert remembered == fresh

"""The first, line-by-campaign implementation of campaigns, kept as the oracle that the
grouped one in kopilka.rules.campaigns must agree with (see test_campaign_properties.py)."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from fractions import Fraction
from math import floor

from kopilka.rules.campaigns import (
    ACCRUAL_KINDS,
    EXTRA_PERCENT,
    FIXED_BONUS,
    GIFT,
    MULTIPLIER,
    NTH_FREE,
    Campaign,
    _plus,
    _times,
    applicable,
)
from kopilka.rules.model import CartLine, Reason


def reference_effects(
    campaigns: Iterable[Campaign],
    lines: Sequence[CartLine],
    amounts: Sequence[int],
    *,
    now: datetime,
    store_id: int | None,
    customer_group_ids: frozenset[int] | None,
) -> dict:
    """What the applicable campaigns do to a receipt whose line amounts are `amounts`.

    `amounts` are the line amounts after the till's discount (qty x unit price - pos_discount).
    """
    if len(lines) != len(amounts):
        raise ValueError("one amount per line is needed")
    chosen = applicable(
        campaigns, now=now, store_id=store_id, customer_group_ids=customer_group_ids
    )
    count = len(lines)
    discounts = [0] * count
    multipliers = [Fraction(1)] * count
    extras = [Fraction(0)] * count
    bonuses: list[tuple[int, int]] = []
    notes: dict[int, list[tuple[int, Reason]]] = defaultdict(list)  # campaign id -> reasons

    # Discounts first, each campaign on what the previous ones left of the line.
    for c in chosen:
        if c.kind == NTH_FREE:
            free = _nth_free(c, lines)
        elif c.kind == GIFT:
            free = _gift(c, lines)
        else:
            continue
        value = str(c.n) if c.kind == NTH_FREE else None
        code = "nth_item_free" if c.kind == NTH_FREE else "gift_item"
        for i, units in sorted(free.items()):
            left = max(amounts[i] - discounts[i], 0)
            off = min(units * lines[i].unit_price, left)
            if off > 0:
                discounts[i] += off
                notes[c.id].append((i, Reason(code, c.source, value or str(units))))

    # Accrual effects, on the amounts left after the campaign discounts.
    for c in chosen:
        targets = [
            i
            for i, line in enumerate(lines)
            if c.kind in ACCRUAL_KINDS and not line.no_accrual and c.qualifies(line)
        ]
        if c.kind == MULTIPLIER and c.multiplier != 1:
            for i in targets:
                multipliers[i] *= c.multiplier
                notes[c.id].append((i, Reason("bonus_multiplier", c.source, _times(c.multiplier))))
        elif c.kind == EXTRA_PERCENT and c.extra_percent:
            for i in targets:
                extras[i] += c.extra_percent
                notes[c.id].append((i, Reason("extra_percent", c.source, _plus(c.extra_percent))))
        elif c.kind == FIXED_BONUS and c.fixed_bonus > 0 and targets:
            qualifying = sum(amounts[i] - discounts[i] for i in targets)
            if qualifying >= max(1, c.min_qualifying_amount):
                bonuses.append((c.id, c.fixed_bonus))
                notes[c.id].append((-1, Reason("fixed_bonus", c.source, str(c.fixed_bonus))))

    applied = tuple(c.id for c in chosen if notes[c.id])
    return dict(
        applied=applied,
        line_discounts=tuple(discounts),
        accrual_multiplier=tuple(multipliers),
        accrual_extra_percent=tuple(extras),
        fixed_bonus=sum(k for _, k in bonuses),
        fixed_bonus_by_campaign=tuple(bonuses),
        reasons=tuple(note for cid in applied for note in notes[cid]),
    )


def _units(line: CartLine) -> int:
    return max(floor(line.qty), 0)


def _cheapest(candidates: list[int], lines: Sequence[CartLine], free: int) -> dict[int, int]:
    """Spread `free` units over the candidate lines, cheapest unit price first, then line order."""
    result: dict[int, int] = {}
    for i in sorted(candidates, key=lambda i: (lines[i].unit_price, i)):
        if free <= 0:
            break
        take = min(_units(lines[i]), free)
        if take:
            result[i] = take
            free -= take
    return result


def _discountable(c: Campaign, line: CartLine) -> bool:
    return not line.no_discount and c.qualifies(line)


def _nth_free(c: Campaign, lines: Sequence[CartLine]) -> dict[int, int]:
    """Line index -> free units: every n-th qualifying whole unit, the cheapest ones."""
    candidates = [i for i, line in enumerate(lines) if _discountable(c, line)]
    total = sum(_units(lines[i]) for i in candidates)
    return _cheapest(candidates, lines, total // c.n)


def _gift(c: Campaign, lines: Sequence[CartLine]) -> dict[int, int]:
    """Line index -> free gift units: one per complete set, never a unit the set used."""
    on_receipt: dict[str, int] = defaultdict(int)
    for line in lines:
        on_receipt[line.sku] += _units(line)
    need = c.requirements
    gift_lines = [i for i, ln in enumerate(lines) if ln.sku == c.gift_sku and _discountable(c, ln)]
    giftable = sum(_units(lines[i]) for i in gift_lines)
    others = [on_receipt[sku] // qty for sku, qty in need.items() if sku != c.gift_sku]
    # k gifts need k x (set units of the gift sku + 1) units of it, k of them discountable.
    own = on_receipt[c.gift_sku] // (need.get(c.gift_sku, 0) + 1)
    sets = min([*others, own, giftable])
    return _cheapest(gift_lines, lines, sets)

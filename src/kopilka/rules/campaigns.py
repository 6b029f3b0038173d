"""Marketing campaigns: which apply to a receipt, and what they do to it. Pure, like the engine.

effects = apply_campaigns(campaigns, cart.lines, amounts, now=now, store_id=store_id,
                          customer_group_ids=None if anonymous else group_ids)

Kinds:
- "nth_free": every n-th qualifying whole unit is free, the cheapest units first.
- "gift": each complete set of `set_skus` bought makes one unit of `gift_sku` free.
- "multiplier": the accrual of qualifying lines is multiplied (reported per line).
- "extra_percent": a percent is added to the accrual percent of qualifying lines (per line).
- "fixed_bonus": a fixed number of kopecks credited once per receipt.

Choices made here (documented for the engine and the back office):
- Discount campaigns (nth_free, gift) only see lines with `no_discount=False`: excluded lines
  neither take the discount nor count towards n or the gift. Set items bought for a gift are
  counted on every line of that sku, discountable or not; only the free gift must be
  discountable (and match `segment_ids`).
- Only whole units count: floor(qty) per line; 2.5 kg is 2 units, 0.5 + 0.5 kg is 0 units.
- A gift sku that is also in its own set ("buy 2 A, get 1 A free"): each set needs its own set
  units plus one more unit as the gift, so k gifts need k x (required + 1) units of that sku.
- Accrual campaigns (multiplier, extra_percent, fixed_bonus) need an identified customer even
  when `needs_customer` is False, and skip `no_accrual` lines.
- Discount campaigns run first, in order (-priority, id), each on what remains of the line;
  fixed_bonus thresholds are then measured on the amounts left after those discounts.
- A campaign is reported in `applied` only if it changed something on this receipt (a kopeck
  of discount, a factor other than x1 / +0 % on a line, a bonus), so callers can spend a use
  only then. Exclusivity is decided by `applicable` before looking at the cart, as specified:
  an exclusive campaign at the top blocks the others even if it then finds nothing to do.
- Unknown kinds and campaigns that cannot work (n < 1, empty set, no gift sku) never apply.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from math import floor

from .model import CartLine, Reason

NTH_FREE = "nth_free"
GIFT = "gift"
MULTIPLIER = "multiplier"
EXTRA_PERCENT = "extra_percent"
FIXED_BONUS = "fixed_bonus"
DISCOUNT_KINDS = frozenset({NTH_FREE, GIFT})
ACCRUAL_KINDS = frozenset({MULTIPLIER, EXTRA_PERCENT, FIXED_BONUS})
KINDS = DISCOUNT_KINDS | ACCRUAL_KINDS


@dataclass(frozen=True)
class Campaign:
    id: int
    kind: str  # "nth_free" | "gift" | "multiplier" | "extra_percent" | "fixed_bonus"
    priority: int = 0  # higher wins
    exclusive: bool = False  # an exclusive campaign never stacks with another
    starts_at: datetime | None = None  # inclusive
    ends_at: datetime | None = None  # exclusive
    store_ids: frozenset[int] = frozenset()  # empty: every store
    segment_ids: frozenset[int] = frozenset()  # empty: every line qualifies
    group_ids: frozenset[int] = frozenset()  # empty: everyone (anonymous included)
    needs_customer: bool = False  # implied for multiplier / extra_percent / fixed_bonus
    uses_left: int | None = None  # per-customer uses left (None: unlimited); 0: cannot apply
    n: int = 0  # nth_free: every n-th qualifying unit is free (the cheapest units)
    set_skus: tuple[tuple[str, int], ...] = ()  # gift: the set to buy: (sku, qty) pairs
    gift_sku: str = ""  # gift: the free item (must be on the receipt to be given)
    multiplier: Fraction = Fraction(1)  # multiplier: accrual on qualifying lines x this
    extra_percent: Fraction = Fraction(0)  # extra_percent: added to the accrual percent
    fixed_bonus: int = 0  # fixed_bonus: kopecks credited when the receipt has qualifying lines
    min_qualifying_amount: int = 0  # fixed_bonus: only when qualifying lines reach this sum

    def is_running(self, now: datetime) -> bool:
        if self.starts_at is not None and now < self.starts_at:
            return False
        return not (self.ends_at is not None and now >= self.ends_at)

    def qualifies(self, line: CartLine) -> bool:
        return not self.segment_ids or bool(self.segment_ids & line.segment_ids)

    @property
    def source(self) -> str:
        return f"campaign:{self.id}"


@dataclass(frozen=True)
class CampaignEffects:
    applied: tuple[int, ...]  # campaign ids that applied, in order
    line_discounts: tuple[int, ...]  # per cart line (same order as cart.lines), kopecks
    accrual_multiplier: tuple[Fraction, ...]  # per line, product of multipliers (1 = none)
    accrual_extra_percent: tuple[Fraction, ...]  # per line, sum of extra percents
    fixed_bonus: int  # total fixed bonus kopecks
    fixed_bonus_by_campaign: tuple[tuple[int, int], ...]  # (campaign id, kopecks)
    reasons: tuple[tuple[int, Reason], ...]  # (line index, or -1 for the receipt, reason)


def applicable(
    campaigns: Iterable[Campaign],
    *,
    now: datetime,
    store_id: int | None,
    customer_group_ids: frozenset[int] | None,
) -> list[Campaign]:
    """The campaigns that may apply, best first; `customer_group_ids` None is anonymous.

    Filters by period, store, customer groups and uses left, orders by (-priority, id), then
    keeps only the first if it is exclusive, else every non-exclusive one.
    """
    anonymous = customer_group_ids is None
    eligible = []
    for c in campaigns:
        if not _workable(c) or not c.is_running(now):
            continue
        if c.store_ids and store_id not in c.store_ids:
            continue
        if anonymous and (c.group_ids or c.needs_customer or c.kind in ACCRUAL_KINDS):
            continue
        if c.group_ids and not (c.group_ids & (customer_group_ids or frozenset())):
            continue
        if c.uses_left is not None and c.uses_left <= 0:
            continue
        eligible.append(c)
    eligible.sort(key=lambda c: (-c.priority, c.id))
    if not eligible:
        return []
    if eligible[0].exclusive:
        return eligible[:1]
    return [c for c in eligible if not c.exclusive]


def apply_campaigns(
    campaigns: Iterable[Campaign],
    lines: Sequence[CartLine],
    amounts: Sequence[int],
    *,
    now: datetime,
    store_id: int | None,
    customer_group_ids: frozenset[int] | None,
) -> CampaignEffects:
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
    return CampaignEffects(
        applied=applied,
        line_discounts=tuple(discounts),
        accrual_multiplier=tuple(multipliers),
        accrual_extra_percent=tuple(extras),
        fixed_bonus=sum(k for _, k in bonuses),
        fixed_bonus_by_campaign=tuple(bonuses),
        reasons=tuple(note for cid in applied for note in notes[cid]),
    )


def _workable(c: Campaign) -> bool:
    if c.kind == NTH_FREE:
        return c.n >= 1
    if c.kind == GIFT:
        return bool(c.gift_sku) and bool(_requirements(c))
    return c.kind in KINDS


def _requirements(c: Campaign) -> dict[str, int]:
    """The gift set as sku -> units; duplicate skus add up, pairs of qty <= 0 are ignored."""
    need: dict[str, int] = defaultdict(int)
    for sku, qty in c.set_skus:
        if qty > 0:
            need[sku] += qty
    return dict(need)


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
    need = _requirements(c)
    gift_lines = [i for i, ln in enumerate(lines) if ln.sku == c.gift_sku and _discountable(c, ln)]
    giftable = sum(_units(lines[i]) for i in gift_lines)
    others = [on_receipt[sku] // qty for sku, qty in need.items() if sku != c.gift_sku]
    # k gifts need k x (set units of the gift sku + 1) units of it, k of them discountable.
    own = on_receipt[c.gift_sku] // (need.get(c.gift_sku, 0) + 1)
    sets = min([*others, own, giftable])
    return _cheapest(gift_lines, lines, sets)


def _number(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):.4f}".rstrip("0").rstrip(".")


def _times(multiplier: Fraction) -> str:
    return f"x{_number(multiplier)}"


def _plus(share: Fraction) -> str:
    return f"{'+' if share >= 0 else ''}{_number(share * 100)}%"

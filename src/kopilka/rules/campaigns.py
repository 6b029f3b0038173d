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
    line_reasons: tuple[tuple[Reason, ...], ...]  # per line, in the order campaigns applied
    receipt_reasons: tuple[Reason, ...]  # fixed bonuses

    @property
    def reasons(self) -> tuple[tuple[int, Reason], ...]:
        """(line index, or -1 for the receipt, reason), campaign by campaign."""
        rank = {f"campaign:{cid}": n for n, cid in enumerate(self.applied)}
        flat = [(i, reason) for i, reasons in enumerate(self.line_reasons) for reason in reasons]
        flat += [(-1, reason) for reason in self.receipt_reasons]
        return tuple(sorted(flat, key=lambda item: (rank[item[1].source], item[0] < 0)))


ONE, ZERO = Fraction(1), Fraction(0)


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


class _Receipt:
    """The lines seen the way campaigns look at them, computed once per receipt: whole units,
    lines grouped by segment and by sku, discountable lines cheapest first. Campaigns then cost
    what they touch, not lines x campaigns."""

    def __init__(self, lines: Sequence[CartLine]):
        self.lines = lines
        self.units = [_whole_units(line.qty) for line in lines]
        cheapest_first = sorted(range(len(lines)), key=lambda i: (lines[i].unit_price, i))
        self.discountable = [i for i in cheapest_first if not lines[i].no_discount]
        self.by_segment: dict[int, list[int]] = defaultdict(list)  # cheapest first
        self.units_by_segment: dict[int, int] = defaultdict(int)
        units = self.units
        for i in self.discountable:
            for segment_id in lines[i].segment_ids:
                self.by_segment[segment_id].append(i)
                self.units_by_segment[segment_id] += units[i]
        self.discountable_units = sum([units[i] for i in self.discountable])
        self.on_receipt: dict[str, int] = defaultdict(int)
        self.by_sku: dict[str, list[int]] = defaultdict(list)  # discountable, cheapest first
        for i, line in enumerate(lines):
            self.on_receipt[line.sku] += self.units[i]
        for i in self.discountable:
            self.by_sku[lines[i].sku].append(i)

    def candidates(self, c: Campaign) -> list[int]:
        """Discountable lines the campaign qualifies, cheapest first."""
        if not c.segment_ids:
            return self.discountable
        if len(c.segment_ids) == 1:
            (segment_id,) = c.segment_ids
            return self.by_segment.get(segment_id, [])
        lines = self.lines
        return sorted(
            {i for s in c.segment_ids for i in self.by_segment.get(s, ())},
            key=lambda i: (lines[i].unit_price, i),
        )

    def cheapest(self, candidates: Iterable[int], free: int) -> dict[int, int]:
        """Spread `free` units over the candidates (given cheapest first)."""
        result: dict[int, int] = {}
        units = self.units
        for i in candidates:
            if free <= 0:
                break
            take = min(units[i], free)
            if take:
                result[i] = take
                free -= take
        return result

    def nth_free(self, c: Campaign) -> dict[int, int]:
        """Line index -> free units: every n-th qualifying whole unit, the cheapest ones."""
        candidates = self.candidates(c)
        if not c.segment_ids:
            total = self.discountable_units
        elif len(c.segment_ids) == 1:
            total = self.units_by_segment.get(next(iter(c.segment_ids)), 0)
        else:
            total = sum([self.units[i] for i in candidates])
        return self.cheapest(candidates, total // c.n)

    def gift(self, c: Campaign) -> dict[int, int]:
        """Line index -> free gift units: one per complete set, never a unit the set used."""
        need = _requirements(c)
        gift_lines = [i for i in self.by_sku.get(c.gift_sku, ()) if c.qualifies(self.lines[i])]
        giftable = sum(self.units[i] for i in gift_lines)
        on_receipt = self.on_receipt
        others = [on_receipt.get(sku, 0) // qty for sku, qty in need.items() if sku != c.gift_sku]
        # k gifts need k x (set units of the gift sku + 1) units of it, k of them discountable.
        own = on_receipt.get(c.gift_sku, 0) // (need.get(c.gift_sku, 0) + 1)
        sets = min([*others, own, giftable])
        return self.cheapest(gift_lines, sets)


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
    Accrual campaigns depend on a line only through its segments and its no_accrual flag, so
    they are worked out once per such profile, and lines of one profile share the result.
    """
    if len(lines) != len(amounts):
        raise ValueError("one amount per line is needed")
    count = len(lines)
    chosen = applicable(
        campaigns, now=now, store_id=store_id, customer_group_ids=customer_group_ids
    )
    if not chosen:
        return _nothing(count)
    discounts = [0] * count
    touched: set[int] = set()  # campaign ids that changed something
    by_line: dict[int, list[tuple[int, Reason]]] = defaultdict(list)  # line -> (rank, reason)

    # Discounts first, each campaign on what the previous ones left of the line.
    receipt = None
    for rank, c in enumerate(chosen):
        if c.kind not in DISCOUNT_KINDS:
            continue
        receipt = receipt or _Receipt(lines)
        free = receipt.nth_free(c) if c.kind == NTH_FREE else receipt.gift(c)
        code = "nth_item_free" if c.kind == NTH_FREE else "gift_item"
        for i, units in free.items():
            left = max(amounts[i] - discounts[i], 0)
            off = min(units * lines[i].unit_price, left)
            if off > 0:
                discounts[i] += off
                value = str(c.n) if c.kind == NTH_FREE else str(units)
                by_line[i].append((rank, Reason(code, c.source, value)))
                touched.add(c.id)

    # Accrual effects on the amounts left after the campaign discounts. They depend on a line
    # only through its segments, so they are worked out per profile (lines sharing segments),
    # and the campaigns without segments, which touch every profile alike, only once.
    profiles: dict[frozenset[int], list[int]] = defaultdict(list)  # accruing lines by segments
    for i, line in enumerate(lines):
        if not line.no_accrual:
            profiles[line.segment_ids].append(i)
    left = {
        segs: sum([amounts[i] for i in members]) - sum([discounts[i] for i in members])
        for segs, members in profiles.items()
    }
    note: dict[int, tuple[int, Reason]] = {}  # campaign id -> (rank, reason)
    for n, c in enumerate(chosen):
        if c.kind == MULTIPLIER:
            note[c.id] = (n, Reason("bonus_multiplier", c.source, _times(c.multiplier)))
        elif c.kind == EXTRA_PERCENT:
            note[c.id] = (n, Reason("extra_percent", c.source, _plus(c.extra_percent)))
    everywhere = _Factors()
    by_segment: dict[int, list[Campaign]] = defaultdict(list)
    qualifying: dict[int, int] = defaultdict(int)  # fixed-bonus campaign id -> amount
    for c in chosen:
        if not _changes_accrual(c):
            continue
        if not c.segment_ids:
            if profiles:
                everywhere.add(c, note.get(c.id))
                touched.add(c.id)
                qualifying[c.id] = sum(left.values())
            continue
        for segment_id in c.segment_ids:
            by_segment[segment_id].append(c)
    per_profile: dict[frozenset[int], _Factors] = {}
    for segs in profiles:
        own = {c.id: c for s in segs for c in by_segment.get(s, ())}
        if not own:
            per_profile[segs] = everywhere
            continue
        factors = everywhere.copy()
        for c in own.values():
            factors.add(c, note.get(c.id))
            touched.add(c.id)
            qualifying[c.id] += left[segs]
        per_profile[segs] = factors

    bonuses: list[tuple[int, int]] = []
    receipt_reasons: list[Reason] = []
    for c in chosen:
        if c.kind == FIXED_BONUS and c.id in touched:
            if qualifying[c.id] >= max(1, c.min_qualifying_amount):
                bonuses.append((c.id, c.fixed_bonus))
                receipt_reasons.append(Reason("fixed_bonus", c.source, str(c.fixed_bonus)))
            else:  # it touched lines but did not reach its threshold: it did nothing
                touched.discard(c.id)

    order = [c.id for c in chosen if c.id in touched]
    applied = tuple(order)
    multipliers: list[Fraction] = [ONE] * count
    extras: list[Fraction] = [ZERO] * count
    line_reasons: list[tuple[Reason, ...]] = [()] * count
    for segs, members in profiles.items():
        factors = per_profile[segs]
        if not factors.notes:
            continue
        multiplier, extra, reasons = factors.result()
        for i in members:
            multipliers[i], extras[i], line_reasons[i] = multiplier, extra, reasons
    for i, own in by_line.items():  # lines with a discount: merge in campaign order
        if not lines[i].no_accrual:
            own = own + per_profile[lines[i].segment_ids].notes
        line_reasons[i] = tuple([reason for _, reason in sorted(own, key=_first)])
    return CampaignEffects(
        applied=applied,
        line_discounts=tuple(discounts),
        accrual_multiplier=tuple(multipliers),
        accrual_extra_percent=tuple(extras),
        fixed_bonus=sum(k for _, k in bonuses),
        fixed_bonus_by_campaign=tuple(bonuses),
        line_reasons=tuple(line_reasons),
        receipt_reasons=tuple(receipt_reasons),
    )


def _whole_units(qty) -> int:
    if type(qty) is Fraction or type(qty) is int:  # the engine's own types, the fast way
        return max(qty.numerator // qty.denominator, 0)
    return max(floor(qty), 0)


def _first(pair: tuple) -> int:
    return pair[0]


def _changes_accrual(c: Campaign) -> bool:
    if c.kind == MULTIPLIER:
        return c.multiplier != 1
    if c.kind == EXTRA_PERCENT:
        return bool(c.extra_percent)
    return c.kind == FIXED_BONUS and c.fixed_bonus > 0


class _Factors:
    """The accrual campaigns of one profile: the product of multipliers and the sum of extra
    percents as integer numerator / denominator pairs, and their reasons with their ranks."""

    __slots__ = ("e_den", "e_num", "m_den", "m_num", "notes")

    def __init__(self):
        self.m_num = self.m_den = self.e_den = 1
        self.e_num = 0
        self.notes: list[tuple[int, Reason]] = []

    def copy(self) -> _Factors:
        other = _Factors()
        other.m_num, other.m_den, other.e_num, other.e_den = (
            self.m_num,
            self.m_den,
            self.e_num,
            self.e_den,
        )
        other.notes = list(self.notes)
        return other

    def add(self, c: Campaign, note: tuple[int, Reason]) -> None:
        if c.kind == MULTIPLIER:
            self.m_num *= c.multiplier.numerator
            self.m_den *= c.multiplier.denominator
            self.notes.append(note)
        elif c.kind == EXTRA_PERCENT:
            num, den = c.extra_percent.numerator, c.extra_percent.denominator
            self.e_num, self.e_den = self.e_num * den + num * self.e_den, self.e_den * den
            self.notes.append(note)

    def result(self) -> tuple[Fraction, Fraction, tuple[Reason, ...]]:
        multiplier = Fraction(self.m_num, self.m_den) if self.m_num != self.m_den else ONE
        extra = Fraction(self.e_num, self.e_den) if self.e_num else ZERO
        return multiplier, extra, tuple([reason for _, reason in sorted(self.notes, key=_first)])


def _nothing(count: int) -> CampaignEffects:
    return CampaignEffects(
        applied=(),
        line_discounts=(0,) * count,
        accrual_multiplier=(ONE,) * count,
        accrual_extra_percent=(ZERO,) * count,
        fixed_bonus=0,
        fixed_bonus_by_campaign=(),
        line_reasons=((),) * count,
        receipt_reasons=(),
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


def _number(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):.4f}".rstrip("0").rstrip(".")


def _times(multiplier: Fraction) -> str:
    return f"x{_number(multiplier)}"


def _plus(share: Fraction) -> str:
    return f"{'+' if share >= 0 else ''}{_number(share * 100)}%"

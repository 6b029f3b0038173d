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

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from functools import cached_property, lru_cache
from itertools import accumulate
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
        return self.qualifies_segments(line.segment_ids)

    def qualifies_segments(self, segment_ids: frozenset[int]) -> bool:
        return not self.segment_ids or not self.segment_ids.isdisjoint(segment_ids)

    # What follows is derived once per campaign, not once per receipt: configurations live
    # as long as their program version. (cached_property fills the instance's __dict__
    # directly, so it works on a frozen dataclass; equality and hashing still see fields only.)

    @cached_property
    def source(self) -> str:
        return f"campaign:{self.id}"

    @cached_property
    def requirements(self) -> dict[str, int]:
        """The gift set as sku -> units; duplicate skus add up, pairs of qty <= 0 are ignored."""
        need: dict[str, int] = defaultdict(int)
        for sku, qty in self.set_skus:
            if qty > 0:
                need[sku] += qty
        return dict(need)

    @cached_property
    def workable(self) -> bool:
        """False for a campaign that can never do anything (unknown kind, n < 1, no set...)."""
        if self.kind == NTH_FREE:
            return self.n >= 1
        if self.kind == GIFT:
            return bool(self.gift_sku) and bool(self.requirements)
        return self.kind in KINDS

    @cached_property
    def accrual_terms(self) -> tuple[int, int, int, int] | None:
        """(multiplier numerator, denominator, extra percent numerator, denominator) of an
        accrual campaign that changes something; None for any other."""
        if self.kind == MULTIPLIER and self.multiplier != 1:
            return self.multiplier.numerator, self.multiplier.denominator, 0, 1
        if self.kind == EXTRA_PERCENT and self.extra_percent:
            return 1, 1, self.extra_percent.numerator, self.extra_percent.denominator
        if self.kind == FIXED_BONUS and self.fixed_bonus > 0:
            return 1, 1, 0, 1
        return None

    @cached_property
    def reason(self) -> Reason | None:
        """The reason this campaign leaves on every line it touches, for the kinds whose
        reason does not depend on the line (a gift's names the units given)."""
        if self.kind == NTH_FREE:
            return Reason("nth_item_free", self.source, str(self.n))
        if self.kind == MULTIPLIER:
            return Reason("bonus_multiplier", self.source, _times(self.multiplier))
        if self.kind == EXTRA_PERCENT:
            return Reason("extra_percent", self.source, _plus(self.extra_percent))
        if self.kind == FIXED_BONUS:
            return Reason("fixed_bonus", self.source, str(self.fixed_bonus))
        return None


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
        if not c.workable or not c.is_running(now):
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
        self.units = _whole_units([line.qty for line in lines])
        self.prices = prices = [line.unit_price for line in lines]
        # A stable sort on the price alone: equal prices keep the receipt's order.
        cheapest_first = sorted(range(len(lines)), key=prices.__getitem__)
        self.discountable = [i for i in cheapest_first if not lines[i].no_discount]
        self.by_segment = by_segment = defaultdict(list)  # segment -> lines, cheapest first
        for i in self.discountable:
            for segment_id in lines[i].segment_ids:
                by_segment[segment_id].append(i)
        self._running: dict[int, tuple[list[int], list[int]]] = {}

    # Gift campaigns alone look lines up by sku: one index, built on their first use, and
    # what they ask of it worked out per sku.
    @cached_property
    def sku_lines(self) -> dict[str, list[int]]:
        """Every line by sku, in the receipt's order."""
        index: dict[str, list[int]] = defaultdict(list)
        for i, line in enumerate(self.lines):
            index[line.sku].append(i)
        return index

    def on_receipt(self, sku: str) -> int:
        """Whole units of the sku over every line, discountable or not."""
        return sum([self.units[i] for i in self.sku_lines.get(sku, ())])

    def discountable_of(self, sku: str) -> list[int]:
        """Discountable lines of the sku, cheapest first."""
        lines = self.lines
        found = [i for i in self.sku_lines.get(sku, ()) if not lines[i].no_discount]
        return sorted(found, key=lambda i: lines[i].unit_price) if len(found) > 1 else found

    def running_units(self, candidates: list[int]) -> list[int]:
        """Whole units of the candidates added up in their order (kept for the receipt's own
        lists, which many campaigns share)."""
        # Keyed by identity; the entry holds the list itself, so its id cannot be reused.
        known = self._running.get(id(candidates))
        if known is None:
            running = list(accumulate([self.units[i] for i in candidates]))
            known = self._running[id(candidates)] = (candidates, running)
        return known[1]

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

    def nth_free(self, c: Campaign) -> tuple[list[int], int]:
        """The candidate lines (cheapest first) and how many of their units are free: every
        n-th qualifying whole unit."""
        candidates = self.candidates(c)
        running = self.running_units(candidates)
        return candidates, (running[-1] if running else 0) // c.n

    def gift(self, c: Campaign) -> tuple[list[int], int]:
        """The gift lines (cheapest first) and how many gift units are free: one per complete
        set, never a unit the set used."""
        need = c.requirements
        lines = self.lines
        gift_lines = [i for i in self.discountable_of(c.gift_sku) if c.qualifies(lines[i])]
        giftable = sum([self.units[i] for i in gift_lines])
        on_receipt = self.on_receipt
        others = [on_receipt(sku) // qty for sku, qty in need.items() if sku != c.gift_sku]
        # k gifts need k x (set units of the gift sku + 1) units of it, k of them discountable.
        own = on_receipt(c.gift_sku) // (need.get(c.gift_sku, 0) + 1)
        return gift_lines, min([*others, own, giftable])


def apply_campaigns(
    campaigns: Iterable[Campaign],
    lines: Sequence[CartLine],
    amounts: Sequence[int],
    *,
    now: datetime,
    store_id: int | None,
    customer_group_ids: frozenset[int] | None,
    memo: dict | None = None,
    groups: dict[frozenset[int], list[int]] | None = None,
) -> CampaignEffects:
    """What the applicable campaigns do to a receipt whose line amounts are `amounts`.

    `amounts` are the line amounts after the till's discount (qty x unit price - pos_discount).
    Accrual campaigns depend on a line only through its segments and its no_accrual flag, so
    they are worked out once per such profile, and lines of one profile share the result.
    `memo`, an empty dict owned by whoever owns `campaigns`, lets later receipts reuse those
    per-profile results (it is keyed by the campaign objects themselves). `groups`, the line
    indexes by segments, saves working them out again when the caller has them.
    """
    if len(lines) != len(amounts):
        raise ValueError("one amount per line is needed")
    count = len(lines)
    chosen = applicable(
        campaigns, now=now, store_id=store_id, customer_group_ids=customer_group_ids
    )
    if not chosen:
        return _nothing(count)
    touched: set[int] = set()  # campaign ids that changed something
    discounts, by_line = _discounts(chosen, lines, amounts, touched)

    # Accrual effects on the amounts left after the campaign discounts. They depend on a line
    # only through its segments, so they are worked out per profile (lines sharing segments),
    # and the campaigns without segments, which touch every profile alike, only once.
    if groups is None:
        groups = defaultdict(list)
        for i, line in enumerate(lines):
            groups[line.segment_ids].append(i)
    profiles = groups  # accruing lines by segments
    if any(line.no_accrual for line in lines):
        accruing = {
            segs: [i for i in members if not lines[i].no_accrual]
            for segs, members in groups.items()
        }
        profiles = {segs: members for segs, members in accruing.items() if members}
    left = {
        segs: sum([amounts[i] for i in members]) - sum([discounts[i] for i in members])
        for segs, members in profiles.items()
    }
    per_profile, qualifying = _accrual_effects(chosen, profiles, left, touched, memo)

    bonuses: list[tuple[int, int]] = []
    receipt_reasons: list[Reason] = []
    for c in chosen:
        if c.kind == FIXED_BONUS and c.id in touched:
            if qualifying[c.id] >= max(1, c.min_qualifying_amount):
                bonuses.append((c.id, c.fixed_bonus))
                receipt_reasons.append(c.reason)
            else:  # it touched lines but did not reach its threshold: it did nothing
                touched.discard(c.id)

    order = [c.id for c in chosen if c.id in touched]
    applied = tuple(order)
    multipliers: list[Fraction] = [ONE] * count
    extras: list[Fraction] = [ZERO] * count
    line_reasons: list[tuple[Reason, ...]] = [()] * count
    for segs, members in profiles.items():
        factors = per_profile[segs]
        if factors.notes:
            multiplier, extra, reasons = factors.multiplier, factors.extra, factors.reasons
            for i in members:
                multipliers[i], extras[i], line_reasons[i] = multiplier, extra, reasons
    for i, own in by_line.items():  # lines with a discount: merge in campaign order
        factors = per_profile[lines[i].segment_ids] if not lines[i].no_accrual else None
        if factors is None or not factors.notes:
            line_reasons[i] = tuple([reason for _, reason in own])  # already in rank order
        elif len(own) == 1:  # the usual case: one discount among the profile's reasons
            [(rank, reason)] = own
            at = bisect_left(factors.ranks, rank)
            line_reasons[i] = (*factors.reasons[:at], reason, *factors.reasons[at:])
        else:
            line_reasons[i] = tuple([reason for _, reason in sorted(own + factors.notes)])
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


def _discounts(chosen, lines, amounts, touched: set[int]):
    """Discount campaigns first, in rank order, each on what the previous ones left of the
    line: the discount per line, and the (rank, reason) pairs they left on each line."""
    count = len(lines)
    discounts = [0] * count
    # Line -> (rank, reason) pairs. A campaign leaves at most one reason on a line, so ranks
    # never tie and the pairs sort by rank alone, without a key function.
    by_line: dict[int, list[tuple[int, Reason]]] = defaultdict(list)

    receipt = None
    for rank, c in enumerate(chosen):
        if c.kind not in DISCOUNT_KINDS:
            continue
        receipt = receipt or _Receipt(lines)
        if c.kind == NTH_FREE:
            candidates, free = receipt.nth_free(c)
            same = (rank, c.reason)
        else:
            candidates, free = receipt.gift(c)
            same = None  # a gift's reason names the units given on the line
        if free <= 0:
            continue
        # The free units go to the cheapest candidates first, whatever earlier campaigns
        # left of those lines (a line already free gives nothing more): every unit of the
        # lines before candidates[k], and the rest on candidates[k].
        units, prices, running = receipt.units, receipt.prices, receipt.running_units(candidates)
        k = bisect_left(running, free)
        takes = [i for i in candidates[:k] if discounts[i] < amounts[i]]
        last = candidates[k] if k < len(candidates) else None
        if last is not None:
            takes.append(last)
        given = False
        for i in takes:
            take = units[i] if i != last else free - (running[k - 1] if k else 0)
            off = min(take * prices[i], amounts[i] - discounts[i])
            if off > 0:
                discounts[i] += off
                by_line[i].append(same or (rank, Reason("gift_item", c.source, str(take))))
                given = True
        if given:
            touched.add(c.id)
    return discounts, by_line


def _accrual_effects(chosen, profiles, left, touched: set[int], memo):
    """Accrual campaigns per profile: the factors of each profile, and the amount of the
    lines each fixed bonus covers."""
    # The accrual campaigns of each profile, as ranks in `chosen`: those without segments
    # touch every profile alike, the others the profiles sharing one of their segments.
    # Multipliers and extra percents (factors) are kept apart from fixed bonuses, which
    # only need the amount of the lines they touch.
    factors_everywhere: list[int] = []
    factors_by_segment: dict[int, list[int]] = defaultdict(list)
    bonus_ranks: list[int] = []
    for rank, c in enumerate(chosen):
        if c.accrual_terms is None:
            continue
        if c.kind == FIXED_BONUS:
            bonus_ranks.append(rank)
        elif not c.segment_ids:
            factors_everywhere.append(rank)
        else:
            for segment_id in c.segment_ids:
                factors_by_segment[segment_id].append(rank)
    qualifying: dict[int, int] = {}  # fixed-bonus campaign id -> amount of its lines
    if bonus_ranks:
        left_by_segment: dict[int, int] = defaultdict(int)
        for segs, amount in left.items():
            for segment_id in segs:
                left_by_segment[segment_id] += amount
        for rank in bonus_ranks:
            c = chosen[rank]
            if not c.segment_ids:
                found, amount = bool(profiles), sum(left.values())
            elif len(c.segment_ids) == 1:
                (segment_id,) = c.segment_ids
                found, amount = segment_id in left_by_segment, left_by_segment.get(segment_id, 0)
            else:  # a line in two of its segments counts once
                mine = [v for segs, v in left.items() if c.qualifies_segments(segs)]
                found, amount = bool(mine), sum(mine)
            if found:
                touched.add(c.id)
                qualifying[c.id] = amount
    if profiles:
        touched.update([chosen[rank].id for rank in factors_everywhere])
    # A profile's factors depend only on the chosen campaigns and its segments: with a memo
    # (the engine keeps one per program configuration) each mix is worked out once, not on
    # every receipt.
    table = _memo_table(memo, chosen)
    per_profile: dict[frozenset[int], _Factors] = {}
    present: set[int] = set()  # segments of accruing lines
    for segs in profiles:
        present.update(segs)
        factors = table.get(segs)
        if factors is None:
            if len(segs) == 1:
                (segment_id,) = segs
                own = factors_by_segment.get(segment_id, ())
            else:
                own = {rank for s in segs for rank in factors_by_segment.get(s, ())}
            ranks = sorted([*own, *factors_everywhere]) if own else factors_everywhere
            factors = table[segs] = _Factors(chosen, ranks)
        per_profile[segs] = factors
    for segment_id in present.intersection(factors_by_segment):
        touched.update([chosen[rank].id for rank in factors_by_segment[segment_id]])
    return per_profile, qualifying


def _whole_units(quantities: list) -> list[int]:
    """floor(qty) of each quantity, 0 for a negative one."""
    if set(map(type, quantities)) <= {Fraction}:  # the engine's own type, the fast way
        units = [qty.numerator // qty.denominator for qty in quantities]
        return units if not units or min(units) >= 0 else [max(u, 0) for u in units]
    return [max(floor(qty), 0) for qty in quantities]


class _Factors:
    """The multiplier and extra-percent campaigns of one profile (ranks in `chosen`, in
    order): the product of the multipliers and the sum of the extra percents, kept in
    integers until the end, and the (rank, reason) notes they leave on the profile's lines."""

    __slots__ = ("extra", "multiplier", "notes", "ranks", "reasons")

    def __init__(self, chosen: Sequence[Campaign], ranks: Sequence[int]):
        m_num = m_den = e_den = 1
        e_num = 0
        notes = []
        for rank in ranks:
            c = chosen[rank]
            mn, md, en, ed = c.accrual_terms
            m_num, m_den = m_num * mn, m_den * md
            e_num, e_den = e_num * ed + en * e_den, e_den * ed
            notes.append((rank, c.reason))
        self.notes: list[tuple[int, Reason]] = notes
        self.ranks = ranks
        self.multiplier = cached_fraction(m_num, m_den) if m_num != m_den else ONE
        self.extra = cached_fraction(e_num, e_den) if e_num else ZERO
        self.reasons = tuple([reason for _, reason in notes])


_MEMO_CHOICES, _MEMO_PROFILES = 16, 4096  # bounds: sets of campaigns, profiles per set


def _memo_table(memo: dict | None, chosen: list[Campaign]) -> dict:
    """The memo's table of profile factors for exactly these chosen campaigns."""
    if memo is None:
        return {}
    # Object identities: the memo's owner holds the campaigns, so no other object can take
    # one of their ids while the memo lives.
    key = tuple([id(c) for c in chosen])
    table = memo.get(key)
    if table is None or len(table) >= _MEMO_PROFILES:
        if len(memo) >= _MEMO_CHOICES:
            memo.clear()
        table = memo[key] = {}
    return table


@lru_cache(maxsize=4096)
def cached_fraction(numerator: int, denominator: int) -> Fraction:
    # Reducing a Fraction costs more than the rest of a profile's factors; the same campaign
    # mixes come back receipt after receipt, so their reduced values are kept.
    return Fraction(numerator, denominator)


@lru_cache(maxsize=64)
def _nothing(count: int) -> CampaignEffects:  # immutable: one per receipt size will do
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


def _number(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):.4f}".rstrip("0").rstrip(".")


def _times(multiplier: Fraction) -> str:
    return f"x{_number(multiplier)}"


def _plus(share: Fraction) -> str:
    return f"{'+' if share >= 0 else ''}{_number(share * 100)}%"

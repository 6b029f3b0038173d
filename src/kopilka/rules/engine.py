"""`quote`: the calculation order of a receipt (design handbook, section 7), one function
per step: 1. `line_amounts`; 2. `campaign_effects` (discounts, accrual factors, fixed
bonuses); 3. `program_discount`; 4. `bonus_spend`, capped and allocated to lines; 5. the
accrual (`_accrual`), exact and rounded once per receipt; 6. `new_lot`'s freeze and lifetime;
7. the customer's standing after the receipt, which counts in their purchase history
(`_standing`). Every figure carries the reasons that produced it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from fractions import Fraction
from functools import lru_cache, partial
from math import lcm

from .allocation import largest_remainder
from .campaigns import ONE, ZERO, apply_campaigns, cached_fraction
from .levels import Activity, LevelConfig, LevelStanding, purchase, standing
from .lifetime import lot_dates, lot_terms
from .model import (
    PROGRAM_COMBINED,
    PROGRAM_FIXED_DISCOUNT,
    Cart,
    CartLine,
    CustomerState,
    LineOutcome,
    Outcome,
    ProgramConfig,
    Reason,
)

NO_LEVEL = LevelStanding(level=None)
# A LineOutcome from a tuple of its fields, without a Python call per line.
_line_outcome = partial(tuple.__new__, LineOutcome)


class InvalidCart(ValueError):
    """The cart itself is impossible (negative amounts, duplicate line numbers)."""


def percent(share: Fraction) -> str:
    return _percent(share.numerator, share.denominator)


@lru_cache(maxsize=1024)
def _percent(numerator: int, denominator: int) -> str:
    # int / int is correctly rounded, like float(Fraction), without building share x 100.
    text = f"{numerator * 100 / denominator:.4f}".rstrip("0").rstrip(".")
    return f"{text}%"


@lru_cache(maxsize=4096)
def _reason(code: str, source: str, value: str) -> Reason:
    # Reasons are immutable and few (a rate or a cap of a source): quotes share them.
    return Reason(code, source, value)


def quote(
    config: ProgramConfig, customer: CustomerState | None, cart: Cart, *, now: datetime
) -> Outcome:
    """What the receipt is worth for this customer under this program at `now`: the seven
    steps of the calculation order, each a function below."""
    lines = cart.lines
    amounts = line_amounts(cart)  # 1
    active, receipt_notes = _program_applies(config, cart, now)
    before = _standing(config, customer)
    level = before.level if active else None
    # Caps, rates and campaign factors depend on a line's segments only: lines sharing them
    # are worked out together.
    groups: dict[frozenset[int], list[int]] = defaultdict(list)
    for i, line in enumerate(lines):
        groups[line.segment_ids].append(i)
    effects, notes = campaign_effects(config, customer, cart, amounts, groups, now)  # 2
    receipt_notes.extend(effects.receipt_reasons)
    discounts = list(effects.line_discounts)
    if active and config.gives_discount:
        program_discount(config, customer, level, lines, amounts, discounts, notes)  # 3
    after_discount = [a - d for a, d in zip(amounts, discounts, strict=True)]
    caps = spent = [0] * len(lines)
    max_spend = 0
    accruals, lot = [0] * len(lines), (None, None)
    if active and config.gives_bonuses and customer is not None:
        caps, spent, max_spend = bonus_spend(
            config, customer, cart, level, groups, after_discount, notes, receipt_notes
        )  # 4
        if sum(spent) and not config.accrue_when_paid_with_bonuses:
            receipt_notes.append(Reason("no_accrual_when_paid_with_bonuses", config.source))
        else:
            accruals = _accrual(
                config, level, effects, lines, groups, discounts, after_discount, spent, notes
            )  # 5
        if sum(accruals) or effects.fixed_bonus:
            lot = new_lot(config, level, now, receipt_notes)  # 6
    after = _standing(config, customer, this_receipt=(lines, after_discount))  # 7
    figures = zip(
        [line.line_no for line in lines],
        amounts,
        discounts,
        caps,
        spent,
        accruals,
        map(tuple, notes),
        strict=True,
    )
    return Outcome(
        lines=tuple(map(_line_outcome, figures)),
        subtotal=sum(amounts),
        discount=sum(discounts),
        max_spend=max_spend,
        bonus_spent=sum(spent),
        to_pay=sum(amounts) - sum(discounts) - sum(spent),
        accrual=sum(accruals),
        accrual_available_from=lot[0],
        accrual_expires_at=lot[1],
        reasons=tuple(receipt_notes),
        campaigns_applied=effects.applied,
        campaign_bonus=effects.fixed_bonus if customer is not None else 0,
        level_before=before.level,
        level_after=after.level,
        next_level=after.next,
    )


def _program_applies(config: ProgramConfig, cart: Cart, now: datetime):
    """Whether the program works for this receipt (in its period, in this store), and the
    receipt's first reasons when it does not."""
    if not config.is_active(now):
        return False, [Reason("program_inactive", config.source)]
    if not config.works_in(cart.store_id):
        return False, [Reason("program_not_in_store", config.source, str(cart.store_id))]
    return True, []


def campaign_effects(config, customer, cart: Cart, amounts, groups, now: datetime):
    """Step 2: the campaigns' discounts now, their accrual factors and fixed bonuses for step
    5, and each line's reasons so far (its exclusions, then what the campaigns did to it).
    Standalone campaigns work without a program and for anonymous receipts."""
    lines = cart.lines
    effects = apply_campaigns(
        config.campaigns,
        lines,
        amounts,
        now=now,
        store_id=cart.store_id,
        customer_group_ids=customer.group_ids if customer is not None else None,
        memo=config.campaign_memo,
        groups=groups,
    )
    notes = [
        [*_exclusions(line.no_accrual, line.no_discount, line.no_bonus_payment), *reasons]
        if line.no_accrual or line.no_discount or line.no_bonus_payment
        else [*reasons]
        for line, reasons in zip(lines, effects.line_reasons, strict=True)
    ]
    return effects, notes


def program_discount(config, customer, level, lines, amounts, discounts, notes) -> None:
    """Step 3: the program's discount (accumulative, fixed or by level) on what the campaigns
    left of the lines that allow discounts, split by largest remainder; adds to `discounts`
    and `notes`."""
    share, discount_source = _discount_share(config, customer, level)
    if not share:
        return
    eligible = [
        0 if line.no_discount else amounts[i] - discounts[i] for i, line in enumerate(lines)
    ]
    total = sum(eligible) * share.numerator // share.denominator  # never negative
    if total:
        reason = Reason("program_discount", discount_source, percent(share))
        for i, d in enumerate(largest_remainder(total, eligible)):
            if d:
                discounts[i] += d
                notes[i].append(reason)


def bonus_spend(config, customer, cart: Cart, level, groups, after_discount, notes, receipt_notes):
    """Step 4: each line's cap, the bonuses spent on each (the request, or as much as
    allowed, capped by the balance and the caps, in the program's spend unit, split in
    proportion to the caps) and the most the customer could spend."""
    lines = cart.lines
    caps = _caps(config, level, lines, groups, after_discount, notes)
    refusal = _spend_refusal(cart, customer)
    if refusal is not None:
        receipt_notes.append(refusal)
        caps = [0] * len(lines)
    unit = max(config.spend_unit, 1)
    max_spend = min(sum(caps), max(customer.available, 0)) // unit * unit
    requested = max_spend if cart.requested_spend is None else cart.requested_spend
    spend = min(requested, max_spend) // unit * unit
    if cart.requested_spend is not None and spend < cart.requested_spend:
        receipt_notes.append(Reason("spend_capped", config.source, str(cart.requested_spend)))
    spent = largest_remainder(spend, caps) if spend else [0] * len(lines)
    return caps, spent, max_spend


def new_lot(config: ProgramConfig, level, now: datetime, receipt_notes):
    """Step 6: when the accrued points become available and when they burn (a level's own
    freeze and lifetime replace the program's), with the burn date among the reasons."""
    freeze, lifetime = lot_terms(config.freeze_days, config.lifetime_days, level)
    available_from, expires_at = lot_dates(
        now,
        freeze_days=freeze,
        lifetime_days=lifetime,
        lifetime_from_accrual=config.lifetime_from_accrual,
    )
    if expires_at is not None:
        by_level = level is not None and level.lifetime_days is not None
        lifetime_source = f"level:{level.id}" if by_level else config.source
        receipt_notes.append(Reason("accrual_expires", lifetime_source, expires_at.isoformat()))
    return available_from, expires_at


def _standing(config: ProgramConfig, customer: CustomerState | None, this_receipt=None):
    """The customer's level, before or (given this receipt's lines) after the receipt."""
    if customer is None or not config.levels:
        return NO_LEVEL
    activities = dict(customer.activity)
    if this_receipt is not None:
        lines, after_discount = this_receipt
        # Only the segments some level has a threshold on matter to the standing.
        counted = frozenset(
            segment_id for lv in config.levels for segment_id, _ in lv.min_spend_by_segment
        )
        spend, by_segment = purchase(lines, after_discount, counted)
        windows = {level.window_days for level in config.levels}
        activities = {
            window: activities.get(window, Activity()).plus(spend, by_segment) for window in windows
        }
    return standing(config.levels, activities, customer.group_ids, customer.manual_level_id)


@lru_cache(maxsize=8)
def _exclusions(no_accrual: bool, no_discount: bool, no_bonus_payment: bool) -> tuple:
    flags = zip(
        ("no_accrual", "no_discount", "no_bonus_payment"),
        (no_accrual, no_discount, no_bonus_payment),
        strict=True,
    )
    return tuple(Reason(f"excluded_{flag}", "catalog") for flag, on in flags if on)


def line_amounts(cart: Cart) -> list[int]:
    """The line amounts: qty x unit price rounded half up to a kopeck, less the till's own
    discount. An impossible cart raises InvalidCart."""
    lines = cart.lines
    if len({line.line_no for line in lines}) != len(lines):
        raise InvalidCart("duplicate line numbers")
    if cart.requested_spend is not None and cart.requested_spend < 0:
        raise InvalidCart("requested spend must not be negative")
    quantities = [line.qty for line in lines]
    if not set(map(type, quantities)) <= {Fraction, int}:
        quantities = [Fraction(qty) for qty in quantities]
    # Whole lists at a time: this runs for every line of every quote.
    prices = [line.unit_price for line in lines]
    pos_discounts = [line.pos_discount for line in lines]
    nums = [qty.numerator for qty in quantities]
    dens = [qty.denominator for qty in quantities]
    if lines and (min(nums) <= 0 or min(prices) < 0 or min(pos_discounts) < 0):
        bad = next(
            line
            for line, num, price, off in zip(lines, nums, prices, pos_discounts, strict=True)
            if num <= 0 or price < 0 or off < 0
        )
        raise InvalidCart(f"line {bad.line_no}: quantity, price or discount out of range")
    # In integers, quantities being positive: floor((2 x num x price + den) / (2 x den)).
    amounts = [
        (2 * num * price + den) // (2 * den) - off
        for num, den, price, off in zip(nums, dens, prices, pos_discounts, strict=True)
    ]
    if lines and min(amounts) < 0:
        bad = next(line for line, amount in zip(lines, amounts, strict=True) if amount < 0)
        raise InvalidCart(f"line {bad.line_no}: the discount exceeds the line amount")
    return amounts


def _discount_share(
    config: ProgramConfig, customer: CustomerState | None, level: LevelConfig | None
) -> tuple[Fraction, str]:
    if config.kind == PROGRAM_FIXED_DISCOUNT:
        return config.fixed_discount_percent, f"program:{config.id}"
    if level is not None and level.discount is not None:
        return level.discount, f"level:{level.id}"
    if config.kind == PROGRAM_COMBINED and config.fixed_discount_percent:
        # A combined program gives a fixed discount or accumulative steps (one or the other:
        # the program's validation refuses both), a level's own discount replacing either.
        return config.fixed_discount_percent, f"program:{config.id}"
    total = customer.purchase_total if customer is not None else 0
    share = Fraction(0)
    for step in sorted(config.discount_steps, key=lambda s: s.min_purchase_total):
        if total >= step.min_purchase_total:
            share = step.percent
    return share, f"program:{config.id}"


def _spend_refusal(cart: Cart, customer: CustomerState) -> Reason | None:
    if not cart.store_accepts_bonus_payment:
        return Reason("store_refuses_bonus_payment", "store")
    if not cart.spend_allowed:
        return Reason("offline_receipt_accrual_only", "receipt")
    if not customer.can_spend:
        return Reason("customer_cannot_spend", "customer")
    return None


def bonus_share(
    config: ProgramConfig, level: LevelConfig | None, segment_ids: frozenset[int]
) -> tuple[Fraction, str]:
    """The share of a line payable by bonuses, and the cap it comes from (a reason's source).

    The most specific setting wins, in this order (a level replaces the program where it
    says something):
    1. the level's cap for one of the line's segments (source "level:<id>/segment:<id>");
    2. the level's own cap ("level:<id>");
    3. the program's cap for one of the line's segments ("segment:<id>");
    4. the program's cap ("program:<id>").
    A line in several segments capped at the same step takes the tightest of their caps
    (the lowest segment id among equals). Every face (quote, confirm, simulator) gets its
    caps from here and nowhere else.
    """
    if level is not None:
        if level.max_share_by_segment and segment_ids:
            found = _tightest(level.segment_caps, segment_ids)
            if found is not None:
                return found[0], f"level:{level.id}/segment:{found[1]}"
        if level.max_share is not None:
            return level.max_share, f"level:{level.id}"
    if config.segment_max_share and segment_ids:
        found = _tightest(config.segment_caps, segment_ids)
        if found is not None:
            return found[0], f"segment:{found[1]}"
    return config.max_share, config.source


def _tightest(caps: dict[int, Fraction], segment_ids: frozenset[int]):
    """(share, segment id) of the tightest cap among the segments, or None if none has one."""
    if segment_ids.isdisjoint(caps):
        return None
    return min((caps[s], s) for s in segment_ids.intersection(caps))


def _caps(config, level, lines, groups, after_discount, notes) -> list[int]:
    """The most bonuses may pay per line: the line's share (`bonus_share`). A share depends
    on the line's segments only, so it is worked out once per group of lines sharing them."""
    caps = [0] * len(lines)
    for segments, members in groups.items():
        share, source = bonus_share(config, level, segments)
        num, den = share.numerator, share.denominator
        reason = _reason("bonus_cap", source, percent(share)) if num < den else None
        for i in members:
            if not lines[i].no_bonus_payment:
                caps[i] = after_discount[i] * num // den  # amounts are never negative
                if reason is not None:
                    notes[i].append(reason)
    return caps


def _level_percent(level: LevelConfig, line: CartLine) -> Fraction:
    """The level's cashback for this line: its segment's rate if it has one, else the level's."""
    rates = dict(level.cashback_by_segment)
    matching = sorted(line.segment_ids & rates.keys())
    return rates[matching[0]] if matching else (level.cashback or Fraction(0))


def _accrual(
    config, level, effects, lines, groups, discounts, after_discount, spent, notes
) -> list[int]:
    # Steps are chosen by the receipt total after discounts (the document sum), as in the
    # seeds: 4900 earns 2 %, and 100 more makes the whole receipt earn 5 %.
    receipt_total = sum(after_discount)
    not_discounted = _reason("discounted_line_earns_nothing", config.source, "")
    skip_discounted = not config.accrue_on_discounted
    rules = _Rules(config, receipt_total)
    # A line's rate depends only on its segments (campaign factors too, for accruing lines):
    # it is worked out once per group of lines sharing their segments.
    earning: list[tuple[Fraction, list[int]]] = []  # (rate, indexes of the lines earning it)
    for members in groups.values():
        rate = reason = None
        earners = []
        for i in members:
            line = lines[i]
            if line.no_accrual:
                continue
            if skip_discounted and (line.pos_discount or discounts[i]):
                notes[i].append(not_discounted)
                continue
            if rate is None:
                extra, factor = effects.accrual_extra_percent[i], effects.accrual_multiplier[i]
                rate, reason = _rate(rules, level, line, extra, factor)
            if rate:
                notes[i].append(reason)
                earners.append(i)
        if earners:
            earning.append((rate, earners))
    # Exact to the last fraction of a kopeck, in integers: scale every line's share by the
    # common denominator of the rates (percents with at most three decimals keep it small).
    scale = lcm(*(rate.denominator for rate, _ in earning))
    scaled = [0] * len(lines)
    for rate, earners in earning:
        factor = rate.numerator * (scale // rate.denominator)
        for i in earners:
            scaled[i] = (after_discount[i] - spent[i]) * factor
    unit = max(config.accrual_unit, 1)
    total = sum(scaled) // (scale * unit) * unit
    return largest_remainder(total, scaled) if total else [0] * len(lines)


class _Rules:
    """The accrual rules of one receipt: a segment rule covering the line wins over a
    whole-receipt rule, the lowest id first; each rule's step is chosen by the receipt total."""

    def __init__(self, config: ProgramConfig, receipt_total: int):
        self.by_segment, self.general = config.accrual_rules_in_order
        self.receipt_total = receipt_total

    def rate_for(self, line: CartLine) -> tuple[Fraction, str]:
        rule = self.general
        if self.by_segment:
            segments = line.segment_ids
            rule = next((r for r in self.by_segment if r.segment_ids & segments), rule)
        if rule is None:
            return ZERO, ""
        step = rule.percent_for(self.receipt_total)
        return (step.percent if step else ZERO), rule.source


def _rate(rules: _Rules, level, line, extra, factor) -> tuple[Fraction, Reason | None]:
    """The accrual percent of a line and the reason naming where it comes from. Campaigns may
    raise it, but never above 100 %: a line never earns more bonuses than the money paid."""
    if level is not None and (level.cashback is not None or level.cashback_by_segment):
        rate, source = _level_percent(level, line), f"level:{level.id}"
    else:
        rate, source = rules.rate_for(line)
    if (extra is not ZERO and extra.numerator) or (
        factor is not ONE and factor.numerator != factor.denominator
    ):
        # (rate + extra) x factor, capped at 1, in integers: Fraction arithmetic would cost
        # more than the rest of the line group's accrual.
        r_num, r_den, e_den = rate.numerator, rate.denominator, extra.denominator
        num = (r_num * e_den + extra.numerator * r_den) * factor.numerator
        den = r_den * e_den * factor.denominator
        rate = ONE if num >= den else cached_fraction(num, den)
    return rate, (_reason("accrual_percent", source, percent(rate)) if rate else None)

"""The engine's inputs and outputs: frozen dataclasses of plain values.

Money is an int of minor units (kopecks); percents and shares are Fractions (5 % = 1/20);
quantities are Fractions so that 0.345 kg is exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from functools import cached_property
from typing import TYPE_CHECKING, NamedTuple

from .levels import Activity, LevelConfig, NextLevel

if TYPE_CHECKING:
    from .campaigns import Campaign

PROGRAM_BONUS = "bonus"
PROGRAM_ACCUMULATIVE_DISCOUNT = "accumulative_discount"
PROGRAM_FIXED_DISCOUNT = "fixed_discount"
# Seed 002's "совмещённые системы": a discount and bonuses on the same receipt.
PROGRAM_COMBINED = "combined"
# What each kind gives (the engine asks these, never the kind itself).
GIVES_DISCOUNT = frozenset(
    {PROGRAM_FIXED_DISCOUNT, PROGRAM_ACCUMULATIVE_DISCOUNT, PROGRAM_COMBINED}
)
GIVES_BONUSES = frozenset({PROGRAM_BONUS, PROGRAM_COMBINED})
# A level's own discount counts in these (a fixed-discount program gives its percent to all).
GIVES_LEVEL_DISCOUNT = frozenset({PROGRAM_ACCUMULATIVE_DISCOUNT, PROGRAM_COMBINED})
# Discount steps by the customer's purchases total.
GIVES_DISCOUNT_STEPS = frozenset({PROGRAM_ACCUMULATIVE_DISCOUNT, PROGRAM_COMBINED})


@dataclass(frozen=True)
class Reason:
    """Why a number is what it is: a stable code, the source that produced it, and details."""

    code: str
    source: str = ""  # e.g. "program:3", "accrual_rule:7", "segment:2", "store"
    value: str = ""  # e.g. "5%", "4900"


@dataclass(frozen=True)
class AccrualStep:
    min_receipt_total: int  # the step applies from this receipt total (inclusive)
    percent: Fraction


@dataclass(frozen=True)
class AccrualRule:
    """Cashback by receipt-total steps over the whole receipt (no segments) or some segments."""

    id: int
    steps: tuple[AccrualStep, ...]
    segment_ids: frozenset[int] = frozenset()

    def percent_for(self, receipt_total: int) -> AccrualStep | None:
        chosen = None
        for step in self.steps_in_order:
            if receipt_total >= step.min_receipt_total:
                chosen = step
        return chosen

    # Derived once per rule, not per receipt (cached_property fills the instance's __dict__
    # directly, past the frozen __setattr__; equality and hashing still see fields only).
    @cached_property
    def steps_in_order(self) -> list[AccrualStep]:
        return sorted(self.steps, key=lambda s: s.min_receipt_total)

    @cached_property
    def source(self) -> str:
        return f"accrual_rule:{self.id}"


@dataclass(frozen=True)
class DiscountStep:
    """Accumulative discount: `percent` once earlier purchases reach `min_purchase_total`."""

    min_purchase_total: int
    percent: Fraction


@dataclass(frozen=True)
class ProgramConfig:
    id: int
    kind: str = PROGRAM_BONUS
    enabled: bool = True
    active_from: datetime | None = None
    active_to: datetime | None = None
    # The stores where the program works; None: every store.
    store_ids: frozenset[int] | None = None
    # Discounts (discount and combined programs)
    fixed_discount_percent: Fraction = Fraction(0)
    discount_steps: tuple[DiscountStep, ...] = ()
    # Bonus payment
    max_share: Fraction = Fraction(1)  # share of a line payable by bonuses
    segment_max_share: tuple[tuple[int, Fraction], ...] = ()
    spend_unit: int = 1  # 100: bonuses are spent in whole units only
    # Accrual
    accrual_rules: tuple[AccrualRule, ...] = ()
    accrue_on_discounted: bool = True
    accrue_when_paid_with_bonuses: bool = True
    # The receipt's accrual is rounded down to whole bonuses (100) or to kopecks (1).
    accrual_unit: int = 100
    freeze_days: int = 0
    lifetime_days: int | None = None
    # The lifetime counts from the accrual (seed 004) or from the end of the freeze.
    lifetime_from_accrual: bool = False
    levels: tuple[LevelConfig, ...] = ()
    # Campaigns of this program and the merchant's standalone ones, already filtered to the
    # customer's remaining uses; the engine picks those running at the receipt's moment.
    campaigns: tuple[Campaign, ...] = ()

    @cached_property
    def source(self) -> str:
        return f"program:{self.id}"

    @property
    def gives_discount(self) -> bool:
        """A program discount (step 3): discount and combined programs."""
        return self.kind in GIVES_DISCOUNT

    @property
    def gives_bonuses(self) -> bool:
        """Payment by bonuses and accrual (steps 4 and 5): bonus and combined programs."""
        return self.kind in GIVES_BONUSES

    @property
    def discount_by_purchases(self) -> bool:
        """Whether the discount may depend on the customer's earlier purchases (accumulative
        steps), so the caller must read their purchase total."""
        return (
            self.gives_discount
            and self.kind != PROGRAM_FIXED_DISCOUNT
            and bool(self.discount_steps)
        )

    @cached_property
    def campaign_memo(self) -> dict:
        """What the engine learns about this configuration's campaigns (see apply_campaigns)."""
        return {}

    def __getstate__(self) -> dict:
        # The memo is keyed by object identities, which do not survive pickling (the
        # simulator sends configurations to other processes): each copy starts its own.
        state = dict(self.__dict__)
        state.pop("campaign_memo", None)
        return state

    @cached_property
    def segment_caps(self) -> dict[int, Fraction]:
        return dict(self.segment_max_share)

    @cached_property
    def accrual_rules_in_order(self) -> tuple[list[AccrualRule], AccrualRule | None]:
        """The segment rules by id, and the whole-receipt rule with the lowest id."""
        rules = self.accrual_rules
        by_segment = sorted((r for r in rules if r.segment_ids), key=lambda r: r.id)
        general = min((r for r in rules if not r.segment_ids), default=None, key=lambda r: r.id)
        return by_segment, general

    def works_in(self, store_id: int | None) -> bool:
        return self.store_ids is None or store_id in self.store_ids

    def is_active(self, now: datetime) -> bool:
        if not self.enabled:
            return False
        if self.active_from is not None and now < self.active_from:
            return False
        return not (self.active_to is not None and now >= self.active_to)


@dataclass(frozen=True)
class CustomerState:
    """What the engine needs to know about the customer, read before the quote."""

    available: int = 0  # spendable bonus balance now
    purchase_total: int = 0  # earlier purchases (accumulative discounts)
    can_spend: bool = True  # e.g. False for a customer awaiting confirmation
    group_ids: frozenset[int] = frozenset()
    # Purchases within each window the program's levels use: (window days, activity).
    activity: tuple[tuple[int, Activity], ...] = ()
    manual_level_id: int | None = None  # an assignment still in force


@dataclass(frozen=True)
class CartLine:
    line_no: int
    sku: str
    qty: Fraction
    unit_price: int
    pos_discount: int = 0
    no_accrual: bool = False
    no_discount: bool = False
    no_bonus_payment: bool = False
    segment_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Cart:
    lines: tuple[CartLine, ...]
    requested_spend: int | None = 0  # None: as much as allowed
    store_accepts_bonus_payment: bool = True
    spend_allowed: bool = True  # False for offline receipts: accrual only
    store_id: int | None = None


# The two results below are named tuples rather than frozen dataclasses: every quote builds
# them (the simulator millions of times), and a tuple is built several times faster while
# being just as immutable. They are read by attribute only.


class LineOutcome(NamedTuple):
    """One line's figures."""

    line_no: int
    amount: int  # qty x unit price - POS discount
    discount: int  # program (and later campaign) discount
    bonus_cap: int  # most that bonuses may pay on this line
    bonus_spent: int
    accrual: int
    reasons: tuple[Reason, ...] = ()

    @property
    def to_pay(self) -> int:
        return self.amount - self.discount - self.bonus_spent


class Outcome(NamedTuple):
    """What a receipt is worth: the totals, the lines, the reasons and the level."""

    lines: tuple[LineOutcome, ...]
    subtotal: int  # sum of line amounts: the purchase sum, excluded items included
    discount: int
    max_spend: int  # most bonuses payable on this receipt for this customer
    bonus_spent: int
    to_pay: int
    accrual: int
    accrual_available_from: datetime | None
    accrual_expires_at: datetime | None
    reasons: tuple[Reason, ...] = ()
    campaigns_applied: tuple[int, ...] = ()
    campaign_bonus: int = 0  # fixed bonuses of campaigns, credited besides the accrual
    level_before: LevelConfig | None = None
    level_after: LevelConfig | None = None
    next_level: NextLevel | None = None  # counted after this receipt

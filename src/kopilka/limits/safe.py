"""Safe operations: which limits a merchant sets on moving bonuses, and how one movement is
judged against them. Plain Python (no Django, no clock): the services count, this decides.

A limit caps one operation (accrual, bonus payment, manual credit, manual debit) either per
single operation or per day for one subject: a card (the customer), a register, a cashier, a
staff member. Each has a soft threshold (the movement is booked and flagged) and a hard one
(it is refused). Amounts are kopecks, at most `bounds.MAX_LEDGER_MOVEMENT`.
"""

from __future__ import annotations

import functools
import json
from enum import StrEnum
from typing import NamedTuple

from kopilka import bounds


class Operation(StrEnum):
    ACCRUAL = "accrual"
    PAYMENT = "payment"
    MANUAL_CREDIT = "manual_credit"
    MANUAL_DEBIT = "manual_debit"


class Scope(StrEnum):
    OPERATION = "operation"  # one movement, whoever makes it
    CARD = "card"  # per customer and day
    REGISTER = "register"  # per register and day
    CASHIER = "cashier"  # per cashier (as the till names them) and day
    STAFF = "staff"  # per back-office user and day


TILL_SCOPES = (Scope.OPERATION, Scope.CARD, Scope.REGISTER, Scope.CASHIER)
STAFF_SCOPES = (Scope.OPERATION, Scope.CARD, Scope.STAFF)
OFFERED: tuple[tuple[Operation, Scope], ...] = (
    *((Operation.ACCRUAL, scope) for scope in TILL_SCOPES),
    *((Operation.PAYMENT, scope) for scope in TILL_SCOPES),
    *((Operation.MANUAL_CREDIT, scope) for scope in STAFF_SCOPES),
    *((Operation.MANUAL_DEBIT, scope) for scope in STAFF_SCOPES),
)
"""Every limit a merchant may set, in the order the settings page lists them."""

RUB = 100
DEFAULTS: dict[tuple[Operation, Scope], tuple[int | None, int | None]] = {
    # Soft thresholds only: out of the box Kopilka flags what is unusual for a shop and
    # refuses nothing; an owner who wants refusals sets the hard thresholds.
    (Operation.ACCRUAL, Scope.OPERATION): (5_000 * RUB, None),
    (Operation.ACCRUAL, Scope.CARD): (10_000 * RUB, None),
    (Operation.ACCRUAL, Scope.CASHIER): (50_000 * RUB, None),
    (Operation.PAYMENT, Scope.OPERATION): (10_000 * RUB, None),
    (Operation.PAYMENT, Scope.CARD): (20_000 * RUB, None),
    (Operation.MANUAL_CREDIT, Scope.OPERATION): (2_000 * RUB, None),
    (Operation.MANUAL_CREDIT, Scope.CARD): (5_000 * RUB, None),
    (Operation.MANUAL_CREDIT, Scope.STAFF): (10_000 * RUB, None),
    (Operation.MANUAL_DEBIT, Scope.STAFF): (10_000 * RUB, None),
}

MAX_THRESHOLD = bounds.MAX_LEDGER_MOVEMENT


class Limit(NamedTuple):
    operation: Operation
    scope: Scope
    soft: int | None  # kopecks; above it: booked and flagged
    hard: int | None  # kopecks; above it: refused

    @property
    def name(self) -> str:
        return f"{self.operation}:{self.scope}"


class Pattern(StrEnum):
    MANY_STORES = "many_stores"  # one card at several stores within minutes
    CARD_AFTER_ANONYMOUS = "card_after_anonymous"  # anonymous receipts, then one card, one till


class Patterns(NamedTuple):
    """When a sale is flagged as a pattern of abuse; a count of 0 switches the pattern off."""

    stores: int = 3  # MANY_STORES: this many different stores...
    stores_minutes: int = 30  # ...within this many minutes
    anonymous: int = 5  # CARD_AFTER_ANONYMOUS: this many anonymous sales at one register...
    anonymous_minutes: int = 30  # ...within this many minutes, followed by a card's sale


class Settings(NamedTuple):
    limits: tuple[Limit, ...]
    patterns: Patterns

    def day_limits(self) -> tuple[Limit, ...]:
        return tuple(limit for limit in self.limits if limit.scope != Scope.OPERATION)


class Use(NamedTuple):
    """One movement as a limit sees it: `subject` names the card, register, cashier or staff
    member of `scope` (ignored per operation)."""

    operation: Operation
    scope: Scope
    subject: str
    amount: int


class Breach(NamedTuple):
    limit: Limit
    subject: str
    amount: int  # this movement
    total: int  # the day's total with it (the movement itself per operation)
    hard: bool  # refused, not only flagged

    @property
    def threshold(self) -> int:
        return self.limit.hard if self.hard else self.limit.soft


def settings_of(stored: dict | None) -> Settings:
    """The merchant's settings: the stored values (as `stored_form` writes them) over
    `DEFAULTS`; a limit stored as {"soft": None, "hard": None} is switched off. Read on
    every sale, so each distinct stored form is worked out once."""
    return _settings_of(json.dumps(stored or {}, sort_keys=True))


@functools.lru_cache(maxsize=1024)
def _settings_of(stored_json: str) -> Settings:
    stored = json.loads(stored_json)
    limits = []
    for operation, scope in OFFERED:
        soft, hard = DEFAULTS.get((operation, scope), (None, None))
        own = stored.get(f"{operation}:{scope}")
        if isinstance(own, dict):
            soft, hard = own.get("soft"), own.get("hard")
        if soft is not None or hard is not None:
            limits.append(Limit(operation, scope, soft, hard))
    own_patterns = stored.get("patterns") or {}
    patterns = Patterns(
        **{k: int(v) for k, v in own_patterns.items() if k in Patterns._fields and v is not None}
    )
    return Settings(tuple(limits), patterns)


def stored_form(limits: dict[tuple[Operation, Scope], tuple[int | None, int | None]], patterns):
    """What `settings_of` reads back: every offered limit written out, so a later change of
    `DEFAULTS` never changes a merchant's saved choice."""
    stored = {
        f"{operation}:{scope}": {"soft": soft, "hard": hard}
        for (operation, scope), (soft, hard) in limits.items()
    }
    stored["patterns"] = dict(patterns._asdict())
    return stored


def problems(soft: int | None, hard: int | None) -> str | None:
    """Why a pair of thresholds cannot be saved, or None."""
    for value in (soft, hard):
        if value is not None and not 0 < value <= MAX_THRESHOLD:
            return "range"
    if soft is not None and hard is not None and soft >= hard:
        return "order"
    return None


def judge(settings: Settings, uses: list[Use], totals: dict[tuple[str, str], int]) -> list[Breach]:
    """The limits these movements cross. `totals[(limit name, subject)]` is the day's total
    including the movements (as the counters return it); per operation the movement alone.
    A day's soft threshold is flagged once, by the movement that crosses it."""
    breaches = []
    by_pair: dict[tuple[str, str], list[Use]] = {}
    for use in uses:
        if use.amount > 0:
            by_pair.setdefault((use.operation, use.scope), []).append(use)
    for limit in settings.limits:
        for use in by_pair.get((limit.operation, limit.scope), ()):
            total = totals.get((limit.name, use.subject), use.amount)
            if limit.scope == Scope.OPERATION:
                total = use.amount
            before = total - use.amount
            crossed_now = limit.scope == Scope.OPERATION or before <= (limit.soft or 0)
            if limit.hard is not None and total > limit.hard:
                breaches.append(Breach(limit, use.subject, use.amount, total, hard=True))
            elif limit.soft is not None and total > limit.soft and crossed_now:
                breaches.append(Breach(limit, use.subject, use.amount, total, hard=False))
    return breaches


def sale_uses(*, accrued: int, spent: int, customer_id, register_id, cashier: str) -> list[Use]:
    """What a sale moves, per scope: its accrual and its bonus payment."""
    uses = []
    for operation, amount in ((Operation.ACCRUAL, accrued), (Operation.PAYMENT, spent)):
        if amount <= 0:
            continue
        uses.append(Use(operation, Scope.OPERATION, "", amount))
        if customer_id is not None:
            uses.append(Use(operation, Scope.CARD, str(customer_id), amount))
        uses.append(Use(operation, Scope.REGISTER, str(register_id), amount))
        if cashier:
            uses.append(Use(operation, Scope.CASHIER, cashier, amount))
    return uses


def adjustment_uses(*, amount: int, customer_id, staff_id) -> list[Use]:
    """What a manual credit (amount > 0) or debit (< 0) moves, per scope."""
    operation = Operation.MANUAL_CREDIT if amount > 0 else Operation.MANUAL_DEBIT
    size = abs(amount)
    uses = [
        Use(operation, Scope.OPERATION, "", size),
        Use(operation, Scope.CARD, str(customer_id), size),
    ]
    if staff_id is not None:
        uses.append(Use(operation, Scope.STAFF, str(staff_id), size))
    return uses


def patterns_matched(
    patterns: Patterns, *, stores: int, anonymous: int, card_sales: int
) -> list[Pattern]:
    """The patterns of abuse a sale with a card completes. `stores`: the different stores of
    the card's sales within `stores_minutes`; `anonymous`: the anonymous sales at the sale's
    register within `anonymous_minutes`, and `card_sales` the card's sales there (this sale
    included): a cashier collecting anonymous buyers' bonuses on one card."""
    matched = []
    if patterns.stores and stores >= patterns.stores:
        matched.append(Pattern.MANY_STORES)
    if patterns.anonymous and card_sales >= 2 and anonymous >= patterns.anonymous:
        matched.append(Pattern.CARD_AFTER_ANONYMOUS)
    return matched

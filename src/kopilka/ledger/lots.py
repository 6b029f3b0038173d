"""How points move between lots: the spend order, taking an amount, holding and releasing, the
clawback preference, refund shares, the split of a lot's points at a moment, and a new lot's dates.

Plain Python: no Django, no clock (every rule that depends on time takes `now`), no I/O;
amounts are integers in minor units. The ledger's services, the sale's balance-after and the
simulator's wallet all move points through these functions; `ledger.sql` spells the spend
order and the split once more in SQL for the hot path, and a property test holds the two equal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import NamedTuple

from kopilka.rules.lifetime import lot_dates


@dataclass(slots=True, eq=False)
class Lot:
    """Points from one credit: `remaining` to spend, `held` reserved by holds; usable from
    `available_from` until `expires_at` (None: never burns). Lots the database has already
    chosen for a spend carry only their id and figures; their dates stay None."""

    id: int
    remaining: int
    held: int = 0
    available_from: datetime | None = None
    expires_at: datetime | None = None
    created_at: datetime | None = None


# ---- a lot at a moment ----------------------------------------------------------------------


def burnt(lot: Lot, now: datetime) -> bool:
    """Whether the lot's points have burnt by `now` (written off or not)."""
    return lot.expires_at is not None and lot.expires_at <= now


def usable(lot: Lot, now: datetime) -> bool:
    """Whether the lot's points may be spent at `now`: its freeze is over, it has not burnt."""
    return lot.available_from <= now and not burnt(lot, now)


class Split(NamedTuple):
    """Where points stand at a moment."""

    available: int  # spendable
    pending: int  # frozen: credited, not yet spendable
    expired: int  # burnt, whether or not an expiry entry has written them off yet
    held: int  # reserved by holds


def split(lots: Iterable[Lot], now: datetime) -> Split:
    """The lots' remaining points at `now`, each in exactly one of available, pending and
    expired, and the points their holds reserve."""
    available = pending = expired = held = 0
    for lot in lots:
        held += lot.held
        if burnt(lot, now):
            expired += lot.remaining
        elif lot.available_from <= now:
            available += lot.remaining
        else:
            pending += lot.remaining
    return Split(available, pending, expired, held)


def opening_dates(
    now: datetime,
    *,
    freeze_days: int,
    lifetime_days: int | None,
    lifetime_from_accrual: bool,
    available_from: datetime | None = None,
    expires_at: datetime | None = None,
) -> tuple[datetime, datetime | None]:
    """(available_from, expires_at) of a lot opened at `now`: the dates the caller gives, else
    the program's (`rules.lifetime.lot_dates`: when the lot's lifetime starts is a rule of
    the program, the engine's too)."""
    planned_from, planned_expiry = lot_dates(
        now,
        freeze_days=freeze_days,
        lifetime_days=lifetime_days,
        lifetime_from_accrual=lifetime_from_accrual,
    )
    return (
        planned_from if available_from is None else available_from,
        planned_expiry if expires_at is None else expires_at,
    )


# ---- spending -------------------------------------------------------------------------------


def spend_order(lot: Lot) -> tuple:
    """The key of the spend order: the earliest expiry first (lots that never burn last), then
    the oldest, then the lowest id. A total order: no two lots share an id."""
    return (lot.expires_at is None, lot.expires_at, lot.created_at, lot.id)


def spendable(lots: Iterable[Lot], now: datetime) -> list[Lot]:
    """The lots with points a spend may take at `now`, in spend order."""
    return sorted((lot for lot in lots if lot.remaining and usable(lot, now)), key=spend_order)


def take(lots: Iterable[Lot], amount: int) -> list[tuple[Lot, int]]:
    """Take up to `amount` from the lots in the order given, each lot as far as it goes,
    lowering their `remaining`. Returns (lot, points taken) for each lot taken from; less than
    `amount` in all when the lots hold less (the caller decides whether that is refused)."""
    takes, left = [], amount
    for lot in lots:
        if not left:
            break
        part = min(lot.remaining, left)
        if part > 0:
            lot.remaining -= part
            takes.append((lot, part))
            left -= part
    return takes


def hold(lots: Iterable[Lot], amount: int) -> list[tuple[Lot, int]]:
    """Reserve up to `amount` from the lots in the order given: the points leave `remaining`
    for `held`. Returns (lot, points held) as `take`."""
    takes = take(lots, amount)
    for lot, part in takes:
        lot.held += part
    return takes


def release(parts: Iterable[tuple[Lot, int]], captured: int) -> list[tuple[Lot, int]]:
    """Close a hold of (lot, points held) parts: `captured` points are spent, taken from the
    parts in their order; the rest go back to `remaining` of the lots they came from.
    Returns (lot, points captured) for each lot something was captured from."""
    captured_from, left = [], captured
    for lot, amount in parts:
        part = min(amount, left)
        left -= part
        lot.held -= amount
        lot.remaining += amount - part
        if part:
            captured_from.append((lot, part))
    return captured_from


def clawback_order(own: Iterable[Lot], spendable_lots: Iterable[Lot], now: datetime) -> list[Lot]:
    """Where a refund takes back its accrual from: the sale's own lots that have points and have
    not burnt (even while still frozen), oldest first, then the spendable lots (in spend
    order, as given) that are not among them."""
    own = sorted((lot for lot in own if lot.remaining and not burnt(lot, now)), key=_id)
    own_ids = {lot.id for lot in own}
    return [*own, *(lot for lot in spendable_lots if lot.id not in own_ids)]


def _id(lot: Lot) -> int:
    return lot.id


# ---- refunds --------------------------------------------------------------------------------


def refund_share(value: int, before: Fraction, after: Fraction, total: Fraction) -> int:
    """The share of a line's `value` a refund of its units from `before` to `after` (of `total`
    sold) takes back. Each cumulative part is rounded down, so the shares of a line refunded
    in any number of steps add up to its value exactly."""
    return _part(value, after, total) - _part(value, before, total)


def _part(value: int, done: Fraction, total: Fraction) -> int:
    return int(value * done / total)

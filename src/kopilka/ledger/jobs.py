"""The ledger's maintenance for `kopilka tick`: set-based, batched, idempotent, resumable.

* `expire_lots`: writes the `expiry` entries of lots past their expiry and zeroes them;
* `expire_holds`: releases holds past their timeout and voids their held receipts;
* `emit_expiring_soon`: one outbox event per account and day on which its points expire soon.

Nothing here is needed for correctness: balances already count expired lots and timed-out holds
by time (`selectors`). These jobs write down what already happened, so reports, history and
notifications see it.

Every batch is one short transaction that follows the ledger's rule: lock the accounts first
(`locks.lock_accounts`, primary-key order), then re-read under the lock what is still to do and
do it with a few statements over the whole batch (no statement per lot). So two runs in
parallel queue on the account rows and the second finds nothing left; a crash loses at most
the batch in flight, which the next run does again. Batches are walked in account (or hold) id
order with a keyset cursor, so one run reads each due row once however large the table.

The statements are portable between PostgreSQL and SQLite except where they branch on
`connection.vendor` (random UUIDs, JSON, dates); both paths run in the test suite.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction

from kopilka.merchants.actors import Actor

from . import locks, sql

ACTOR = str(Actor.system("tick"))  # "system:tick"
BATCH_LOTS = 5000
BATCH_HOLDS = 1000
EXPIRING_SOON = "bonuses_expiring"


@dataclass
class ExpiryResult:
    lots: int = 0  # lots written off
    amount: int = 0  # points written off (minor units, positive)
    holds: int = 0  # timed-out holds released on the way
    batches: int = 0


@dataclass
class HoldResult:
    holds: int = 0  # timed-out holds released
    receipts: int = 0  # held receipts voided
    batches: int = 0


@dataclass
class OutboxResult:
    events: int = 0  # new events (already emitted ones are not counted)
    batches: int = 0


# ---- 1. expiries ----------------------------------------------------------------------------


def expire_lots(
    *,
    now: datetime,
    batch_size: int = BATCH_LOTS,
    on_batch: Callable[[ExpiryResult], None] | None = None,
) -> ExpiryResult:
    """Write off every lot past its expiry (at `now`) that still has points, batch by batch.

    A batch is the accounts of the next `batch_size` due lots in account order; under their
    locks, timed-out holds on them are released first (so points a hold kept on an expired lot
    expire too), then all their due lots are written off at once."""
    result = ExpiryResult()
    at = sql.moment(now)
    after = 0
    while True:
        account_ids = sql.accounts_with_due_lots(after=after, now=at, limit=batch_size)
        if not account_ids:
            return result
        with transaction.atomic():
            locks.lock_accounts(account_ids)
            result.holds += sql.release_holds(sql.timed_out_holds("account_id", account_ids, at))
            lots, amount = sql.write_off(account_ids, at, ACTOR)
        result.lots += lots
        result.amount += amount
        result.batches += 1
        after = account_ids[-1]
        if on_batch:
            on_batch(result)


# ---- 2. holds -------------------------------------------------------------------------------


def expire_holds(*, now: datetime, batch_size: int = BATCH_HOLDS) -> HoldResult:
    """Release holds past their timeout and void their receipts still `held`.

    Also voids a held receipt whose hold something else already released (a spend on the
    account, or `expire_lots`). Locks in the order the POS does: receipts, then accounts."""
    result = HoldResult()
    at = sql.moment(now)
    after = 0
    while True:
        rows = sql.holds_due(after=after, now=at, limit=batch_size)
        if not rows:
            return result
        hold_ids = [row[0] for row in rows]
        receipt_ids = sorted({row[2] for row in rows if row[2] is not None})
        with transaction.atomic():
            sql.lock_receipts(receipt_ids)
            locks.lock_accounts({row[1] for row in rows})
            result.holds += sql.release_holds(sql.timed_out_holds("id", hold_ids, at))
            result.receipts += sql.void_held_receipts(receipt_ids)
        result.batches += 1
        after = hold_ids[-1]


# ---- 3. "bonuses expiring soon" events ------------------------------------------------------


def emit_expiring_soon(
    *, now: datetime, within_days: int, batch_size: int = BATCH_LOTS
) -> OutboxResult:
    """One outbox event per (account, UTC day) on which points with something left expire
    within `within_days` days after `now`; the dedupe key `expiring:<account>:<day>` makes a
    later run emit nothing new for that day (its payload keeps the figures of the first run).

    Payload: account_id, program_id, amount (minor units, what is left on those lots at the
    time), expires_at (the earliest of them, ISO 8601 UTC), expires_on (the day).
    Reads without locks: a notification is a snapshot, not a balance."""
    result = OutboxResult()
    start, end = sql.moment(now), sql.moment(now + timedelta(days=within_days))
    after = 0
    while True:
        last = sql.last_account_expiring(after=after, start=start, end=end, limit=batch_size)
        if last is None:
            return result
        with transaction.atomic():
            result.events += sql.insert_expiring_events(
                kind=EXPIRING_SOON,
                now=sql.moment(now),
                after=after,
                last=last,
                start=start,
                end=end,
            )
        result.batches += 1
        after = last

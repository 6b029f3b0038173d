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

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction

from kopilka.merchants.actors import Actor
from kopilka.sales.models import Receipt

from . import locks
from .models import Entry, EntryKind, Hold

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


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _moment(value: datetime):
    return connection.ops.adapt_datetimefield_value(value)


def _in(ids: list[int]) -> tuple[str, list]:
    """`<column> IN` the ids: one array parameter on PostgreSQL, a list of them on SQLite."""
    if _pg():
        return "= ANY(%s)", [list(ids)]
    return f"IN ({', '.join(['%s'] * len(ids))})", list(ids)


def _release_holds(cursor, hold_ids: list[int]) -> int:
    """Release these holds as timed out, as `services._release_expired_holds` does: the points
    go back from `held` to `remaining` of the lots they came from; status `expired`, closed as
    of the moment the hold stopped counting. The caller holds the accounts' locks."""
    if not hold_ids:
        return 0
    holds, params = _in(hold_ids)
    share = (
        "(SELECT SUM(a.amount) FROM ledger_holdallocation a "
        f"WHERE a.lot_id = ledger_lot.id AND a.hold_id {holds})"
    )
    cursor.execute(
        f"UPDATE ledger_lot SET held = held - {share}, remaining = remaining + {share} "
        f"WHERE id IN (SELECT lot_id FROM ledger_holdallocation WHERE hold_id {holds})",
        params * 3,
    )
    cursor.execute(
        "UPDATE ledger_hold SET status = %s, captured_amount = 0, closed_at = expires_at "
        f"WHERE id {holds}",
        [Hold.Status.EXPIRED, *params],
    )
    return len(hold_ids)


def _timed_out_holds(cursor, column: str, ids: list[int], now) -> list[int]:
    where, params = _in(ids)
    cursor.execute(
        f"SELECT id FROM ledger_hold WHERE {column} {where} AND status = %s "
        "AND expires_at <= %s ORDER BY id",
        [*params, Hold.Status.ACTIVE, now],
    )
    return [row[0] for row in cursor.fetchall()]


# ---- 1. expiries ----------------------------------------------------------------------------

_ENTRY_COLUMNS = (
    "merchant_id, account_id, lot_id, transfer_id, kind, amount, receipt_id, hold_id, actor, "
    "reason, created_at"
)
_TRANSFER_ID = Entry._meta.get_field("transfer_id")


def _write_off(cursor, account_ids: list[int], now) -> tuple[int, int]:
    """Expiry entries for the accounts' lots past expiry with points left, then zero them.

    One entry per lot (`-remaining`, dated when the lot expired, as `services.expire` writes
    them). The entries of one account in one batch are one operation and share a transfer id:
    new random ids land on random pages of the transfer_id index, and one per account instead
    of one per lot keeps a million-lot run from dirtying (and logging) most of that index."""
    accounts, params = _in(account_ids)
    transfers = [
        (pk, _TRANSFER_ID.get_db_prep_value(uuid.uuid4(), connection)) for pk in account_ids
    ]
    due = f"l.account_id {accounts} AND l.remaining > 0 AND l.expires_at <= %s"
    select = (
        "SELECT l.merchant_id, l.account_id, l.id, t.transfer_id, %s, -l.remaining, NULL, NULL, "
        "%s, '', l.expires_at FROM ledger_lot l JOIN transfers t ON t.account_id = l.account_id "
        f"WHERE {due}"
    )
    if _pg():
        # One statement. Its parts share one snapshot and the account locks keep every other
        # writer off these lots, so the INSERT and the UPDATE pick the same rows; the UPDATE
        # repeats the condition (an index scan) instead of joining (which scans the table).
        cursor.execute(
            "WITH transfers AS (SELECT * FROM unnest(%s::bigint[], %s::uuid[]) "
            "AS t(account_id, transfer_id)), "
            f"zeroed AS (UPDATE ledger_lot l SET remaining = 0 WHERE {due}), "
            f"written AS (INSERT INTO ledger_entry ({_ENTRY_COLUMNS}) {select} RETURNING amount) "
            "SELECT COUNT(*), COALESCE(-SUM(amount), 0) FROM written",
            [
                [pk for pk, _ in transfers],
                [transfer for _, transfer in transfers],
                *params,
                now,
                EntryKind.EXPIRY,
                ACTOR,
                *params,
                now,
            ],
        )
        count, amount = cursor.fetchone()
        return count, int(amount)
    # SQLite: the transaction is IMMEDIATE, nobody else writes until it ends.
    cursor.execute(
        f"SELECT COUNT(*), COALESCE(SUM(l.remaining), 0) FROM ledger_lot l WHERE {due}",
        [*params, now],
    )
    count, amount = cursor.fetchone()
    if count:
        values = ", ".join(["(%s, %s)"] * len(transfers))
        cursor.execute(
            f"WITH transfers(account_id, transfer_id) AS (VALUES {values}) "
            f"INSERT INTO ledger_entry ({_ENTRY_COLUMNS}) {select}",
            [*(v for row in transfers for v in row), EntryKind.EXPIRY, ACTOR, *params, now],
        )
        cursor.execute(f"UPDATE ledger_lot AS l SET remaining = 0 WHERE {due}", [*params, now])
    return count, amount


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
    at = _moment(now)
    after = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT account_id FROM ledger_lot WHERE account_id > %s "
                "AND (remaining > 0 OR held > 0) AND expires_at <= %s "
                "ORDER BY account_id LIMIT %s",
                [after, at, batch_size],
            )
            account_ids = sorted({row[0] for row in cursor.fetchall()})
        if not account_ids:
            return result
        with transaction.atomic(), connection.cursor() as cursor:
            locks.lock_accounts(account_ids)
            result.holds += _release_holds(
                cursor, _timed_out_holds(cursor, "account_id", account_ids, at)
            )
            lots, amount = _write_off(cursor, account_ids, at)
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
    at = _moment(now)
    after = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT h.id, h.account_id, h.receipt_id FROM ledger_hold h "
                "LEFT JOIN pos_receipt r ON r.id = h.receipt_id "
                "WHERE h.id > %s AND h.expires_at <= %s "
                "AND (h.status = %s OR (h.status = %s AND r.status = %s)) "
                "ORDER BY h.id LIMIT %s",
                [
                    after,
                    at,
                    Hold.Status.ACTIVE,
                    Hold.Status.EXPIRED,
                    Receipt.Status.HELD,
                    batch_size,
                ],
            )
            rows = cursor.fetchall()
        if not rows:
            return result
        hold_ids = [row[0] for row in rows]
        receipt_ids = sorted({row[2] for row in rows if row[2] is not None})
        with transaction.atomic(), connection.cursor() as cursor:
            if receipt_ids:
                receipts, params = _in(receipt_ids)
                lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
                cursor.execute(
                    f"SELECT id FROM pos_receipt WHERE id {receipts} ORDER BY id{lock}", params
                )
            locks.lock_accounts({row[1] for row in rows})
            result.holds += _release_holds(cursor, _timed_out_holds(cursor, "id", hold_ids, at))
            if receipt_ids:
                # A receipt goes by its latest hold, as `sales.services.holds._held_receipt` reads it.
                cursor.execute(
                    "UPDATE pos_receipt SET status = %s "
                    f"WHERE id {receipts} AND status = %s AND (SELECT h.status FROM ledger_hold h "
                    "WHERE h.receipt_id = pos_receipt.id ORDER BY h.id DESC LIMIT 1) = %s",
                    [Receipt.Status.VOIDED, *params, Receipt.Status.HELD, Hold.Status.EXPIRED],
                )
                result.receipts += cursor.rowcount
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
    start, end = _moment(now), _moment(now + timedelta(days=within_days))
    window = "l.remaining > 0 AND l.expires_at > %s AND l.expires_at <= %s"
    if _pg():
        day = "to_char(l.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
        first = (
            "to_char(MIN(l.expires_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+00:00\"')"
        )
        payload = "jsonb_build_object"
    else:
        day = "strftime('%%Y-%%m-%%d', l.expires_at)"
        first = "strftime('%%Y-%%m-%%dT%%H:%%M:%%S+00:00', MIN(l.expires_at))"
        payload = "json_object"
    insert = (
        "INSERT INTO merchants_outboxevent "
        "(merchant_id, kind, customer_id, payload, dedupe_key, created_at, sent_at) "
        f"SELECT a.merchant_id, %s, a.customer_id, {payload}('account_id', a.id, "
        f"'program_id', a.program_id, 'amount', SUM(l.remaining), 'expires_at', {first}, "
        f"'expires_on', {day}), 'expiring:' || a.id || ':' || {day}, %s, NULL "
        "FROM ledger_lot l JOIN ledger_account a ON a.id = l.account_id "
        f"WHERE l.account_id > %s AND l.account_id <= %s AND {window} "
        f"GROUP BY a.id, a.merchant_id, a.customer_id, a.program_id, {day} "
        f"ORDER BY a.id, {day} "
        "ON CONFLICT (dedupe_key) DO NOTHING"
    )
    after = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT l.account_id FROM ledger_lot l WHERE l.account_id > %s AND {window} "
                "ORDER BY l.account_id LIMIT %s",
                [after, start, end, batch_size],
            )
            rows = cursor.fetchall()
        if not rows:
            return result
        last = rows[-1][0]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(insert, [EXPIRING_SOON, _moment(now), after, last, start, end])
            result.events += max(cursor.rowcount, 0)
        result.batches += 1
        after = last

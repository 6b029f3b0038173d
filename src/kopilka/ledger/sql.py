"""The ledger's hand-written statements: its hot path's (lock, credit, spend) and, at the end,
the tick's set-based maintenance (`jobs`: expiries, timed-out holds, "expiring soon" events).

The hot path's statements (lock, credit, spend) are written out by hand.

They are the statements the ORM would send, minus its per-call cost of building them (about
0.3 ms of CPU each, several times a till's whole database time), run by `kopilka.hotsql`
(straight to libpq on PostgreSQL, prepared per session; the transaction's BEGIN travels with
its first statement). They are also as few as SQL allows: a credit is one statement and so is
a spend (read the first lots, take from them, post the entries). Portable to SQLite.

Writes take a `Posting` (what the entries of one operation share) and give back
`(entry id, lot id, amount)` rows; services turn those into `Entry` instances.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import F

from kopilka import hotsql
from kopilka.sales.models import Receipt

from . import lots
from .models import Entry, EntryKind, Hold

_TRANSFER_ID = Entry._meta.get_field("transfer_id")
_ENTRY_COLUMNS = (
    "merchant_id, account_id, lot_id, transfer_id, kind, amount, receipt_id, actor, reason, "
    "created_at"
)


@dataclass(frozen=True, slots=True)
class Posting:
    """What the entries of one operation share."""

    merchant_id: int
    account_id: int
    transfer_id: uuid.UUID
    kind: str
    receipt_id: int | None
    actor: str
    reason: str
    created_at: datetime


def _params(db, posting: Posting) -> dict:
    params = {
        "merchant": posting.merchant_id,
        "account": posting.account_id,
        "transfer": posting.transfer_id,
        "kind": posting.kind,
        "receipt": posting.receipt_id,
        "actor": posting.actor,
        "reason": posting.reason,
        "now": posting.created_at,
    }
    if db.vendor != "postgresql":
        params["transfer"] = _TRANSFER_ID.get_db_prep_value(posting.transfer_id, db)
        params["now"] = hotsql.moment(db, posting.created_at)
    return params


# ---- locks ----------------------------------------------------------------------------------

_LOCK = (
    "SELECT id, merchant_id, customer_id, program_id FROM ledger_account "
    "WHERE id IN ({}) ORDER BY id"
)


def lock_account_rows(db, ids: list[int]) -> list[tuple[int, int, int, int]]:
    """(id, merchant_id, customer_id, program_id) of the accounts, locked, in id order."""
    sql = _LOCK.format(", ".join(f"%(id_{n})s" for n in range(len(ids))))
    if db.features.has_select_for_update:
        sql += " FOR UPDATE"
    params = {f"id_{n}": pk for n, pk in enumerate(ids)}
    # One prepared statement per number of accounts would be many; tills lock one or two.
    return hotsql.rows(db, sql, params, prepare=len(ids) <= 2)


_LOCK_OF = (
    "SELECT id, merchant_id, customer_id, program_id FROM ledger_account "
    "WHERE customer_id = %(customer)s AND program_id = %(program)s"
)


def lock_account_row_of(db, customer_id: int, program_id: int) -> tuple | None:
    """(id, merchant_id, customer_id, program_id) of the customer's account in the program,
    locked; None when there is none."""
    sql = _LOCK_OF + (" FOR UPDATE" if db.features.has_select_for_update else "")
    rows = hotsql.rows(db, sql, {"customer": customer_id, "program": program_id})
    return rows[0] if rows else None


# ---- lots -----------------------------------------------------------------------------------


# The spend order (`lots.spend_order`) as the database spells it: earliest expiry first, lots
# that never burn last, then the oldest, then the lowest id. The ORM's spelling for reads.
_SPEND_ORDER = "(expires_at IS NULL), expires_at, created_at, id"
SPEND_ORDER = (F("expires_at").asc(nulls_last=True), "created_at", "id")

# The lots usable at %(now)s (`lots.usable`) with points left or held, in spend order.
_SPENDABLE = (
    "FROM ledger_lot WHERE account_id = %(account)s AND available_from <= %(now)s "
    "AND (expires_at IS NULL OR expires_at > %(now)s) AND (remaining > 0 OR held > 0) "
    f"ORDER BY {_SPEND_ORDER}"
)


def spendable_lots(account_id: int, now: datetime, limit: int | None) -> list[lots.Lot]:
    """The first `limit` lots usable at `now` with points left or held, in spend order (all
    of them when `limit` is None), with their id and figures."""
    db = hotsql.default_db()
    sql = "SELECT id, remaining, held " + _SPENDABLE
    params = {"account": account_id, "now": hotsql.moment(db, now)}
    if limit is not None:
        sql += " LIMIT %(limit)s"
        params["limit"] = limit
    return [lots.Lot(*row) for row in hotsql.rows(db, sql, params)]


# The lots' points at %(now)s: available, pending (frozen) or expired, as `lots.split` puts
# them; and the points their holds reserve.
_LOT_SUMS = (
    "SELECT CAST(coalesce(sum(CASE WHEN available_from <= %(now)s AND (expires_at IS NULL OR "
    "expires_at > %(now)s) THEN remaining END), 0) AS bigint), "
    "CAST(coalesce(sum(CASE WHEN available_from > %(now)s AND (expires_at IS NULL OR "
    "expires_at > %(now)s) THEN remaining END), 0) AS bigint), "
    "CAST(coalesce(sum(CASE WHEN expires_at <= %(now)s THEN remaining END), 0) AS bigint), "
    "CAST(coalesce(sum(held), 0) AS bigint) "
    "FROM ledger_lot WHERE account_id = %(account)s"
)


def lot_sums(account_id: int, now: datetime) -> tuple[int, int, int, int]:
    """(available, pending, expired, held) points in the account's lots at `now`."""
    db = hotsql.default_db()
    [(available, pending, expired, held)] = hotsql.rows(
        db, _LOT_SUMS, {"account": account_id, "now": hotsql.moment(db, now)}
    )
    return available, pending, expired, held


# ---- writes ---------------------------------------------------------------------------------

# PostgreSQL: given a CTE `takes (lot_id, take, n)`, lower the lots and post one entry per
# take in the order of n. Parameters inside INSERT ... SELECT have no column to take their
# type from, hence the casts.
_POST_TAKES = f"""
, taken AS (
    UPDATE ledger_lot SET remaining = ledger_lot.remaining - takes.take
    FROM takes WHERE ledger_lot.id = takes.lot_id
), posted AS (
    INSERT INTO ledger_entry ({_ENTRY_COLUMNS})
    SELECT %(merchant)s::bigint, %(account)s::bigint, lot_id, %(transfer)s::uuid,
        %(kind)s::varchar, -take, %(receipt)s::bigint, %(actor)s::varchar, %(reason)s::text,
        %(now)s::timestamptz
    FROM takes ORDER BY n
    RETURNING id, lot_id, amount
)"""

# A spend in one statement: the first lots in spend order with the points before each, and,
# only if those lots cover the amount and none of them has points held (a hold may have timed
# out: services release those first), the takes. One row per entry posted, or one row with
# no entry; every row says what the statement found.
_TAKE = (
    f"""
WITH first_lots AS (
    SELECT id, remaining, held,
        (sum(remaining) OVER spend_order)::bigint - remaining AS before
    FROM (SELECT id, remaining, held, expires_at, created_at {_SPENDABLE} LIMIT %(limit)s) lots
    WINDOW spend_order AS (ORDER BY {_SPEND_ORDER})
), found AS (
    SELECT coalesce(sum(remaining), 0)::bigint AS available, count(*) AS lots,
        coalesce(bool_or(held > 0), false) AS held
    FROM first_lots
), takes AS (
    SELECT id AS lot_id, least(remaining, %(amount)s - before) AS take, before AS n
    FROM first_lots, found
    WHERE remaining > 0 AND before < %(amount)s AND available >= %(amount)s AND NOT found.held
)"""
    + _POST_TAKES
    + """
SELECT available, lots, held, posted.id, posted.lot_id, posted.amount
FROM found LEFT JOIN posted ON true
"""
)


@dataclass(slots=True)
class Taken:
    """What the one-statement spend found and wrote."""

    available: int  # points in the lots it looked at
    complete: bool  # those were all the account's spendable lots
    held: bool  # some of them have points held
    posted: list[tuple[int, int, int]]  # (entry id, lot id, amount) in spend order, or none


def take(posting: Posting, *, amount: int, limit: int) -> Taken | None:
    """Spend `amount` at the posting's moment from the account's first `limit` spendable lots
    in one statement; nothing is written when they do not cover it or some of them hold
    points. None on SQLite, where the statement cannot be written."""
    db = hotsql.default_db()
    if db.vendor != "postgresql":
        return None
    rows = hotsql.rows(db, _TAKE, {**_params(db, posting), "limit": limit, "amount": amount})
    available, lots, held = rows[0][:3]
    posted = sorted((pk, lot_id, taken) for *_, pk, lot_id, taken in rows if pk is not None)
    return Taken(available=available, complete=lots < limit, held=held, posted=posted)


_LOT_INSERT = (
    "INSERT INTO ledger_lot (merchant_id, account_id, kind, amount, remaining, held, "
    "available_from, expires_at, created_at) VALUES (%(merchant)s, %(account)s, %(kind)s, "
    "%(amount)s, %(amount)s, 0, %(available_from)s, %(expires_at)s, %(now)s) RETURNING id"
)
# PostgreSQL: the lot's insert feeds the entry's.
_CREDIT = f"""
WITH new_lot AS ({_LOT_INSERT})
INSERT INTO ledger_entry ({_ENTRY_COLUMNS})
SELECT %(merchant)s::bigint, %(account)s::bigint, id, %(transfer)s::uuid, %(kind)s::varchar,
    %(amount)s::bigint, %(receipt)s::bigint, %(actor)s::varchar, %(reason)s::text,
    %(now)s::timestamptz
FROM new_lot RETURNING id, lot_id
"""


def credit(
    posting: Posting, *, amount: int, available_from: datetime, expires_at: datetime | None
) -> tuple[int, int, int]:
    """Open a lot of `amount` and post its entry: (entry id, lot id, amount).

    PostgreSQL: one statement. SQLite: two.
    """
    db = hotsql.default_db()
    params = {
        **_params(db, posting),
        "amount": amount,
        "available_from": hotsql.moment(db, available_from),
        "expires_at": hotsql.moment(db, expires_at),
    }
    if db.vendor == "postgresql":
        [(entry_id, lot_id)] = hotsql.rows(db, _CREDIT, params)
        return entry_id, lot_id, amount
    [(lot_id,)] = hotsql.rows(db, _LOT_INSERT, params)
    [row] = _insert_entries(db, params, [(lot_id, amount)])
    return row


def debit(posting: Posting, takes: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """Take points from lots, (lot id, points) in spend order, and post one entry for each:
    (entry id, lot id, amount) in the same order. PostgreSQL: one statement. SQLite: two."""
    db = hotsql.default_db()
    params = _params(db, posting)
    for n, (lot_id, taken) in enumerate(takes):
        params[f"lot_{n}"], params[f"take_{n}"] = lot_id, taken
    # The rare spend over many lots is not prepared: one statement per number of lots.
    prepare = len(takes) <= 2
    if db.vendor == "postgresql":
        rows = ", ".join(
            f"(%(lot_{n})s::bigint, %(take_{n})s::bigint, {n})" for n in range(len(takes))
        )
        query = (
            f"WITH takes (lot_id, take, n) AS (VALUES {rows}){_POST_TAKES} "
            "SELECT id, lot_id, amount FROM posted"
        )
        return sorted(hotsql.rows(db, query, params, prepare=prepare))
    cases = " ".join(f"WHEN %(lot_{n})s THEN %(take_{n})s" for n in range(len(takes)))
    ids = ", ".join(f"%(lot_{n})s" for n in range(len(takes)))
    hotsql.rows(
        db,
        f"UPDATE ledger_lot SET remaining = remaining - CASE id {cases} END WHERE id IN ({ids})",
        params,
    )
    return _insert_entries(db, params, [(lot_id, -taken) for lot_id, taken in takes])


def _insert_entries(db, params: dict, parts: list[tuple[int, int]]) -> list[tuple]:
    """SQLite: insert one entry per (lot id, amount) in one statement."""
    rows = []
    for n, (lot_id, amount) in enumerate(parts):
        params[f"entry_lot_{n}"], params[f"entry_amount_{n}"] = lot_id, amount
        rows.append(
            f"(%(merchant)s, %(account)s, %(entry_lot_{n})s, %(transfer)s, %(kind)s, "
            f"%(entry_amount_{n})s, %(receipt)s, %(actor)s, %(reason)s, %(now)s)"
        )
    query = (
        f"INSERT INTO ledger_entry ({_ENTRY_COLUMNS}) VALUES {', '.join(rows)} "
        "RETURNING id, lot_id, amount"
    )
    return sorted(hotsql.rows(db, query, params))


# ---- the tick's maintenance (`jobs`): set-based, over a batch of accounts or holds ----------


def _pg() -> bool:
    return connection.vendor == "postgresql"


def moment(value: datetime):
    return hotsql.moment(hotsql.default_db(), value)


def _in(ids: list[int]) -> tuple[str, list]:
    """`<column> IN` the ids: one array parameter on PostgreSQL, a list of them on SQLite."""
    if _pg():
        return "= ANY(%s)", [list(ids)]
    return f"IN ({', '.join(['%s'] * len(ids))})", list(ids)


def release_holds(hold_ids: list[int]) -> int:
    """Release these holds as timed out, in bulk, as `services._release_expired_holds` does
    one by one: the points go back from `held` to `remaining` of the lots they came from;
    status `expired`, closed as of the moment the hold stopped counting. The caller holds
    the accounts' locks."""
    with connection.cursor() as cursor:
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


def timed_out_holds(column: str, ids: list[int], now) -> list[int]:
    with connection.cursor() as cursor:
        where, params = _in(ids)
        cursor.execute(
            f"SELECT id FROM ledger_hold WHERE {column} {where} AND status = %s "
            "AND expires_at <= %s ORDER BY id",
            [*params, Hold.Status.ACTIVE, now],
        )
        return [row[0] for row in cursor.fetchall()]


def accounts_with_due_lots(*, after: int, now, limit: int) -> list[int]:
    """The next accounts (by id, after `after`) with points or holds on lots past expiry."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT account_id FROM ledger_lot WHERE account_id > %s "
            "AND (remaining > 0 OR held > 0) AND expires_at <= %s "
            "ORDER BY account_id LIMIT %s",
            [after, now, limit],
        )
        return sorted({row[0] for row in cursor.fetchall()})


_EXPIRY_COLUMNS = (
    "merchant_id, account_id, lot_id, transfer_id, kind, amount, receipt_id, hold_id, actor, "
    "reason, created_at"
)


def write_off(account_ids: list[int], now, actor: str) -> tuple[int, int]:
    """Expiry entries for the accounts' lots past expiry with points left, then zero them.

    One entry per lot (`-remaining`, dated when the lot expired, as `services.expire` writes
    them). The entries of one account in one batch are one operation and share a transfer id:
    new random ids land on random pages of the transfer_id index, and one per account instead
    of one per lot keeps a million-lot run from dirtying (and logging) most of that index."""
    with connection.cursor() as cursor:
        accounts, params = _in(account_ids)
        transfers = [
            (pk, _TRANSFER_ID.get_db_prep_value(uuid.uuid4(), connection)) for pk in account_ids
        ]
        due = f"l.account_id {accounts} AND l.remaining > 0 AND l.expires_at <= %s"
        select = (
            "SELECT l.merchant_id, l.account_id, l.id, t.transfer_id, %s, -l.remaining, "
            "NULL, NULL, %s, '', l.expires_at "
            "FROM ledger_lot l JOIN transfers t ON t.account_id = l.account_id "
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
                f"written AS (INSERT INTO ledger_entry ({_EXPIRY_COLUMNS}) {select} "
                "RETURNING amount) "
                "SELECT COUNT(*), COALESCE(-SUM(amount), 0) FROM written",
                [
                    [pk for pk, _ in transfers],
                    [transfer for _, transfer in transfers],
                    *params,
                    now,
                    EntryKind.EXPIRY,
                    actor,
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
                f"INSERT INTO ledger_entry ({_EXPIRY_COLUMNS}) {select}",
                [*(v for row in transfers for v in row), EntryKind.EXPIRY, actor, *params, now],
            )
            cursor.execute(f"UPDATE ledger_lot AS l SET remaining = 0 WHERE {due}", [*params, now])
        return count, amount


def holds_due(*, after: int, now, limit: int) -> list[tuple]:
    """(hold id, account id, receipt id) of the next holds past their timeout still active,
    or released already while their receipt is still held."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT h.id, h.account_id, h.receipt_id FROM ledger_hold h "
            f"LEFT JOIN {Receipt._meta.db_table} r ON r.id = h.receipt_id "
            "WHERE h.id > %s AND h.expires_at <= %s "
            "AND (h.status = %s OR (h.status = %s AND r.status = %s)) "
            "ORDER BY h.id LIMIT %s",
            [after, now, Hold.Status.ACTIVE, Hold.Status.EXPIRED, Receipt.Status.HELD, limit],
        )
        return cursor.fetchall()


def lock_receipts(receipt_ids: list[int]) -> None:
    """Lock these receipts, in id order (the POS locks a receipt before its account)."""
    with connection.cursor() as cursor:
        if receipt_ids:
            receipts, params = _in(receipt_ids)
            lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
            cursor.execute(
                f"SELECT id FROM {Receipt._meta.db_table} WHERE id {receipts} ORDER BY id{lock}",
                params,
            )


def void_held_receipts(receipt_ids: list[int]) -> int:
    """Void those of these receipts still held whose latest hold has expired; how many."""
    with connection.cursor() as cursor:
        if not receipt_ids:
            return 0
        receipts, params = _in(receipt_ids)
        table = Receipt._meta.db_table
        # A receipt goes by its latest hold, as `sales.services.holds._held_receipt` reads it.
        cursor.execute(
            f"UPDATE {table} SET status = %s "
            f"WHERE id {receipts} AND status = %s AND (SELECT h.status FROM ledger_hold h "
            f"WHERE h.receipt_id = {table}.id ORDER BY h.id DESC LIMIT 1) = %s",
            [Receipt.Status.VOIDED, *params, Receipt.Status.HELD, Hold.Status.EXPIRED],
        )
        return cursor.rowcount


def _expiring_sql() -> tuple[str, str]:
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
    return window, insert


def last_account_expiring(*, after: int, start, end, limit: int) -> int | None:
    """The last of the next `limit` accounts (by id, after `after`) with points burning in
    (start, end], or None when there is none."""
    window, _ = _expiring_sql()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT l.account_id FROM ledger_lot l WHERE l.account_id > %s AND {window} "
            "ORDER BY l.account_id LIMIT %s",
            [after, start, end, limit],
        )
        rows = cursor.fetchall()
    return rows[-1][0] if rows else None


def insert_expiring_events(*, kind: str, now, after: int, last: int, start, end) -> int:
    """One outbox event per (account, UTC day) of accounts (after, last] with points burning
    in (start, end]; already emitted days are skipped (dedupe key). How many are new."""
    _, insert = _expiring_sql()
    with connection.cursor() as cursor:
        cursor.execute(insert, [kind, now, after, last, start, end])
        return max(cursor.rowcount, 0)

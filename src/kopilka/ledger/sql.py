"""The statements of the ledger's hot path (lock, credit, spend), written out by hand.

They are the statements the ORM would send, minus its per-call cost of building them (about
0.3 ms of CPU each, several times a till's whole database time). On PostgreSQL they are also
as few as SQL allows: the transaction's BEGIN travels with the lock, a credit is one statement
and so is a spend (read the first lots, take from them, post the entries), and psycopg
prepares them, so the server does not parse and plan them on every call. Portable between
PostgreSQL and SQLite; values go through Django's own adapters so both store them alike.

Writes take a `Posting` (what the entries of one operation share) and give back
`(entry id, lot id, amount)` rows; services turn those into `Entry` instances.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import psycopg
from django.db import DEFAULT_DB_ALIAS, connections
from psycopg import pq

from .models import Entry, Lot

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


def _db():
    # Each `django.db.connection` attribute access goes through a thread-local proxy; the
    # hot path looks the connection up once per statement instead.
    return connections[DEFAULT_DB_ALIAS]


def _cursor(db):
    """On PostgreSQL, a cursor with server-side parameters: psycopg prepares its statements
    (the settings' `prepare_threshold`), so the server stops parsing and planning these few
    statements on every spend. Django's own cursors bind on the client and are never
    prepared. Same connection and transaction as the ORM's."""
    if db.vendor == "postgresql":
        db.ensure_connection()
        return psycopg.Cursor(db.connection)
    return db.cursor()


def _moment(db, value: datetime | None):
    return None if value is None else db.ops.adapt_datetimefield_value(value)


def _posting_params(db, posting: Posting) -> dict:
    return {
        "merchant": posting.merchant_id,
        "account": posting.account_id,
        "transfer": _TRANSFER_ID.get_db_prep_value(posting.transfer_id, db),
        "kind": posting.kind,
        "receipt": posting.receipt_id,
        "actor": posting.actor,
        "reason": posting.reason,
        "now": _moment(db, posting.created_at),
    }


# ---- locks ----------------------------------------------------------------------------------

_LOCK = (
    "SELECT id, merchant_id, customer_id, program_id FROM ledger_account "
    "WHERE id IN ({}) ORDER BY id"
)


def lock_account_rows(ids: list[int]) -> list[tuple[int, int, int, int]]:
    """(id, merchant_id, customer_id, program_id) of the accounts, locked, in id order."""
    db = _db()
    if db.vendor == "postgresql" and _nothing_sent_yet(db):
        return _begin_and_lock(db, ids)
    sql = _LOCK.format(", ".join(["%s"] * len(ids)))
    if db.features.has_select_for_update:
        sql += " FOR UPDATE"
    with _cursor(db) as cursor:
        cursor.execute(sql, ids)
        return cursor.fetchall()


def _nothing_sent_yet(db) -> bool:
    """True when the transaction is open in Django but psycopg has not sent its BEGIN yet:
    it would send it on a round trip of its own before the first statement."""
    db.ensure_connection()
    conn = db.connection
    return (
        not conn.autocommit
        and conn.pgconn.transaction_status == pq.TransactionStatus.IDLE
        # Only a plain BEGIN is written out below; anything else goes psycopg's way.
        and conn.isolation_level is None
        and conn.read_only is None
        and conn.deferrable is None
    )


def _begin_and_lock(db, ids: list[int]) -> list[tuple[int, int, int, int]]:
    """BEGIN and the lock in one simple-protocol message, so one round trip. psycopg always
    waits for its BEGIN before sending anything else (even in pipeline mode), so the two go
    through libpq directly. The ids are integers, written into the text as such."""
    query = "BEGIN; " + _LOCK.format(", ".join(str(int(pk)) for pk in ids)) + " FOR UPDATE"
    conn = db.connection
    with db.wrap_database_errors:
        result = conn.pgconn.exec_(query.encode())
        if result.status != pq.ExecStatus.TUPLES_OK:
            raise psycopg.errors.error_from_result(result, encoding=conn.info.encoding)
    return [
        tuple(int(result.get_value(row, column)) for column in range(4))
        for row in range(result.ntuples)
    ]


# ---- lots -----------------------------------------------------------------------------------


@dataclass(slots=True)
class LotRow:
    """The three numbers of a lot a spend or hold works with."""

    pk: int
    remaining: int
    held: int

    def as_lot(self) -> Lot:
        return Lot(pk=self.pk, remaining=self.remaining, held=self.held)


# The lots spendable at %(now)s, in spend order: earliest expiry first (never last), oldest.
_SPENDABLE = (
    "FROM ledger_lot WHERE account_id = %(account)s AND available_from <= %(now)s "
    "AND (expires_at IS NULL OR expires_at > %(now)s) AND (remaining > 0 OR held > 0) "
    "ORDER BY (expires_at IS NULL), expires_at, created_at, id"
)


def spendable_lots(account_id: int, now: datetime, limit: int | None) -> list[LotRow]:
    """Lots spendable at `now` in spend order: earliest expiry first (never last), oldest."""
    db = _db()
    sql = "SELECT id, remaining, held " + _SPENDABLE
    params = {"account": account_id, "now": _moment(db, now)}
    if limit is not None:
        sql += " LIMIT %(limit)s"
        params["limit"] = limit
    with _cursor(db) as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [LotRow(*row) for row in rows]


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
    WINDOW spend_order AS (ORDER BY (expires_at IS NULL), expires_at, created_at, id)
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


def takes_in_one_statement() -> bool:
    return _db().vendor == "postgresql"


def take(posting: Posting, *, amount: int, limit: int) -> Taken:
    """Spend `amount` at the posting's moment from the account's first `limit` spendable lots
    in one statement (PostgreSQL only); nothing is written when they do not cover it or some
    of them hold points."""
    db = _db()
    params = {**_posting_params(db, posting), "limit": limit, "amount": amount}
    with _cursor(db) as cursor:
        cursor.execute(_TAKE, params)
        rows = cursor.fetchall()
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
    db = _db()
    params = {
        **_posting_params(db, posting),
        "amount": amount,
        "available_from": _moment(db, available_from),
        "expires_at": _moment(db, expires_at),
    }
    with _cursor(db) as cursor:
        if db.vendor == "postgresql":
            cursor.execute(_CREDIT, params)
            entry_id, lot_id = cursor.fetchone()
            return entry_id, lot_id, amount
        cursor.execute(_LOT_INSERT, params)
        [lot_id] = cursor.fetchone()
        [row] = _insert_entries(cursor, params, [(lot_id, amount)])
    return row


def debit(posting: Posting, takes: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """Take points from lots, (lot id, points) in spend order, and post one entry for each:
    (entry id, lot id, amount) in the same order. PostgreSQL: one statement. SQLite: two."""
    db = _db()
    params = _posting_params(db, posting)
    for n, (lot_id, taken) in enumerate(takes):
        params[f"lot_{n}"], params[f"take_{n}"] = lot_id, taken
    with _cursor(db) as cursor:
        if db.vendor == "postgresql":
            rows = ", ".join(
                f"(%(lot_{n})s::bigint, %(take_{n})s::bigint, {n})" for n in range(len(takes))
            )
            cursor.execute(
                f"WITH takes (lot_id, take, n) AS (VALUES {rows}){_POST_TAKES} "
                "SELECT id, lot_id, amount FROM posted",
                params,
            )
            return sorted(cursor.fetchall())
        cases = " ".join(f"WHEN %(lot_{n})s THEN %(take_{n})s" for n in range(len(takes)))
        ids = ", ".join(f"%(lot_{n})s" for n in range(len(takes)))
        cursor.execute(
            f"UPDATE ledger_lot SET remaining = remaining - CASE id {cases} END "
            f"WHERE id IN ({ids})",
            params,
        )
        return _insert_entries(cursor, params, [(lot_id, -taken) for lot_id, taken in takes])


def _insert_entries(cursor, params: dict, parts: list[tuple[int, int]]) -> list[tuple]:
    """SQLite: insert one entry per (lot id, amount) in one statement."""
    rows = []
    for n, (lot_id, amount) in enumerate(parts):
        params[f"entry_lot_{n}"], params[f"entry_amount_{n}"] = lot_id, amount
        rows.append(
            f"(%(merchant)s, %(account)s, %(entry_lot_{n})s, %(transfer)s, %(kind)s, "
            f"%(entry_amount_{n})s, %(receipt)s, %(actor)s, %(reason)s, %(now)s)"
        )
    cursor.execute(
        f"INSERT INTO ledger_entry ({_ENTRY_COLUMNS}) VALUES {', '.join(rows)} "
        "RETURNING id, lot_id, amount",
        params,
    )
    return sorted(cursor.fetchall())

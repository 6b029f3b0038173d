"""The limits app's hand-written statements: the upserts of a rate counter and of a safe
operations' day counter."""

from __future__ import annotations

import functools

from django.db import connection

from kopilka import hotsql

from .models import LimitUsage, RateCounter


def bump(key: str, window_start: int, window_end: int) -> int:
    """Add one to the window's counter, creating it, and return the new count (one statement:
    INSERT ... ON CONFLICT DO UPDATE ... RETURNING, on PostgreSQL and SQLite >= 3.35)."""
    q = connection.ops.quote_name
    table, key_, start, end, count = (
        q(name)
        for name in (RateCounter._meta.db_table, "key", "window_start", "window_end", "count")
    )
    sql = (
        f"INSERT INTO {table} ({key_}, {start}, {end}, {count}) VALUES (%s, %s, %s, 1) "
        f"ON CONFLICT ({key_}, {start}) DO UPDATE SET {count} = {table}.{count} + 1 "
        f"RETURNING {count}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [key, window_start, window_end])
        return cursor.fetchone()[0]


def bump_all(keys: list[str], window_starts: list[int], window_ends: list[int]) -> dict[str, int]:
    """`bump` for several counters in one statement: {key: its new count}."""
    q = connection.ops.quote_name
    table, key_, start, end, count = (
        q(name)
        for name in (RateCounter._meta.db_table, "key", "window_start", "window_end", "count")
    )
    rows = ", ".join(["(%s, %s, %s, 1)"] * len(keys))
    sql = (
        f"INSERT INTO {table} ({key_}, {start}, {end}, {count}) VALUES {rows} "
        f"ON CONFLICT ({key_}, {start}) DO UPDATE SET {count} = {table}.{count} + 1 "
        f"RETURNING {key_}, {count}"
    )
    params = [v for row in zip(keys, window_starts, window_ends, strict=True) for v in row]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return dict(cursor.fetchall())


def bump_usage(merchant_id: int, day, rows: list[tuple[str, str, int]]) -> dict:
    """Add each (limit name, subject, amount) to its counter of the day in one statement,
    creating it, and return {(name, subject): the day's total}. Rows go in sorted order, so
    two transactions lock shared counters in the same order and cannot deadlock. On the
    sale's hot path: a prepared statement through `hotsql` (a few texts, one per row count)."""
    db = hotsql.default_db()
    rows = sorted(rows)
    day = db.ops.adapt_datefield_value(day)
    params = [v for row in rows for v in (merchant_id, row[0], row[1], day, row[2])]
    found = hotsql.rows(db, _bump_usage_sql(db.ops.quote_name, len(rows)), params)
    return {(name, subject): total for name, subject, total in found}


@functools.lru_cache(maxsize=32)
def _bump_usage_sql(q, count: int) -> str:
    table = q(LimitUsage._meta.db_table)
    merchant, name, subject, day_, amount = (
        q(c) for c in ("merchant_id", "name", "subject", "day", "amount")
    )
    values = ", ".join(["(%s, %s, %s, %s, %s)"] * count)
    return (
        f"INSERT INTO {table} ({merchant}, {name}, {subject}, {day_}, {amount}) "
        f"VALUES {values} ON CONFLICT ({merchant}, {name}, {subject}, {day_}) "
        f"DO UPDATE SET {amount} = {table}.{amount} + EXCLUDED.{amount} "
        f"RETURNING {name}, {subject}, {amount}"
    )

"""The limits app's one hand-written statement: a rate counter's upsert."""

from __future__ import annotations

from django.db import connection

from .models import RateCounter


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

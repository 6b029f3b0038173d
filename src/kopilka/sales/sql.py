"""The writes of a sale's hot path, written out by hand: the receipt with its lines, and the
idempotency record (inserted first, its response stored last).

They are the statements the ORM would send, minus its cost of building them, run by
`kopilka.hotsql` (on PostgreSQL straight to libpq with server-side parameters, prepared per
session: binding the ~170 values of a ten-line sale into the text in Python cost more than
the rest of the statement, so on PostgreSQL the lines travel as one JSON parameter). Columns
and values come from the models' fields, through Django's own adapters, so a field added to a
model is stored here too and both databases store values alike. On PostgreSQL the receipt
and its lines go in one statement (the receipt's insert feeds the lines'); on SQLite in two
or more (batches of lines).
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from django.db.models import BooleanField, CharField, Field, ForeignKey, IntegerField, Model
from psycopg.types.json import Json, Jsonb

from kopilka import hotsql
from kopilka.customers.models import Customer
from kopilka.customers.stats import SaleFigures

from .models import IdempotencyRecord, Receipt, ReceiptLine


def _columns(model: type[Model], *skip: str) -> list:
    return [f for f in model._meta.concrete_fields if not f.primary_key and f.name not in skip]


_RECEIPT_FIELDS = _columns(Receipt)
_LINE_FIELDS = _columns(ReceiptLine, "receipt")
_LINE_RECEIPT = ReceiptLine._meta.get_field("receipt")
_RECORD_FIELDS = _columns(IdempotencyRecord)
_RESPONSE_STATUS = IdempotencyRecord._meta.get_field("response_status")
_RESPONSE_BODY = IdempotencyRecord._meta.get_field("response_body")


# Fields whose value goes to the database as it is: Django's adapters would only run int() or
# str() on what the sale already holds as int or str. Other fields (dates, decimals, JSON, and
# anything with its own pre_save, such as auto_now_add) go through Django's adapters.
_PLAIN = (IntegerField, CharField, BooleanField, ForeignKey)


def _plain(field) -> bool:
    return isinstance(field, _PLAIN) and type(field).pre_save is Field.pre_save


def _plan(fields: list) -> tuple:
    """(field, attname, plain) per column, worked out once per model."""
    return tuple((field, field.attname, _plain(field)) for field in fields)


_RECEIPT_COLUMNS = _plan(_RECEIPT_FIELDS)
_LINE_COLUMNS = _plan(_LINE_FIELDS)
_RECORD_COLUMNS = _plan(_RECORD_FIELDS)


def _values(db, obj: Model, columns: tuple) -> list:
    """An unsaved instance's values, in column order."""
    return [
        getattr(obj, name) if plain else field.get_db_prep_save(field.pre_save(obj, True), db)
        for field, name, plain in columns
    ]


def _line_values(db, line: dict) -> list:
    """A line's values from {attname: value}, in column order."""
    return [
        line[name] if plain else field.get_db_prep_save(line[name], db)
        for field, name, plain in _LINE_COLUMNS
    ]


def _insert(model: type[Model], fields: list) -> str:
    columns = ", ".join(field.column for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    return f"INSERT INTO {model._meta.db_table} ({columns}) VALUES ({placeholders}) RETURNING id"


def _json_value(field, value, db):
    """A line's value for PostgreSQL's jsonb_populate_recordset: JSON's own types where they
    fit, the column's text input form (decimals, moments) where they do not."""
    value = field.get_db_prep_save(value, db)
    if isinstance(value, (Json, Jsonb)):
        return value.obj
    if isinstance(value, date):  # and datetime
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _lines_json(db, lines: list[dict]) -> str:
    """PostgreSQL: all lines as one JSON array of {column: value}."""
    return json.dumps(
        [
            {
                field.column: line[name] if plain else _json_value(field, line[name], db)
                for field, name, plain in _LINE_COLUMNS
            }
            for line in lines
        ],
        separators=(",", ":"),
    )


# The statements, written once: a statement built anew on every sale costs its joins and, as
# a new string, hashing again for hotsql's cache of statements.
_INSERT_RECORD = _insert(IdempotencyRecord, _RECORD_FIELDS)
_STORE_RESPONSE = (
    f"UPDATE {IdempotencyRecord._meta.db_table} SET {_RESPONSE_STATUS.column} = %s, "
    f"{_RESPONSE_BODY.column} = %s WHERE id = %s"
)
_INSERT_RECEIPT = _insert(Receipt, _RECEIPT_FIELDS)
_INSERT_LINES = (
    f"INSERT INTO {ReceiptLine._meta.db_table} "
    f"(receipt_id, {', '.join(field.column for field in _LINE_FIELDS)})"
)
# PostgreSQL: the receipt's insert feeds its lines', read from one JSON array typed by the
# line table's own row type; {also} is where the customer's figures join the statement.
_INSERT_SALE = (
    f"WITH receipt AS ({_INSERT_RECEIPT}), lines AS ({_INSERT_LINES} "
    f"SELECT receipt.id, {', '.join(f'line.{field.column}' for field in _LINE_FIELDS)} "
    f"FROM receipt, jsonb_populate_recordset(NULL::{ReceiptLine._meta.db_table}, %s::jsonb) "
    "AS line){also} SELECT id FROM receipt"
)
_INSERT_SALE_ALONE = _INSERT_SALE.format(also="")
# A sale's figures for its customer (customers.stats.SaleFigures), applied, not computed:
# written out, as the ORM spent more CPU building it (a CASE over Q objects and F
# expressions) than the database spends running it, on every sale.
_SALE_FIGURES = (
    f"UPDATE {Customer._meta.db_table} SET visits = visits + 1, "
    "purchases_total = purchases_total + %s, "
    "last_purchase_at = CASE WHEN last_purchase_at IS NULL OR last_purchase_at < %s THEN %s "
    "ELSE last_purchase_at END, balance = balance + %s WHERE id = %s"
)
_INSERT_SALE_WITH_FIGURES = _INSERT_SALE.format(also=f", figures AS ({_SALE_FIGURES})")


def _saved(db, obj: Model, pk: int) -> None:
    obj.pk = pk
    hotsql.mark_saved(obj, db.alias)


def insert_record(record: IdempotencyRecord) -> None:
    """Insert an unsaved idempotency record; it gets its id."""
    db = hotsql.default_db()
    [(pk,)] = hotsql.rows(db, _INSERT_RECORD, _values(db, record, _RECORD_COLUMNS))
    _saved(db, record, pk)


def store_response(record: IdempotencyRecord, status: int, body: dict) -> None:
    """Keep the response a retry with the record's key will get."""
    db = hotsql.default_db()
    record.response_status, record.response_body = status, body
    hotsql.rows(db, _STORE_RESPONSE, [status, _RESPONSE_BODY.get_db_prep_save(body, db), record.pk])


def _figures_params(db, figures: SaleFigures) -> list:
    occurred_at = db.ops.adapt_datetimefield_value(figures.occurred_at)
    return [figures.spent, occurred_at, occurred_at, figures.balance_delta, figures.customer_id]


def apply_sale_figures(figures: SaleFigures | None) -> None:
    """Add a sale's figures to its customer (`customers.stats.sale_figures`): one UPDATE."""
    if figures is not None:
        db = hotsql.default_db()
        hotsql.rows(db, _SALE_FIGURES, _figures_params(db, figures))


def insert_sale(receipt: Receipt, lines: list[dict], *, figures: SaleFigures | None = None):
    """Insert an unsaved receipt and its lines (at least one), each line given as
    {attname: value} for every field of ReceiptLine but its id and receipt (`product_id`,
    `refunds_line_id`); the receipt gets its id. Lines are not built as models: ten instances
    cost more than the statement. The customer's `figures`, when given, are added in the same
    statement on PostgreSQL, right after on SQLite."""
    db = hotsql.default_db()
    receipt_values = _values(db, receipt, _RECEIPT_COLUMNS)
    if db.vendor == "postgresql":
        # One statement whatever the number of lines, and no per-value work in Python.
        if figures is None:
            query, figures_params = _INSERT_SALE_ALONE, []
        else:
            query, figures_params = _INSERT_SALE_WITH_FIGURES, _figures_params(db, figures)
        [(pk,)] = hotsql.rows(db, query, [*receipt_values, _lines_json(db, lines), *figures_params])
        _saved(db, receipt, pk)
        return
    rows = [_line_values(db, line) for line in lines]
    [(pk,)] = hotsql.rows(db, _INSERT_RECEIPT, receipt_values)
    _saved(db, receipt, pk)
    row = "(" + ", ".join(["%s"] * (1 + len(_LINE_FIELDS))) + ")"
    # In batches, as bulk_create would: SQLite may allow as few as 999 parameters.
    size = db.ops.bulk_batch_size([_LINE_RECEIPT, *_LINE_FIELDS], rows)
    for start in range(0, len(rows), size):
        batch = rows[start : start + size]
        hotsql.rows(
            db,
            f"{_INSERT_LINES} VALUES {', '.join([row] * len(batch))}",
            [value for values in batch for value in (receipt.pk, *values)],
        )
    apply_sale_figures(figures)


_CARD_ACTIVITY = f"""
SELECT COUNT(DISTINCT CASE WHEN occurred_at >= %(stores_since)s THEN store_id END),
       COALESCE(SUM(CASE WHEN occurred_at >= %(register_since)s AND register_id = %(register)s
                         THEN 1 ELSE 0 END), 0),
       (SELECT COUNT(*) FROM {Receipt._meta.db_table} a
        WHERE a.register_id = %(register)s AND a.customer_id IS NULL
          AND a.occurred_at >= %(register_since)s AND a.kind = 'sale')
FROM {Receipt._meta.db_table}
WHERE customer_id = %(customer)s AND kind = 'sale' AND occurred_at >= %(since)s
"""


def card_activity(*, customer_id: int, register_id: int, stores_since, register_since):
    """What the safe operations' patterns ask of a sale with a card, in one statement: the
    different stores of the customer's sales since `stores_since`; the customer's sales at
    the register since `register_since`; the anonymous sales there since then. Read through
    the (customer, occurred_at) index and the anonymous sales' partial index."""
    db = hotsql.default_db()
    [row] = hotsql.rows(
        db,
        _CARD_ACTIVITY,
        {
            "stores_since": hotsql.moment(db, stores_since),
            "register_since": hotsql.moment(db, register_since),
            "register": register_id,
            "customer": customer_id,
            "since": hotsql.moment(db, min(stores_since, register_since)),
        },
    )
    return row

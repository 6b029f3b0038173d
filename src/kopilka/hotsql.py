"""Hand-written statements of the hot paths: one call, `rows(db, query, params)`, on both
databases.

On PostgreSQL a statement goes straight to libpq in the ORM's own session and transaction,
with its parameters as text, and is prepared on the session after a few runs (the
KOPILKA_PG_PREPARE_THRESHOLD setting), so neither psycopg's Python layer (query conversion,
dumpers, its generator-driven I/O loop: more CPU per statement than the server spends running
these) nor the server's parser and planner run on every call. A statement that opens the
transaction takes the BEGIN along in the same round trip. On SQLite it goes through
Django's cursor. Queries take `%(name)s` parameters with a dict or `%s` with a list; values
are what Django's `get_db_prep_*` give. Errors become Django's, exactly as on a cursor.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import select
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import psycopg
from django.db import DEFAULT_DB_ALIAS, NotSupportedError, connections, models
from psycopg import pq
from psycopg.types.json import Json, Jsonb


def default_db():
    """The default connection. Each `django.db.connection` attribute access goes through a
    thread-local proxy (a few microseconds); the hot path looks it up once per call."""
    return connections[DEFAULT_DB_ALIAS]


def moment(db, value: datetime | None):
    """A moment as this backend stores it (libpq takes the ISO text of any datetime)."""
    if value is None or db.vendor == "postgresql":
        return value
    return db.ops.adapt_datetimefield_value(value)


def rows(db, query: str, params: dict | list, *, prepare: bool = True) -> list[tuple]:
    """Run one statement and fetch its rows. `prepare=False` for statements whose text varies
    a lot (one per number of rows, say), which would fill the session with prepared ones."""
    if db.vendor == "postgresql":
        return _pg_rows(db, query, params, prepare=prepare)
    with db.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


# ---- PostgreSQL through libpq ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Statement:
    """A statement in libpq's form: $n placeholders, and the names of its parameters in that
    order (None for positional `%s` ones)."""

    name: bytes
    text: bytes
    names: tuple[str, ...] | None


_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%s")


@functools.lru_cache(maxsize=256)
def _statement(query: str) -> Statement:
    names: list[str] = []
    positional = 0

    def number(match: re.Match) -> str:
        nonlocal positional
        if match[1] is None:
            positional += 1
            return f"${positional}"
        if match[1] not in names:
            names.append(match[1])
        return f"${names.index(match[1]) + 1}"

    text = _PLACEHOLDER.sub(number, query)
    if names and positional:
        raise ValueError("a statement takes %(name)s or %s parameters, not both")
    name = "kopilka_" + hashlib.sha256(text.encode()).hexdigest()[:24]
    return Statement(name.encode(), text.encode(), tuple(names) if names else None)


def _values(statement: Statement, params: dict | list) -> list[bytes | None]:
    if statement.names is None:
        return [_text(value) for value in params]
    return [_text(params[name]) for name in statement.names]


def _text(value) -> bytes | None:
    """A parameter in PostgreSQL's text input format."""
    kind = type(value)
    if kind is str:
        data = value.encode()
        if b"\x00" in data:  # libpq would cut the text there, without a word
            raise psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")
        return data
    if kind is int:
        return b"%d" % value
    if value is None:
        return None
    if kind is bool:
        return b"t" if value else b"f"
    if isinstance(value, (datetime, date)):
        return value.isoformat().encode()
    if isinstance(value, (Json, Jsonb)):  # what Django gives for a JSONField
        return _text((value.dumps or json.dumps)(value.obj))
    if isinstance(value, str):  # choices, safe strings: their text, checked as any text
        return _text(str.__str__(value))
    return _text(str(value))


def _boolean(value: bytes) -> bool:
    return value == b"t"


def _timestamp(value: bytes) -> datetime:
    # ISO output ("2026-11-22 19:03:43.336772+00"); Django keeps the session in UTC.
    return datetime.fromisoformat(value.decode())


def _day(value: bytes) -> date:
    return date.fromisoformat(value.decode())


def _decimal(value: bytes) -> Decimal:
    return Decimal(value.decode())


def _uuid(value: bytes) -> uuid.UUID:
    return uuid.UUID(value.decode())


# Column types by oid, read as psycopg reads them for Django (json stays text: Django's
# JSONField decodes it). Any other type is refused rather than handed over as text.
_PARSERS = {
    16: _boolean,  # bool
    20: int,  # int8
    21: int,  # int2
    23: int,  # int4
    25: bytes.decode,  # text
    114: bytes.decode,  # json
    1042: bytes.decode,  # bpchar
    1043: bytes.decode,  # varchar
    1082: _day,  # date
    1114: _timestamp,  # timestamp
    1184: _timestamp,  # timestamptz
    1700: _decimal,  # numeric
    2950: _uuid,  # uuid
    3802: bytes.decode,  # jsonb
}


def parse(result) -> list[tuple]:
    """The rows of a result, each value as psycopg would give it to Django."""
    columns = range(result.nfields)
    parsers = []
    for column in columns:
        parser = _PARSERS.get(result.ftype(column))
        if parser is None:
            raise NotSupportedError(f"hotsql cannot read columns of type {result.ftype(column)}")
        parsers.append(parser)
    get = result.get_value
    return [
        tuple(None if (value := get(row, c)) is None else parsers[c](value) for c in columns)
        for row in range(result.ntuples)
    ]


def check(conn, result) -> None:
    if result.status not in (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK):
        raise psycopg.errors.error_from_result(result, encoding=conn.info.encoding)


class _Session:
    """What this module has prepared on one database session, and how often it has run the
    statements not prepared yet."""

    __slots__ = ("conn", "prepared", "runs")

    def __init__(self, conn) -> None:
        self.conn = conn
        self.prepared: set[bytes] = set()
        self.runs: dict[bytes, int] = {}


def _session(db) -> _Session:
    session = getattr(db, "_kopilka_session", None)
    if session is None or session.conn is not db.connection:  # a new session
        session = db._kopilka_session = _Session(db.connection)
    return session


def prepared(db, query: str) -> Statement | None:
    """The statement if it is prepared on the session, preparing it on the run after
    `prepare_threshold` runs (KOPILKA_PG_PREPARE_THRESHOLD, as psycopg counts); None when
    preparing is off (e.g. behind PgBouncer in transaction mode, where the session that
    prepared a statement may not be the one that runs it) or the statement is below it."""
    threshold = db.settings_dict["OPTIONS"].get("prepare_threshold")
    if threshold is None:
        return None
    statement = _statement(query)
    session = _session(db)
    if statement.name not in session.prepared:
        runs = session.runs.get(statement.name, 0)
        if runs < threshold:
            session.runs[statement.name] = runs + 1
            return None
        check(session.conn, session.conn.pgconn.prepare(statement.name, statement.text))
        session.prepared.add(statement.name)
    return statement


def forget_prepared(db) -> None:
    """Somebody ran DEALLOCATE on the session: prepare afresh from the next call on."""
    db._kopilka_session = None


def _forget_if_deallocated(db, error: Exception) -> None:
    if getattr(error, "sqlstate", None) == "26000":  # invalid_sql_statement_name
        forget_prepared(db)


def _pg_rows(db, query: str, params: dict | list, *, prepare: bool) -> list[tuple]:
    db.ensure_connection()
    conn = db.connection
    pgconn = conn.pgconn
    with db.wrap_database_errors:
        begin = False
        if not conn.autocommit and pgconn.transaction_status == pq.TransactionStatus.IDLE:
            # Inside atomic() with nothing sent yet: the transaction opens with this statement.
            begin = can_send_begin(conn)
            if not begin:  # an isolation level or read-only mode: psycopg's BEGIN says so
                with db.cursor() as cursor:
                    cursor.execute("SELECT 1")
        statement = prepared(db, query) if prepare else None
        if statement is None:
            result = _run(pgconn, _statement(query), params, prepared=False, begin=begin)
        else:
            result = _run(pgconn, statement, params, prepared=True, begin=begin)
            if begin and result.error_field(pq.DiagnosticField.SQLSTATE) == b"26000":
                # Somebody ran DEALLOCATE on the session. Nothing else has run in the
                # transaction this statement opened: open it again, the statement written out.
                forget_prepared(db)
                check(conn, pgconn.exec_(b"ROLLBACK"))
                result = _run(pgconn, _statement(query), params, prepared=False, begin=True)
        try:
            check(conn, result)
        except psycopg.Error as error:
            _forget_if_deallocated(db, error)
            raise
    return parse(result)


def _run(pgconn, statement: Statement, params: dict | list, *, prepared: bool, begin: bool):
    values = _values(statement, params)
    if not begin:
        if prepared:
            return pgconn.exec_prepared(statement.name, values)
        return pgconn.exec_params(statement.text, values)
    # BEGIN and the statement in one round trip: libpq's pipeline mode sends both before
    # reading either answer (psycopg waits for its BEGIN's answer first).
    pgconn.enter_pipeline_mode()
    try:
        pgconn.send_query_params(b"BEGIN", None)
        if prepared:
            pgconn.send_query_prepared(statement.name, values)
        else:
            pgconn.send_query_params(statement.text, values)
        pgconn.pipeline_sync()
        while pgconn.flush():  # nonblocking connection (psycopg's): the rest when it may
            select.select([], [pgconn.socket], [])
        began, result = _pipeline_results(pgconn, 2)
    finally:
        pgconn.exit_pipeline_mode()
    if began.status != pq.ExecStatus.COMMAND_OK:
        return began
    return result


def _pipeline_results(pgconn, count: int) -> list:
    """The results of `count` statements sent in a pipeline, up to its sync: one each (libpq
    ends each statement's results with a None, and gives the sync a result of its own)."""
    results = []
    while True:
        # get_result would wait for the server holding the GIL (psycopg's exec_* calls let go
        # of it): every other thread would stop, even the one whose commit we are waiting for.
        while pgconn.is_busy():
            select.select([pgconn.socket], [], [])
            pgconn.consume_input()
        result = pgconn.get_result()
        if result is None:
            if pgconn.status != pq.ConnStatus.OK:
                raise psycopg.OperationalError("the connection was lost during a pipeline")
            continue
        if result.status == pq.ExecStatus.PIPELINE_SYNC:
            break
        results.append(result)
    if len(results) != count:
        raise psycopg.InterfaceError(f"expected {count} results, got {len(results)}")
    return results


def can_send_begin(conn) -> bool:
    """True when the transaction is open in Django but its BEGIN has not been sent yet (psycopg
    would send it on a round trip of its own before the first statement) and a plain BEGIN
    is the right one."""
    return (
        not conn.autocommit
        and conn.pgconn.transaction_status == pq.TransactionStatus.IDLE
        and conn.isolation_level is None
        and conn.read_only is None
        and conn.deferrable is None
    )


# ---- model instances ------------------------------------------------------------------------


def loaded(model: type[models.Model], values: dict) -> models.Model:
    """An instance as if just read from the database, from its values by attname.

    The hot paths build every account they lock, every entry they post, the register and the
    customer of every sale; `Model.__init__` walks all fields and sends two signals per
    instance, which costs more than the statement that read the row. Fields left out load on
    first access, as deferred fields do. No signal receivers are attached to the models built
    here (a test holds that), so nothing `__init__` would have triggered is skipped.
    """
    instance = model.__new__(model)
    instance.__dict__.update(values)
    instance._state = models.base.ModelState()
    return mark_saved(instance)


def mark_saved(instance: models.Model, alias: str = DEFAULT_DB_ALIAS) -> models.Model:
    """The instance stands for a row in the database `alias` (a hand-written INSERT has just
    written it, say): saving it again updates that row. The one place outside Django that
    touches a model's `_state`."""
    instance._state.adding = False
    instance._state.db = alias
    return instance


class Loader:
    """Instances of a model from hand-written SELECTs of all its columns (`columns`), with
    each value converted as the ORM converts it on this database."""

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.fields = tuple(model._meta.concrete_fields)
        self._converters: dict[str, list] = {}

    def __len__(self) -> int:
        return len(self.fields)

    def columns(self, alias: str) -> str:
        return ", ".join(f"{alias}.{field.column}" for field in self.fields)

    def build(self, db, values) -> models.Model:
        """The instance of a row's values for `columns`, in their order."""
        converters = self._converters.get(db.vendor)
        if converters is None:
            converters = self._converters[db.vendor] = [
                (field.attname, col, [*db.ops.get_db_converters(col), *col.get_db_converters(db)])
                for field in self.fields
                for col in [field.get_col(self.model._meta.db_table)]
            ]
        row = {}
        for (attname, col, convert), value in zip(converters, values, strict=True):
            for converter in convert:
                value = converter(value, col, db)
            row[attname] = value
        return loaded(self.model, row)

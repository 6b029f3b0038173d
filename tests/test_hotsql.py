"""Hand-written statements (kopilka.hotsql) read and write what the ORM would."""

from datetime import date

import pytest
from django.db import connection
from django.db.models.signals import post_init, pre_init

from kopilka import hotsql
from kopilka.customers.models import Customer
from kopilka.customers.selectors import customer_get
from kopilka.customers.services import customer_register
from kopilka.ledger.models import Account, Entry
from kopilka.merchants.actors import Actor
from kopilka.merchants.models import Merchant, Register, Store
from kopilka.merchants.services import register_authenticate, register_key_issue
from kopilka.programs.models import Campaign, Program

SYSTEM = Actor.system("test")


def _fields(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def _typed(instance) -> dict:
    return {name: (type(value), value) for name, value in _fields(instance).items()}


def test_nothing_listens_for_the_instances_the_hot_paths_build():
    """hotsql.loaded builds them without Model.__init__, so it would skip anything connected
    to these signals."""
    for model in (Account, Entry, Register, Merchant, Store, Customer, Program, Campaign):
        assert not pre_init.has_listeners(model) and not post_init.has_listeners(model)


def test_a_customer_read_by_hand_is_the_one_the_orm_reads(merchant):
    customer = customer_register(
        merchant=merchant,
        actor=SYSTEM,
        phone="8 (916) 123-45-67",
        email="Anna@Example.com",
        first_name="Анна",
        birthday=date(1990, 5, 17),
    )
    read = customer_get(merchant=merchant, pk=customer.pk)
    assert _typed(read) == _typed(Customer.objects.get(pk=customer.pk))
    assert not read._state.adding and read._state.db == "default"
    assert list(read.groups.all()) == []  # relations work as on any instance


@pytest.mark.parametrize("pk", ["abc", None, 10**30, -(10**30), "9" * 40])
def test_an_absurd_customer_id_is_simply_not_found(merchant, pk):
    from kopilka.customers.exceptions import CustomerNotFound

    with pytest.raises(CustomerNotFound):
        customer_get(merchant=merchant, pk=pk)


def test_an_authenticated_register_comes_with_its_merchant_and_store(
    register, django_assert_num_queries
):
    key = register_key_issue(register=register, actor=SYSTEM)
    found = register_authenticate(key)
    assert _typed(found) == _typed(Register.objects.get(pk=register.pk))
    with django_assert_num_queries(0):
        merchant, store = found.merchant, found.store
    assert _typed(merchant) == _typed(Merchant.objects.get(pk=register.merchant_id))
    assert _typed(store) == _typed(Store.objects.get(pk=register.store_id))
    assert register_authenticate(key[:-1] + ("0" if key[-1] != "0" else "1")) is None


def test_a_statement_takes_named_or_positional_parameters(db):
    named = "SELECT CAST(%(a)s AS integer) + CAST(%(b)s AS integer), CAST(%(a)s AS integer)"
    assert hotsql.rows(connection, named, {"a": 2, "b": 3}) == [(5, 2)]
    positional = "SELECT CAST(%s AS integer) + CAST(%s AS integer)"
    assert hotsql.rows(connection, positional, [2, 3]) == [(5,)]


@pytest.mark.postgres_only
def test_a_statement_taking_both_kinds_of_parameters_is_refused(db):
    with pytest.raises(ValueError):
        hotsql.rows(connection, "SELECT CAST(%(a)s AS integer) + CAST(%s AS integer)", {"a": 1})


@pytest.mark.postgres_only
def test_text_parameters_arrive_whole_or_are_refused(db):
    from django.db import DataError
    from django.utils.safestring import mark_safe

    from kopilka.sales.models import Receipt

    echo = "SELECT CAST(%s AS text), CAST(%s AS text), CAST(%s AS text)"
    assert hotsql.rows(connection, echo, ["Анна", Receipt.Kind.SALE, mark_safe("<b>")]) == [
        ("Анна", "sale", "<b>")
    ]
    for nul in ["a\x00b", mark_safe("a\x00b")]:
        with pytest.raises(DataError):
            hotsql.rows(connection, "SELECT CAST(%s AS text)", [nul])


def _round_trips(pgconn, run) -> int:
    """How many times the client waited for the server while `run()` ran (libpq's trace:
    one ReadyForQuery answers each round trip)."""
    import os
    import tempfile

    from psycopg.pq import Trace

    with tempfile.NamedTemporaryFile("r") as trace:
        fd = os.open(trace.name, os.O_WRONLY | os.O_APPEND)
        pgconn.trace(fd)
        pgconn.set_trace_flags(Trace.SUPPRESS_TIMESTAMPS | Trace.REGRESS_MODE)
        try:
            run()
        finally:
            pgconn.untrace()
            os.close(fd)
        return sum(1 for line in trace if [*line.split("\t"), "", ""][2].strip() == "ReadyForQuery")


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("threshold", [0, None], ids=["prepared", "not prepared"])
def test_the_statement_opening_a_transaction_brings_its_begin_in_the_same_round_trip(
    monkeypatch, threshold
):
    from django.db import transaction
    from psycopg import pq

    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "prepare_threshold", threshold)
    connection.ensure_connection()
    pgconn = connection.connection.pgconn
    seen = []

    def first_statement():
        seen[:] = hotsql.rows(connection, "SELECT txid_current(), CAST(%s AS text)", ["x"])

    with transaction.atomic():
        first_statement()  # prepares it, when preparing is on
    with transaction.atomic():
        assert _round_trips(pgconn, first_statement) == 1
        assert pgconn.transaction_status == pq.TransactionStatus.INTRANS
        [(txid, _)] = seen
        # The same transaction goes on: it is the one the statement opened.
        assert hotsql.rows(connection, "SELECT txid_current()", []) == [(txid,)]


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_failing_statement_that_opened_the_transaction_fails_it_as_a_database_error(merchant):
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError), transaction.atomic():
        hotsql.rows(
            connection,
            "UPDATE merchants_merchant SET name = %s WHERE id = %s",
            ["renamed", merchant.pk],
        )
        hotsql.rows(connection, "SELECT CAST(%s AS integer)", ["not a number"])
    merchant.refresh_from_db()
    assert merchant.name != "renamed"
    with pytest.raises(DatabaseError), transaction.atomic():
        hotsql.rows(connection, "SELECT CAST(%s AS integer)", ["not a number"])
    assert hotsql.rows(connection, "SELECT CAST(%s AS integer)", ["7"]) == [(7,)]


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_deallocated_statement_opening_a_transaction_runs_written_out(monkeypatch, merchant):
    from django.db import transaction

    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "prepare_threshold", 0)
    rename = "UPDATE merchants_merchant SET name = %s WHERE id = %s RETURNING name"
    with transaction.atomic():
        hotsql.rows(connection, rename, ["first", merchant.pk])
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    with transaction.atomic():
        assert hotsql.rows(connection, rename, ["second", merchant.pk]) == [("second",)]
    merchant.refresh_from_db()
    assert merchant.name == "second"
    with transaction.atomic():  # and it is prepared again from then on
        assert hotsql.rows(connection, rename, ["third", merchant.pk]) == [("third",)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'kopilka_%%'")
        assert cursor.fetchone()[0] >= 1

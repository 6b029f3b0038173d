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

    from kopilka.pos.models import Receipt

    echo = "SELECT CAST(%s AS text), CAST(%s AS text), CAST(%s AS text)"
    assert hotsql.rows(connection, echo, ["Анна", Receipt.Kind.SALE, mark_safe("<b>")]) == [
        ("Анна", "sale", "<b>")
    ]
    for nul in ["a\x00b", mark_safe("a\x00b")]:
        with pytest.raises(DataError):
            hotsql.rows(connection, "SELECT CAST(%s AS text)", [nul])

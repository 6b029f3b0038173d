import datetime
import threading

import pytest
from django.db import connection

from kopilka.customers.exceptions import (
    ContactRequired,
    CustomerAnonymised,
    CustomerStatusConflict,
    DuplicateCustomer,
    PlanLimitReached,
)
from kopilka.customers.models import Card, Customer
from kopilka.customers.selectors import customer_find
from kopilka.customers.services import (
    card_issue,
    customer_anonymise,
    customer_block,
    customer_confirm,
    customer_register,
    customer_set_groups,
    customer_unblock,
    customer_update,
    group_create,
)
from kopilka.ledger.models import Account
from kopilka.merchants.models import AuditEvent, Merchant


def set_limit(merchant, limit):
    Merchant.objects.filter(pk=merchant.pk).update(customer_limit=limit)


def test_registration_needs_a_phone_or_an_email(merchant, actor):
    with pytest.raises(ContactRequired) as err:
        customer_register(merchant=merchant, actor=actor, first_name="Anna")
    assert err.value.code == "contact_required"


def test_registration_is_audited_without_personal_data(merchant, actor):
    customer = customer_register(
        merchant=merchant, actor=actor, phone="89161234567", first_name="Anna"
    )
    event = AuditEvent.objects.get(action="customer.register", object_id=str(customer.pk))
    assert event.actor == str(actor)
    assert event.data["fields"] == ["first_name", "phone"]
    assert "+79161234567" not in str(event.data) and "Anna" not in str(event.data)


def test_the_free_plan_registers_nine_customers_and_refuses_the_tenth(merchant, actor):
    set_limit(merchant, 9)
    for n in range(9):
        customer_register(merchant=merchant, actor=actor, phone=f"+7916000000{n}")

    with pytest.raises(PlanLimitReached) as err:
        customer_register(merchant=merchant, actor=actor, phone="+79160000009")
    assert (err.value.code, err.value.status) == ("plan_limit_reached", 403)
    assert "9" in str(err.value.message)
    assert merchant.customers.count() == 9


def test_an_anonymised_customer_frees_a_place_in_the_plan(merchant, make_customer, actor):
    set_limit(merchant, 2)
    first = make_customer()
    make_customer()
    customer_anonymise(customer=first, actor=actor)
    make_customer()
    assert merchant.customers.count() == 3


def test_a_duplicate_is_reported_before_the_plan_limit(merchant, make_customer, actor):
    set_limit(merchant, 1)
    make_customer(phone="+79161234567")
    with pytest.raises(DuplicateCustomer):
        customer_register(merchant=merchant, actor=actor, phone="89161234567")


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_cannot_overshoot_the_plan_limit(merchant, actor):
    """Two tills registering at once must not both see "8 of 9": the merchant row lock
    makes the second wait for the first and count again (SQLite serialises writers anyway)."""
    set_limit(merchant, 9)
    for n in range(8):
        customer_register(merchant=merchant, actor=actor, phone=f"+7916000000{n}")
    start = threading.Barrier(4)
    outcomes = []

    def till(n):
        try:
            start.wait()
            customer_register(merchant=merchant, actor=actor, phone=f"+7916100000{n}")
            outcomes.append("ok")
        except PlanLimitReached:
            outcomes.append("limit")
        finally:
            connection.close()

    threads = [threading.Thread(target=till, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["limit", "limit", "limit", "ok"]
    assert merchant.customers.count() == 9


def test_a_pending_customer_is_confirmed_once(merchant, actor):
    customer = customer_register(
        merchant=merchant, actor=actor, phone="89161234567", status="pending"
    )
    customer = customer_confirm(customer=customer, actor=actor)
    assert customer.status == Customer.Status.ACTIVE
    customer_confirm(customer=customer, actor=actor)
    assert AuditEvent.objects.filter(action="customer.confirm").count() == 1


def test_a_blocked_customer_cannot_be_confirmed_until_unblocked(make_customer, actor):
    customer = customer_block(customer=make_customer(status="pending"), actor=actor, reason="fraud")
    with pytest.raises(CustomerStatusConflict):
        customer_confirm(customer=customer, actor=actor)
    assert customer_unblock(customer=customer, actor=actor).status == Customer.Status.ACTIVE
    assert AuditEvent.objects.get(action="customer.block").reason == "fraud"


def test_an_update_normalises_contacts_and_refuses_another_customers_phone(make_customer, actor):
    anna = make_customer(phone="+79161234567")
    boris = make_customer(phone="+79167654321")
    anna = customer_update(
        customer=anna, actor=actor, email=" Anna@Example.com", last_name="Фёдорова"
    )
    assert (anna.email, anna.name_search) == ("anna@example.com", "федорова")
    with pytest.raises(DuplicateCustomer):
        customer_update(customer=boris, actor=actor, phone="8 916 123 45 67")
    with pytest.raises(ContactRequired):
        customer_update(customer=boris, actor=actor, phone="")


def test_name_search_ignores_case_and_yo(merchant, make_customer):
    alena = make_customer(first_name="Алёна", last_name="Фёдорова")
    make_customer(first_name="Анна", last_name="Петрова")
    for query in ("федорова", "ФЁДОР", "алена федор"):
        assert [m.customer for m in customer_find(merchant=merchant, query=query)] == [alena]


def test_groups_are_set_exactly(merchant, make_customer, actor):
    vip = group_create(merchant=merchant, name="VIP", actor=actor)
    staff = group_create(merchant=merchant, name="Staff", actor=actor)
    customer = make_customer(groups=[vip])
    customer_set_groups(customer=customer, groups=[staff.pk], actor=actor)
    assert list(customer.groups.all()) == [staff]


def test_anonymise_erases_personal_data_but_keeps_the_row_and_its_points(
    merchant, customer_with_points, ledger_snapshot, actor
):
    customer = customer_with_points
    customer_update(
        customer=customer,
        actor=actor,
        birthday=datetime.date(1990, 5, 17),
        code_word="owl",
        notes="prefers e-mail",
        gender="f",
    )
    card, _ = card_issue(customer=customer, kind="plastic", number="1234", actor=actor)
    phone, before = customer.phone, ledger_snapshot(customer)

    customer_anonymise(customer=customer, actor=actor, reason="request by letter")

    customer = Customer.objects.get(pk=customer.pk)
    erased = ("first_name", "last_name", "phone", "email", "code_word", "notes", "gender")
    assert all(getattr(customer, f) == "" for f in erased)
    assert customer.birthday is None and customer.name_search == ""
    assert customer.anonymised_at is not None
    assert customer.status == Customer.Status.BLOCKED
    assert Card.objects.get(pk=card.pk).status == Card.Status.BLOCKED
    assert Account.objects.filter(customer=customer).count() == 1
    assert ledger_snapshot(customer) == before != []
    assert customer_find(merchant=merchant, query=phone) == []
    assert customer_find(merchant=merchant, query="Petrova") == []
    with pytest.raises(CustomerAnonymised):
        customer_update(customer=customer, actor=actor, first_name="Anna")
    with pytest.raises(CustomerAnonymised):
        customer_unblock(customer=customer, actor=actor)
    # The phone is free again: the person may come back as a new customer.
    assert customer_register(merchant=merchant, actor=actor, phone=phone).pk != customer.pk

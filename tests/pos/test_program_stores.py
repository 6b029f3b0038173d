"""A program that works in some stores only: tills elsewhere get nothing from it (no
accrual, no payment by bonuses), and say why; the back office sets the stores."""

import pytest

from kopilka.merchants import services as merchants
from kopilka.programs import services as programs
from kopilka.programs.exceptions import InvalidProgram
from kopilka.sales.models import Receipt
from tests.backoffice.admin_client import page_form_data, staff_user

from .conftest import Till, line


@pytest.fixture
def clinics(merchant, store, actor):
    other = merchants.store_create(merchant=merchant, name="Клиника на Садовой", actor=actor)
    return store, other


@pytest.fixture
def program_of_first_clinic(merchant, clinics, actor):
    program = programs.program_create(
        merchant=merchant,
        name="Бонусы клиники",
        actor=actor,
        accrual_rounding="kopeck",
        stores=[clinics[0]],
    )
    programs.accrual_rule_set(program=program, steps=[(0, 5)], actor=actor)
    return program


def till_in(store, actor, client):
    register = merchants.register_create(store=store, name=f"Касса {store.pk}", actor=actor)
    return Till(client, merchants.register_key_issue(register=register, actor=actor))


def sale(customer, number):
    return {
        "customer": {"id": customer.pk},
        "lines": [line(1, "A", 10000)],
        "external_number": number,
    }


def test_only_the_programs_stores_accrue(
    program_of_first_clinic, clinics, make_customer, actor, client
):
    customer = make_customer()
    first, second = clinics

    there = till_in(first, actor, client).confirm(sale(customer, "1"))
    elsewhere = till_in(second, actor, client).confirm(sale(customer, "2"))

    assert there.json()["totals"]["accrual"] == 500
    assert elsewhere.status_code == 201, elsewhere.json()
    assert elsewhere.json()["totals"]["accrual"] == 0
    assert "program_not_in_store" in [r["code"] for r in elsewhere.json()["reasons"]]
    # The purchase is still the customer's: it counts in their history.
    assert Receipt.objects.filter(customer=customer).count() == 2


def test_another_merchants_store_is_refused(merchant, other_merchant, actor):
    theirs = merchants.store_create(merchant=other_merchant, name="Чужая", actor=actor)
    with pytest.raises(InvalidProgram):
        programs.program_create(merchant=merchant, name="X", actor=actor, stores=[theirs])


def test_the_back_office_sets_the_stores_of_a_program(
    client, merchant, clinics, program_of_first_clinic
):
    client.force_login(staff_user(merchant, "owner"))
    url = f"/admin/programs/program/{program_of_first_clinic.pk}/change/"
    data = page_form_data(client.get(url))
    data["stores"] = [str(clinics[1].pk)]
    assert client.post(url, data).status_code == 302
    program_of_first_clinic.refresh_from_db()
    assert list(program_of_first_clinic.stores.all()) == [clinics[1]]

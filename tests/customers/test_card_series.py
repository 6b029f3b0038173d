"""Printed plastic series: a merchant prints "Silver" cards numbered 2940... and "Gold" cards
numbered 2950...; a plastic card issued without a type takes the type of its series, and so
its program. Series of one merchant never overlap."""

import pytest
from django.db import transaction
from django.utils import timezone

from kopilka.customers import card_types
from kopilka.customers.card_types import OverlappingCardSeries, card_type_for_number
from kopilka.customers.exceptions import InvalidCustomerData
from kopilka.customers.models import Card
from kopilka.customers.services import card_issue, card_reissue
from kopilka.ledger import locks
from kopilka.ledger import services as ledger
from kopilka.ledger.models import Account
from kopilka.ledger.selectors import account_balance
from kopilka.ledger.verify import verify_ledger
from kopilka.merchants.models import AuditEvent, Role
from kopilka.programs import services as programs
from kopilka.programs.selectors import program_of_customer
from tests.backoffice.admin_client import page_form_data, staff_user

GOLD_CARD = "2950 0000 0001 2"
TYPES = "/admin/customers/cardtype/"


@pytest.fixture
def base_program(merchant, actor):
    # The oldest enabled program: the default of customers without a typed card.
    return programs.program_create(merchant=merchant, name="Base", actor=actor)


@pytest.fixture
def gold_program(merchant, actor, base_program):
    return programs.program_create(merchant=merchant, name="Gold", actor=actor)


@pytest.fixture
def silver(merchant, actor, base_program):
    return card_types.card_type_create(
        merchant=merchant, name="Silver", program=base_program, actor=actor, plastic_prefix="2940"
    )


@pytest.fixture
def gold(merchant, actor, gold_program):
    return card_types.card_type_create(
        merchant=merchant, name="Gold", program=gold_program, actor=actor, plastic_prefix="2950"
    )


def plastic(customer, number, actor, **kwargs):
    card, _secret = card_issue(
        customer=customer, kind=Card.Kind.PLASTIC, number=number, actor=actor, **kwargs
    )
    return card


def available(customer, program):
    account = Account.objects.filter(customer=customer, program=program).first()
    return account_balance(account, now=timezone.now()).available if account else 0


def test_a_plastic_card_of_the_gold_series_issued_without_a_type_is_a_gold_card(
    make_customer, silver, gold, gold_program, merchant, actor
):
    customer = make_customer()
    card = plastic(customer, GOLD_CARD, actor)
    assert card.card_type == gold
    assert program_of_customer(customer=customer, merchant=merchant) == gold_program
    event = AuditEvent.objects.filter(action="card.issue").latest("pk")
    assert event.data["card_type_id"] == gold.pk


def test_a_number_outside_every_series_gets_no_type_and_the_default_program(
    make_customer, silver, gold, base_program, merchant, actor
):
    customer = make_customer()
    assert plastic(customer, "2960000000011", actor).card_type is None
    assert plastic(customer, "295", actor).card_type is None  # shorter than the series
    assert program_of_customer(customer=customer, merchant=merchant) == base_program


def test_a_type_given_explicitly_wins_over_the_series(make_customer, silver, gold, actor):
    assert plastic(make_customer(), GOLD_CARD, actor, card_type=silver).card_type == silver


def test_a_virtual_card_never_takes_a_type_from_a_series(
    make_customer, merchant, gold_program, actor
):
    card_types.card_type_create(
        merchant=merchant, name="All 29", program=gold_program, actor=actor, plastic_prefix="29"
    )
    card, _secret = card_issue(customer=make_customer(), kind=Card.Kind.VIRTUAL, actor=actor)
    assert card.number.startswith("29") and card.card_type is None


def test_a_customer_given_a_gold_series_card_takes_the_balance_along(
    make_customer, gold, base_program, gold_program, actor
):
    customer = make_customer()
    account = programs.customer_enrol(customer=customer, program=base_program, actor=actor)
    with transaction.atomic():
        [locked] = locks.lock_accounts([account.pk])
        ledger.credit(account=locked, amount=50000, actor=actor)

    plastic(customer, GOLD_CARD, actor)

    assert (available(customer, base_program), available(customer, gold_program)) == (0, 50000)
    assert verify_ledger() == []


def test_a_card_reissued_onto_a_gold_series_number_becomes_gold(
    make_customer, gold, gold_program, merchant, actor
):
    customer = make_customer()
    old = plastic(customer, "1000001", actor)
    new, _secret = card_reissue(card=old, actor=actor, new_number=GOLD_CARD)
    assert new.card_type == gold
    assert program_of_customer(customer=customer, merchant=merchant) == gold_program


def test_the_number_is_looked_up_as_printed_and_only_among_the_merchants_series(
    gold, merchant, other_merchant
):
    assert card_type_for_number(merchant=merchant, number=GOLD_CARD) == gold
    assert card_type_for_number(merchant=merchant, number="2950-0000-0001-2") == gold
    assert card_type_for_number(merchant=merchant, number="") is None
    assert card_type_for_number(merchant=other_merchant, number=GOLD_CARD) is None


@pytest.mark.parametrize("taken, wanted", [("2950", "29"), ("2950", "29501"), ("2950", "2950")])
def test_a_series_overlapping_another_is_refused_whichever_is_longer(
    merchant, gold_program, actor, taken, wanted
):
    first = card_types.card_type_create(
        merchant=merchant, name="First", program=gold_program, actor=actor, plastic_prefix=taken
    )
    with pytest.raises(OverlappingCardSeries) as refused:
        card_types.card_type_create(
            merchant=merchant,
            name="Second",
            program=gold_program,
            actor=actor,
            plastic_prefix=wanted,
        )
    assert refused.value.status == 422 and refused.value.details["field"] == "plastic_prefix"
    assert refused.value.details["card_type_id"] == first.pk
    assert first.name in str(refused.value.message) and taken in str(refused.value.message)
    second = card_types.card_type_create(
        merchant=merchant, name="Second", program=gold_program, actor=actor, plastic_prefix="2951"
    )
    with pytest.raises(OverlappingCardSeries):
        card_types.card_type_update(card_type=second, actor=actor, plastic_prefix=wanted)
    second.refresh_from_db()
    assert second.plastic_prefix == "2951"


def test_series_of_different_merchants_and_a_types_own_series_do_not_clash(
    merchant, other_merchant, gold, actor
):
    theirs = programs.program_create(merchant=other_merchant, name="Their", actor=actor)
    card_types.card_type_create(
        merchant=other_merchant, name="Gold", program=theirs, actor=actor, plastic_prefix="2950"
    )
    # Narrowing its own series is not an overlap with itself.
    card_types.card_type_update(card_type=gold, actor=actor, plastic_prefix="29500")
    gold.refresh_from_db()
    assert gold.plastic_prefix == "29500"
    event = AuditEvent.objects.get(action="card_type.update")
    assert event.data == {
        "before": {"plastic_prefix": "2950"},
        "after": {"plastic_prefix": "29500"},
    }


@pytest.mark.parametrize("series", ["29a", "２９", "12345678901234567"])
def test_a_series_is_digits_only_and_not_too_long(merchant, gold_program, actor, series):
    with pytest.raises(InvalidCustomerData) as refused:
        card_types.card_type_create(
            merchant=merchant, name="Bad", program=gold_program, actor=actor, plastic_prefix=series
        )
    assert refused.value.details["field"] == "plastic_prefix"


def test_a_series_is_stored_without_the_spaces_it_was_typed_with(merchant, gold_program, actor):
    card_type = card_types.card_type_create(
        merchant=merchant, name="Gold", program=gold_program, actor=actor, plastic_prefix=" 29 50 "
    )
    assert card_type.plastic_prefix == "2950"
    event = AuditEvent.objects.get(action="card_type.create")
    assert event.data["plastic_prefix"] == "2950"


# --- back office -----------------------------------------------------------------------------


@pytest.fixture
def owner(client, merchant):
    client.force_login(staff_user(merchant, Role.OWNER))
    return client


def test_an_owner_sets_a_types_plastic_series_in_the_back_office(owner, silver, gold):
    url = f"{TYPES}{silver.pk}/change/"
    data = page_form_data(owner.get(url))
    assert data["plastic_prefix"] == "2940"
    data.update(plastic_prefix="2941", _save="1")
    assert owner.post(url, data).status_code == 302
    silver.refresh_from_db()
    assert silver.plastic_prefix == "2941"
    assert "2941" in owner.get(TYPES).content.decode()  # a column of the list


def test_an_overlapping_series_is_a_form_error_on_the_field(owner, silver, gold):
    url = f"{TYPES}{silver.pk}/change/"
    data = {**page_form_data(owner.get(url)), "plastic_prefix": "29", "_save": "1"}
    response = owner.post(url, data)
    assert response.status_code == 200
    [error] = response.context["adminform"].form.errors["plastic_prefix"]
    assert "2950" in error and "Gold" in error
    silver.refresh_from_db()
    assert silver.plastic_prefix == "2940"


def test_a_new_type_gets_its_series_on_the_add_page(owner, gold_program, gold, merchant):
    data = {
        "name": "Platinum",
        "program": gold_program.pk,
        "number_prefix": "",
        "plastic_prefix": "2960",
        "_save": "1",
    }
    assert owner.post(f"{TYPES}add/", data).status_code == 302
    assert card_type_for_number(merchant=merchant, number="2960123").name == "Platinum"

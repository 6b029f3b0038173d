"""The customer card's cards: attaching a plastic card typed or scanned (secret code and card
type optional), issuing a virtual card of a type, reissuing onto a new plastic card; a card of
another program's type moves the customer there and says so; only owners and admins choose
types."""

import pytest
from django.db import transaction

from kopilka.customers import card_types
from kopilka.customers import services as customers
from kopilka.customers.cards import card_secret_verify
from kopilka.customers.models import Card
from kopilka.ledger import locks
from kopilka.ledger import services as ledger
from kopilka.ledger.models import Account
from kopilka.merchants.models import AuditEvent, Role
from kopilka.programs import services as programs
from kopilka.programs.models import Program
from tests.conftest import SYSTEM

from .admin_client import staff_user


@pytest.fixture
def anna(make_customer, program):
    """A customer with 250.00 in the merchant's first (default) program."""
    anna = make_customer(first_name="Анна")
    account = programs.customer_enrol(customer=anna, program=program, actor=SYSTEM)
    with transaction.atomic():
        [locked] = locks.lock_accounts([account.pk])
        ledger.credit(account=locked, amount=25_000, actor=SYSTEM)
    return anna


@pytest.fixture
def gold(merchant):
    program = Program.objects.create(merchant=merchant, name="Золотая программа")
    return card_types.card_type_create(
        merchant=merchant, name="Gold", program=program, actor=SYSTEM, number_prefix="2977"
    )


def signed_in(client, merchant, role):
    client.force_login(staff_user(merchant, role))
    return client


def card_url(customer, rest=""):
    return f"/admin/customers/customer/{customer.pk}/card/{rest}"


def attach(client, customer, **form):
    return client.post(card_url(customer, "cards/attach/"), form, HTTP_HX_REQUEST="true")


def balances(customer) -> dict[str, int]:
    return {
        account.program.name: sum(lot.remaining for lot in account.lots.all())
        for account in Account.objects.filter(customer=customer).select_related("program")
    }


def test_a_scanned_plastic_card_with_its_secret_code_is_attached(client, merchant, anna):
    signed_in(client, merchant, Role.MARKETER)
    response = attach(client, anna, number="2900 0000 0001 7", secret="4711")
    assert response.status_code == 200
    card = Card.objects.get(customer=anna)
    assert (card.kind, card.number, card.card_type) == (Card.Kind.PLASTIC, "2900000000017", None)
    assert card_secret_verify(card=card, secret="4711")
    text = response.content.decode()
    assert 'data-card="2900000000017"' in text and "4711" not in text


def test_without_a_secret_code_one_is_generated_and_shown_once(client, merchant, anna):
    signed_in(client, merchant, Role.OWNER)
    response = attach(client, anna, number="2900000000017")
    card = Card.objects.get(customer=anna)
    [shown] = [note for _, note in response.context["notes"]]
    code = shown.rstrip(".").rsplit(" ", 1)[-1]
    assert card_secret_verify(card=card, secret=code)


def test_a_number_already_in_use_is_refused_and_nothing_changes(
    client, merchant, anna, make_customer
):
    boris = make_customer(first_name="Борис")
    customers.card_issue(customer=boris, kind="plastic", number="2900000000017", actor=SYSTEM)
    signed_in(client, merchant, Role.OWNER)
    response = attach(client, anna, number="2900000000017", secret="4711")
    assert response.status_code == 200
    [(level, note)] = response.context["notes"]
    assert level == 40 and ("already exists" in note or "уже существует" in note)
    assert not Card.objects.filter(customer=anna).exists()
    assert Card.objects.get(number="2900000000017").customer == boris
    assert attach(client, anna, number="  ").context["notes"][0][0] == 40
    assert not Card.objects.filter(customer=anna).exists()


def test_a_card_of_another_programs_type_moves_the_customer_and_says_so(
    client, merchant, anna, gold
):
    signed_in(client, merchant, Role.ADMIN)
    page = client.get(card_url(anna))
    assert list(page.context["card_types"]) == [gold]
    response = attach(client, anna, number="7700000000012", card_type=str(gold.pk))
    card = Card.objects.get(customer=anna)
    assert card.card_type == gold
    notes = " ".join(note for _, note in response.context["notes"])
    assert "Золотая программа" in notes
    assert balances(anna) == {"Бонусы": 0, "Золотая программа": 25_000}
    # The accounts part of the page is redrawn with the answer.
    assert 'id="accounts" hx-swap-oob="true"' in response.content.decode()


def test_a_virtual_card_can_be_issued_of_a_type(client, merchant, anna, gold):
    signed_in(client, merchant, Role.OWNER)
    response = client.post(
        card_url(anna, "cards/issue/"), {"card_type": str(gold.pk)}, HTTP_HX_REQUEST="true"
    )
    card = Card.objects.get(customer=anna)
    assert card.kind == Card.Kind.VIRTUAL and card.card_type == gold
    assert card.number.startswith("2977")
    assert "Золотая программа" in " ".join(note for _, note in response.context["notes"])
    # Shown as a scanner reads it: EAN-13 bars labelled with the number, and a QR code.
    page = response.content.decode()
    pictures = page[page.index(f'data-card-pictures="{card.number}"') :]
    assert f'class="card-barcode" role="img" aria-label="{card.number}"' in pictures
    assert 'class="card-qr"' in pictures


def test_an_untyped_virtual_card_moves_nobody(client, merchant, anna, gold):
    signed_in(client, merchant, Role.OWNER)
    response = client.post(card_url(anna, "cards/issue/"), {"card_type": ""})
    assert response.status_code == 302
    assert Card.objects.get(customer=anna).card_type is None
    assert balances(anna) == {"Бонусы": 25_000}


def test_marketers_attach_and_issue_cards_but_choose_no_type(client, merchant, anna, gold):
    signed_in(client, merchant, Role.MARKETER)
    page = client.get(card_url(anna))
    assert list(page.context["card_types"]) == []
    assert 'name="card_type"' not in page.content.decode()
    forced = attach(client, anna, number="7700000000012", card_type=str(gold.pk))
    assert forced.status_code == 403
    assert client.post(card_url(anna, "cards/issue/"), {"card_type": gold.pk}).status_code == 403
    assert not Card.objects.filter(customer=anna).exists()
    assert balances(anna) == {"Бонусы": 25_000}


def test_another_merchants_card_type_is_not_found(client, merchant, other_merchant, anna):
    theirs = card_types.card_type_create(
        merchant=other_merchant,
        name="Их карта",
        program=Program.objects.create(merchant=other_merchant, name="Их программа"),
        actor=SYSTEM,
    )
    signed_in(client, merchant, Role.OWNER)
    response = attach(client, anna, number="7700000000012", card_type=str(theirs.pk))
    assert response.context["notes"][0][0] == 40
    assert not Card.objects.filter(customer=anna).exists()


def test_a_lost_plastic_card_is_reissued_onto_a_new_plastic_one(client, merchant, anna, gold):
    old, _ = customers.card_issue(
        customer=anna, kind="plastic", number="7700000000012", actor=SYSTEM, card_type=gold
    )
    signed_in(client, merchant, Role.MARKETER)
    response = client.post(
        card_url(anna, f"cards/{old.pk}/reissue/"),
        {"number": "7700 0000 0002 9", "secret": "1234"},
        HTTP_HX_REQUEST="true",
    )
    old.refresh_from_db()
    new = old.replaced_by
    assert old.status == Card.Status.LOST
    assert (new.kind, new.number, new.card_type) == (Card.Kind.PLASTIC, "7700000000029", gold)
    assert card_secret_verify(card=new, secret="1234")
    assert "1234" not in response.content.decode()
    assert balances(anna) == {"Бонусы": 0, "Золотая программа": 25_000}
    assert AuditEvent.objects.filter(action="card.reissue", object_id=str(old.pk)).exists()


def test_a_reissue_onto_a_number_in_use_changes_nothing(client, merchant, anna, make_customer):
    old, _ = customers.card_issue(
        customer=anna, kind="plastic", number="7700000000012", actor=SYSTEM
    )
    customers.card_issue(
        customer=make_customer(), kind="plastic", number="7700000000029", actor=SYSTEM
    )
    signed_in(client, merchant, Role.OWNER)
    response = client.post(
        card_url(anna, f"cards/{old.pk}/reissue/"),
        {"number": "7700000000029"},
        HTTP_HX_REQUEST="true",
    )
    assert response.context["notes"][0][0] == 40
    old.refresh_from_db()
    assert old.status == Card.Status.ACTIVE and old.replaced_by is None
    assert Card.objects.filter(customer=anna).count() == 1

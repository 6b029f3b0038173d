"""The catalogue of discount cards (seed 004: «Дисконтні карти прописуються вручну в каталозі
… За бажанням можна вказати власника»): printed cards entered ahead without an owner, given
one when a till registers a customer with the card or staff attach it; a till that scans
such a card is told to register the customer."""

import pytest

from kopilka.customers import card_types
from kopilka.customers import services as customers
from kopilka.customers.cards import card_secret_verify, numbers_from
from kopilka.customers.exceptions import CardNotAssigned, DuplicateCard, InvalidCardNumber
from kopilka.customers.models import Card
from kopilka.merchants.models import AuditEvent
from kopilka.programs import services as programs
from kopilka.sales.resolve import customer_from_reference
from tests.conftest import SYSTEM


def test_a_printed_series_counts_on_ean13_bodies_and_plain_numbers_keep_their_width():
    assert numbers_from("2900000000018", 3) == ["2900000000018", "2900000000025", "2900000000032"]
    assert numbers_from("000998", 3) == ["000998", "000999", "001000"]
    with pytest.raises(ValueError):
        numbers_from("998", 3)  # would need a fourth digit
    with pytest.raises(ValueError):
        numbers_from("12A", 1)


def test_cards_entered_ahead_have_no_owner_and_take_their_series_type(merchant):
    gold = card_types.card_type_create(
        merchant=merchant,
        name="Золотая",
        program=programs.program_create(merchant=merchant, name="Золото", actor=SYSTEM),
        plastic_prefix="2955",
        actor=SYSTEM,
    )
    cards = customers.cards_stock(merchant=merchant, first="29550001", count=3, actor=SYSTEM)
    assert [c.number for c in cards] == ["29550001", "29550002", "29550003"]
    stored = Card.objects.filter(merchant=merchant).order_by("number")
    assert [(c.customer_id, c.kind, c.card_type) for c in stored] == [(None, "plastic", gold)] * 3
    event = AuditEvent.objects.get(action="card.stock")
    assert (event.data["first"], event.data["last"], event.data["count"]) == (
        "29550001",
        "29550003",
        3,
    )


def test_a_series_overlapping_the_catalogue_is_refused_whole(merchant):
    customers.cards_stock(merchant=merchant, first="100", count=2, actor=SYSTEM)
    with pytest.raises(DuplicateCard):
        customers.cards_stock(merchant=merchant, first="099", count=5, actor=SYSTEM)
    assert Card.objects.count() == 2
    with pytest.raises(InvalidCardNumber):
        customers.cards_stock(merchant=merchant, first="abc", count=1, actor=SYSTEM)


def test_registering_a_customer_with_a_catalogue_card_gives_the_card_its_owner(
    merchant, make_customer
):
    customers.cards_stock(merchant=merchant, first="5000100", count=1, actor=SYSTEM)
    anna = make_customer(card_number="5000100", card_secret="7391")

    card = Card.objects.get(number="5000100")
    assert card.customer == anna and Card.objects.count() == 1
    assert card_secret_verify(card=card, secret="7391")  # the code printed on it
    assert AuditEvent.objects.filter(action="card.assign").count() == 1


def test_attaching_a_catalogue_card_without_its_code_generates_one(merchant, make_customer):
    customers.cards_stock(merchant=merchant, first="5000200", count=1, actor=SYSTEM)
    boris = make_customer()
    card, secret = customers.card_issue(
        customer=boris, kind=Card.Kind.PLASTIC, number="5000200", actor=SYSTEM
    )
    assert card.customer == boris and secret and card_secret_verify(card=card, secret=secret)
    with pytest.raises(DuplicateCard):  # now it is someone's
        customers.card_issue(
            customer=make_customer(), kind=Card.Kind.PLASTIC, number="5000200", actor=SYSTEM
        )


def test_a_till_scanning_a_card_without_an_owner_is_told_to_register_the_customer(merchant):
    customers.cards_stock(merchant=merchant, first="5000300", count=1, actor=SYSTEM)
    with pytest.raises(CardNotAssigned) as refused:
        customer_from_reference(merchant=merchant, card="5000300")
    assert refused.value.code == "card_not_assigned"


def test_the_card_list_enters_a_printed_series_into_the_catalogue(client, merchant):
    from kopilka.merchants.models import Role
    from tests.backoffice.admin_client import staff_user

    client.force_login(staff_user(merchant, Role.ADMIN))
    assert 'id="card-stock-link"' in client.get("/admin/customers/card/").content.decode()
    done = client.post(
        "/admin/customers/card/stock/",
        {"first": "7700-0001", "count": "20", "card_type": ""},
        follow=True,
    )
    assert Card.objects.filter(customer=None).count() == 20
    assert "20 карт внесены в каталог: 77000001 – 77000020." in done.content.decode()
    again = client.post("/admin/customers/card/stock/", {"first": "77000020", "count": "2"})
    assert again.status_code == 200 and again.context["form"].errors["first"]
    assert Card.objects.count() == 20


def test_auditors_enter_no_cards(client, merchant):
    from kopilka.merchants.models import Role
    from tests.backoffice.admin_client import staff_user

    client.force_login(staff_user(merchant, Role.AUDITOR))
    assert 'id="card-stock-link"' not in client.get("/admin/customers/card/").content.decode()
    refused = client.post("/admin/customers/card/stock/", {"first": "1", "count": "1"})
    assert refused.status_code == 403 and not Card.objects.exists()

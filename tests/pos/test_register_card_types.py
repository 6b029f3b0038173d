"""Card types at registration through the POS API: a plastic card of the Gold series, or an
explicit `card_type_id`, puts the new customer in Gold's program from the first quote on."""

import pytest

from kopilka.customers import card_types
from kopilka.customers.models import Card, Customer
from kopilka.ledger.models import Account, EntryKind
from kopilka.programs import services as programs
from kopilka.sales import notifications

from .conftest import line

GOLD_CARD = "2950000000012"


def make_program(merchant, actor, name, percent, **options):
    program = programs.program_create(
        merchant=merchant, name=name, actor=actor, accrual_rounding="kopeck", **options
    )
    programs.accrual_rule_set(program=program, steps=[(0, percent)], actor=actor)
    return program


@pytest.fixture
def base_program(merchant, actor):
    """5 %; the oldest program, so the default of customers without a typed card."""
    return make_program(merchant, actor, "Base", 5)


@pytest.fixture
def gold(merchant, actor, base_program):
    """Gold cards, printed from 2950...: 10 % in their own program."""
    return card_types.card_type_create(
        merchant=merchant,
        name="Gold",
        program=make_program(merchant, actor, "Gold", 10),
        actor=actor,
        plastic_prefix="2950",
    )


@pytest.fixture
def silver(merchant, actor, base_program):
    return card_types.card_type_create(
        merchant=merchant, name="Silver", program=base_program, actor=actor
    )


def register(till, **body):
    return till.post("/customers", {"phone": "+79165554433", **body})


def quote(till, customer):
    response = till.post(
        "/receipts/quote", {"customer": customer, "lines": [line(1, "A", 10000)], "spend": 0}
    )
    assert response.status_code == 200, response.json()
    return response.json()


def problem(response) -> dict:
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


def test_a_customer_registered_with_a_gold_card_number_is_quoted_in_golds_program(till, gold):
    response = register(till, card_number="2950 0000 0001 2")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["cards"][0]["card_type_id"] == gold.pk

    for reference in ({"id": body["id"]}, {"phone": "+79165554433"}, {"card": GOLD_CARD}):
        quoted = quote(till, reference)
        assert quoted["program_id"] == gold.program_id
        assert quoted["totals"]["accrual"] == 1000  # Gold's 10 %, not the default 5 %


def test_an_explicit_card_type_is_the_type_of_every_card_issued(till, gold):
    body = register(till, card_number="1234567", virtual_card=True, card_type_id=gold.pk).json()
    assert [card["card_type_id"] for card in body["cards"]] == [gold.pk, gold.pk]
    assert set(Card.objects.filter(customer_id=body["id"]).values_list("card_type", flat=True)) == {
        gold.pk
    }
    assert quote(till, {"id": body["id"]})["program_id"] == gold.program_id


def test_an_explicit_card_type_wins_over_the_cards_series(till, gold, silver, base_program):
    body = register(till, card_number=GOLD_CARD, card_type_id=silver.pk).json()
    assert body["cards"][0]["card_type_id"] == silver.pk
    assert quote(till, {"card": GOLD_CARD})["program_id"] == base_program.pk


def test_the_welcome_bonus_and_the_confirmation_are_those_of_the_cards_program(
    till, gold, base_program, actor, django_capture_on_commit_callbacks
):
    programs.program_update(program=base_program, actor=actor, welcome_bonus=5000)
    programs.program_update(
        program=gold.program, actor=actor, welcome_bonus=30000, require_confirmation=True
    )
    with django_capture_on_commit_callbacks(execute=True):  # the code leaves after commit
        body = register(till, card_number=GOLD_CARD).json()
    assert body["status"] == "pending" and body["confirmation_required"] is True
    [code] = [m.code for m in notifications.outbox if m.customer_id == body["id"]]

    confirmed = till.post(f"/customers/{body['id']}/confirm", {"code": code})

    assert confirmed.status_code == 200, confirmed.json()
    [account] = Account.objects.filter(customer_id=body["id"])
    assert account.program_id == gold.program_id
    assert [e.amount for e in account.entries.filter(kind=EntryKind.WELCOME)] == [30000]


def test_a_catalogue_card_entered_as_gold_welcomes_in_golds_program(
    till, gold, base_program, merchant, actor
):
    from kopilka.customers import services as customers

    programs.program_update(program=gold.program, actor=actor, welcome_bonus=30000)
    customers.cards_stock(merchant=merchant, first="7100001", count=1, card_type=gold, actor=actor)

    body = register(till, card_number="7100001").json()

    [card] = Card.objects.filter(number="7100001")
    assert (card.customer_id, card.card_type) == (body["id"], gold)
    [account] = Account.objects.filter(customer_id=body["id"])
    assert account.program_id == gold.program_id
    assert [e.amount for e in account.entries.filter(kind=EntryKind.WELCOME)] == [30000]


@pytest.mark.parametrize("whose", ["another merchant's", "unknown"])
def test_a_card_type_not_of_the_merchant_is_a_422_and_nothing_is_registered(
    till, gold, other_merchant, actor, whose
):
    if whose == "unknown":
        card_type_id = gold.pk + 1000
    else:
        theirs = programs.program_create(merchant=other_merchant, name="Their", actor=actor)
        card_type_id = card_types.card_type_create(
            merchant=other_merchant, name="Their gold", program=theirs, actor=actor
        ).pk

    response = register(till, virtual_card=True, card_type_id=card_type_id)

    assert response.status_code == 422
    body = problem(response)
    assert body["code"] == "unknown_card_type" and body["field"] == "card_type_id"
    assert not Customer.objects.filter(phone="+79165554433").exists()


@pytest.mark.parametrize(
    ("extra", "code"),
    [({}, "card_type_needs_card"), ({"card_type_id": 0}, "validation_error")],
)
def test_a_card_type_without_a_card_or_out_of_range_is_a_422(till, gold, extra, code):
    response = register(till, **{"card_type_id": gold.pk, **extra})
    assert response.status_code == 422
    assert problem(response)["code"] == code
    assert not Customer.objects.exists()

"""The customers endpoints of the POS API, through HTTP with a real register key: identify,
register at the till, history; masking of personal data; tenancy."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from kopilka.customers.services import customer_block
from kopilka.ledger import services as ledger
from kopilka.ledger.models import Account
from kopilka.merchants import services as merchants
from kopilka.sales.models import Receipt

from ..ledger.helpers import locked

PHONE = "+79161234567"


class Till:
    """A till talking to the API with its key."""

    def __init__(self, key: str | None):
        headers = {"authorization": f"Bearer {key}"} if key else {}
        self.client = Client(headers=headers)

    def post(self, path: str, body: dict | None = None):
        return self.client.post(
            f"/api/v1{path}", data=json.dumps(body or {}), content_type="application/json"
        )

    def get(self, path: str, **params):
        return self.client.get(f"/api/v1{path}", params)


@pytest.fixture
def till(register, actor):
    return Till(merchants.register_key_issue(register=register, actor=actor))


@pytest.fixture
def their_till(other_merchant, actor):
    store = merchants.store_create(merchant=other_merchant, name="Их магазин", actor=actor)
    register = merchants.register_create(store=store, name="Их касса", actor=actor)
    return Till(merchants.register_key_issue(register=register, actor=actor))


@pytest.fixture
def ivan(make_customer):
    return make_customer(
        phone=PHONE,
        email="Ivan.Ivanov@Example.com",
        first_name="Иван",
        last_name="Иванов",
        code_word="Ёлка",
        card_number="2900 0000 0001 7",
    )


def problem_of(response) -> dict:
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == response.status_code
    return body


# --- identify --------------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["+79161234567", "8 (916) 123-45-67", "+7 916 123 45 67"])
def test_a_customer_is_identified_by_phone_in_any_spelling(till, ivan, spelling):
    response = till.post("/customers/identify", {"phone": spelling})
    assert response.status_code == 200
    assert response.json()["id"] == ivan.pk


def test_a_customer_is_identified_by_id(till, ivan):
    assert till.post("/customers/identify", {"id": ivan.pk}).json()["id"] == ivan.pk


def test_a_free_query_finds_the_customer_by_phone_too(till, ivan):
    response = till.post("/customers/identify", {"query": "89161234567"})
    assert response.status_code == 200
    assert response.json()["id"] == ivan.pk


def test_a_customer_is_identified_by_card_and_the_card_number_comes_back_masked(till, ivan):
    response = till.post("/customers/identify", {"card": "2900000000017"})
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == ivan.pk
    assert body["card"] == {"number": "*********0017", "kind": "plastic", "status": "active"}


def test_a_scanned_card_in_a_free_query_identifies_the_customer_with_the_card(till, ivan):
    body = till.post("/customers/identify", {"query": "2900000000017"}).json()
    assert body["id"] == ivan.pk
    assert body["card"]["status"] == "active"


def test_a_customer_is_identified_by_email_in_any_case(till, ivan):
    response = till.post("/customers/identify", {"email": " IVAN.ivanov@example.COM "})
    assert response.status_code == 200
    assert response.json()["id"] == ivan.pk
    assert response.json()["card"] is None


@pytest.mark.parametrize("word", ["Ёлка", "ёлка", "ЁЛКА"])
def test_a_customer_is_identified_by_code_word_ignoring_case(till, ivan, word):
    response = till.post("/customers/identify", {"code_word": word})
    assert response.status_code == 200
    assert response.json()["id"] == ivan.pk


def test_an_ascii_code_word_is_matched_ignoring_case(till, make_customer):
    customer = make_customer(code_word="Sunflower")
    response = till.post("/customers/identify", {"code_word": "SUNFLOWER"})
    assert response.json()["id"] == customer.pk


def test_a_code_word_matches_only_exactly(till, ivan):
    response = till.post("/customers/identify", {"code_word": "Ёлк"})
    assert response.status_code == 404
    assert problem_of(response)["code"] == "customer_not_found"


def test_personal_data_comes_back_masked(till, ivan):
    raw = till.post("/customers/identify", {"phone": PHONE}).content.decode()
    body = json.loads(raw)
    assert body["name"] == "Иван И."
    assert body["phone"] == "+7 916 ***-**-67"
    assert body["email"] == "i***@example.com"
    for secret in (PHONE, "9161234567", "123-45", "ivan.ivanov@example.com", "Иванов", "Ёлка"):
        assert secret.lower() not in raw.lower()


def test_identify_shows_the_balance_of_every_account(till, ivan, program, actor):
    account = ledger.account_open(customer=ivan, program=program, actor=actor)
    locked(account, ledger.credit, amount=5000, actor=actor)
    locked(account, ledger.credit, amount=700, actor=actor, freeze_days=14)
    body = till.post("/customers/identify", {"phone": PHONE}).json()
    assert body["balances"] == [
        {
            "program_id": program.pk,
            "program": "Бонусы",
            "available": 5000,
            "pending": 700,
            "held": 0,
        }
    ]


def test_a_blocked_customer_is_identified_so_the_cashier_sees_why(till, ivan, actor):
    customer_block(customer=ivan, actor=actor)
    body = till.post("/customers/identify", {"phone": PHONE}).json()
    assert body["status"] == "blocked"


def test_an_unknown_customer_is_a_404_problem_document(till, ivan):
    response = till.post("/customers/identify", {"phone": "+79169999999"})
    assert response.status_code == 404
    assert problem_of(response)["code"] == "customer_not_found"


def test_several_customers_with_the_same_name_are_ambiguous(till, make_customer):
    make_customer(first_name="Мария", last_name="Смирнова")
    make_customer(first_name="Мария", last_name="Смирнова")
    response = till.post("/customers/identify", {"query": "мария смирнова"})
    assert response.status_code == 409
    body = problem_of(response)
    assert body["code"] == "ambiguous_customer"
    assert body["count"] == 2


def test_a_name_that_matches_one_customer_identifies_them(till, ivan, make_customer):
    make_customer(first_name="Мария", last_name="Смирнова")
    assert till.post("/customers/identify", {"query": "иванов"}).json()["id"] == ivan.pk


@pytest.mark.parametrize("body", [{}, {"phone": PHONE, "email": "a@example.com"}, {"query": " "}])
def test_identify_needs_exactly_one_reference(till, ivan, body):
    response = till.post("/customers/identify", body)
    assert response.status_code == 422
    assert problem_of(response)["code"] == "customer_reference_required"


def test_unknown_fields_are_refused(till, ivan):
    response = till.post("/customers/identify", {"phone": PHONE, "pin": "1234"})
    assert response.status_code == 422
    assert problem_of(response)["code"] == "validation_error"


@pytest.mark.parametrize("key", [None, "kp_wrong-key-of-the-right-shape-0000000000000"])
def test_a_missing_or_wrong_key_is_a_401_problem(ivan, key):
    response = Till(key).post("/customers/identify", {"phone": PHONE})
    assert response.status_code == 401
    assert problem_of(response)["code"] == "invalid_api_key"


def test_another_merchants_register_cannot_identify_our_customer(their_till, ivan):
    for body in ({"phone": PHONE}, {"id": ivan.pk}, {"card": "2900000000017"}, {"query": "Иван"}):
        response = their_till.post("/customers/identify", body)
        assert response.status_code == 404, body
        assert problem_of(response)["code"] in {"customer_not_found", "card_not_found"}


# --- register --------------------------------------------------------------------------------


def test_registering_at_the_till_gives_the_welcome_bonus(till, program):
    program.welcome_bonus = 30000
    program.save()
    response = till.post(
        "/customers", {"phone": "8 916 555-44-33", "first_name": "Олег", "marketing_consent": True}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "active"
    assert body["confirmation_required"] is False
    assert body["cards"] == []
    assert body["balances"][0]["available"] == 30000
    identified = till.post("/customers/identify", {"phone": "+79165554433"}).json()
    assert identified["id"] == body["id"]
    assert identified["balances"][0]["available"] == 30000


def test_a_virtual_card_is_issued_on_request_and_its_secret_shown_once(till, program):
    body = till.post("/customers", {"email": "new@example.com", "virtual_card": True}).json()
    [card] = body["cards"]
    assert card["kind"] == "virtual"
    assert len(card["number"]) == 13 and card["number"].startswith("29")
    assert len(card["secret"]) == 6
    found = till.post("/customers/identify", {"card": card["number"]}).json()
    assert found["id"] == body["id"]
    assert card["secret"] not in json.dumps(found)


def test_a_plastic_card_with_its_own_secret_returns_no_secret(till, program):
    body = till.post(
        "/customers",
        {"phone": "+79165554433", "card_number": "1000-2000-3000", "card_secret": "4321"},
    ).json()
    assert body["cards"] == [
        {"number": "100020003000", "kind": "plastic", "card_type_id": None, "secret": None}
    ]


def test_registering_without_a_program_still_registers(till):
    body = till.post("/customers", {"phone": "+79165554433"}).json()
    assert body["status"] == "active"
    assert body["balances"] == []


def test_a_duplicate_phone_is_a_409(till, ivan):
    response = till.post("/customers", {"phone": "8 916 123 45 67"})
    assert response.status_code == 409
    assert problem_of(response)["code"] == "duplicate_customer"


def test_a_taken_card_number_is_a_409_and_nothing_is_registered(till, ivan):
    response = till.post("/customers", {"phone": "+79165554433", "card_number": "2900000000017"})
    assert response.status_code == 409
    assert problem_of(response)["code"] == "duplicate_card"
    assert till.post("/customers/identify", {"phone": "+79165554433"}).status_code == 404


def test_the_plan_limit_is_a_problem(till, merchant, ivan):
    merchant.customer_limit = 1
    merchant.save()
    response = till.post("/customers", {"phone": "+79165554433"})
    assert response.status_code == 403
    assert problem_of(response)["code"] == "plan_limit_reached"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"first_name": "Без контактов"}, "contact_required"),
        ({"phone": "12"}, "invalid_phone"),
        ({"phone": "+79165554433", "card_secret": "1111"}, "validation_error"),
        ({"phone": "+79165554433", "birthday": "not a date"}, "validation_error"),
    ],
)
def test_bad_registrations_are_422_problems(till, body, code):
    response = till.post("/customers", body)
    assert response.status_code == 422
    assert problem_of(response)["code"] == code


# --- history ---------------------------------------------------------------------------------


@pytest.fixture
def ivan_with_history(ivan, merchant, store, register, program, actor):
    """Five receipts a day apart, and a ledger entry for each."""
    account = Account.objects.create(merchant=merchant, customer=ivan, program=program)
    start = datetime(2026, 5, 1, 12, tzinfo=UTC)
    for n in range(5):
        receipt = Receipt.objects.create(
            merchant=merchant,
            store=store,
            register=register,
            customer=ivan,
            external_number=f"R-{n}",
            occurred_at=start + timedelta(days=n),
            subtotal=10000 * (n + 1),
            to_pay=10000 * (n + 1),
            accrued=100 * (n + 1),
        )
        locked(account, ledger.credit, amount=100 * (n + 1), actor=actor, receipt=receipt)
    return ivan


def test_history_lists_receipts_and_entries_newest_first(till, ivan_with_history):
    body = till.get(f"/customers/{ivan_with_history.pk}/history").json()
    assert body["receipts_total"] == 5
    assert body["entries_total"] == 5
    assert [r["external_number"] for r in body["receipts"]] == ["R-4", "R-3", "R-2", "R-1", "R-0"]
    newest = body["receipts"][0]
    assert newest["subtotal"] == 50000 and newest["accrued"] == 500 and newest["to_pay"] == 50000
    assert newest["kind"] == "sale" and newest["status"] == "confirmed"
    assert [e["amount"] for e in body["entries"]] == [500, 400, 300, 200, 100]
    assert body["entries"][0]["receipt_id"] == newest["id"]


def test_history_is_paginated(till, ivan_with_history):
    path = f"/customers/{ivan_with_history.pk}/history"
    first = till.get(path, limit=2).json()
    second = till.get(path, limit=2, offset=2).json()
    last = till.get(path, limit=2, offset=4).json()
    numbers = [r["external_number"] for page in (first, second, last) for r in page["receipts"]]
    assert numbers == ["R-4", "R-3", "R-2", "R-1", "R-0"]
    assert [len(page["entries"]) for page in (first, second, last)] == [2, 2, 1]


@pytest.mark.parametrize("params", [{"limit": 101}, {"limit": 0}, {"offset": -1}])
def test_history_page_size_is_bounded(till, ivan, params):
    response = till.get(f"/customers/{ivan.pk}/history", **params)
    assert response.status_code == 422
    assert problem_of(response)["code"] == "validation_error"


def test_another_merchants_register_cannot_read_our_customers_history(their_till, ivan):
    response = their_till.get(f"/customers/{ivan.pk}/history")
    assert response.status_code == 404
    assert problem_of(response)["code"] == "customer_not_found"


def test_history_of_an_unknown_or_absurd_id_is_a_404(till, ivan):
    for pk in (ivan.pk + 1000, 2**63 + 1):
        response = till.get(f"/customers/{pk}/history")
        assert response.status_code == 404
        assert problem_of(response)["code"] == "customer_not_found"


def test_a_program_asking_for_name_and_birthday_refuses_a_registration_without_them(
    till, program, actor
):
    from kopilka.programs import services as programs
    from kopilka.sales.desk import details_missing

    programs.program_update(program=program, actor=actor, require_name=True, require_birthday=True)
    response = till.post("/customers", {"phone": "8 916 555-44-33", "first_name": " "})
    assert response.status_code == 422
    problem = problem_of(response)
    assert problem["code"] == "details_required"
    assert problem["fields"] == ["first_name", "birthday"]
    assert problem["detail"] == (
        "Программа лояльности просит указать имя и дату рождения нового покупателя."
    )
    from kopilka.customers.models import Customer

    assert not Customer.objects.filter(phone="+79165554433").exists()
    body = {"phone": "8 916 555-44-33", "first_name": "Олег", "birthday": "1990-05-17"}
    assert till.post("/customers", body).status_code == 201
    program.enabled = False
    assert details_missing(program, first_name="", birthday=None) == []

"""Editing a customer's details through the POS API (PATCH /customers/{id}): partial updates,
masked answers, refusals that change nothing, tenancy."""

import pytest

from kopilka.customers.models import Customer

PHONE = "+79161234567"


@pytest.fixture
def ivan(make_customer):
    return make_customer(
        phone=PHONE,
        email="ivan@example.com",
        first_name="Иван",
        last_name="Иванов",
        code_word="Ёлка",
    )


def problem_of(response) -> dict:
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


def test_a_customers_details_are_changed_and_answered_masked_like_identify(till, ivan):
    response = till.patch(
        f"/customers/{ivan.pk}",
        {
            "first_name": "Пётр",
            "last_name": "Сидоров",
            "phone": "8 916 555-44-33",
            "email": "Petr@Example.com",
            "birthday": "1990-04-12",
            "code_word": "Сосна",
            "marketing_consent": True,
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body == till.post("/customers/identify", {"id": ivan.pk}).json()
    assert body["name"] == "Пётр С."
    assert body["phone"] == "+7 916 ***-**-33"
    assert body["email"] == "p***@example.com"
    ivan.refresh_from_db()
    assert (ivan.first_name, ivan.last_name, ivan.phone, ivan.email) == (
        "Пётр",
        "Сидоров",
        "+79165554433",
        "petr@example.com",
    )
    assert str(ivan.birthday) == "1990-04-12"
    assert ivan.code_word == "Сосна" and ivan.marketing_consent is True


def test_only_the_fields_given_change(till, ivan):
    response = till.patch(f"/customers/{ivan.pk}", {"last_name": "Петров"})
    assert response.status_code == 200
    ivan.refresh_from_db()
    assert (ivan.first_name, ivan.last_name, ivan.phone, ivan.email, ivan.code_word) == (
        "Иван",
        "Петров",
        PHONE,
        "ivan@example.com",
        "Ёлка",
    )


def test_a_phone_another_customer_has_is_refused_and_nothing_changes(till, ivan, make_customer):
    other = make_customer(phone="+79165554433")
    response = till.patch(
        f"/customers/{ivan.pk}", {"first_name": "Пётр", "phone": "8 916 555 44 33"}
    )
    assert response.status_code == 409
    assert problem_of(response)["code"] == "duplicate_customer"
    ivan.refresh_from_db()
    assert (ivan.first_name, ivan.phone) == ("Иван", PHONE)
    assert Customer.objects.get(pk=other.pk).phone == "+79165554433"


def test_a_bad_phone_is_a_422_problem(till, ivan):
    response = till.patch(f"/customers/{ivan.pk}", {"phone": "12"})
    assert response.status_code == 422
    assert problem_of(response)["code"] == "invalid_phone"


def test_another_merchants_customer_is_not_found_like_a_missing_one(their_till, till, ivan):
    for client, pk in ((their_till, ivan.pk), (till, ivan.pk + 1000)):
        response = client.patch(f"/customers/{pk}", {"first_name": "Чужой"})
        assert response.status_code == 404
        assert problem_of(response)["code"] == "customer_not_found"
    ivan.refresh_from_db()
    assert ivan.first_name == "Иван"


@pytest.mark.parametrize("body", [{"notes": "VIP"}, {"status": "blocked"}, {"pin": "1"}])
def test_unknown_fields_are_refused(till, ivan, body):
    response = till.patch(f"/customers/{ivan.pk}", body)
    assert response.status_code == 422
    assert problem_of(response)["code"] == "validation_error"
    ivan.refresh_from_db()
    assert ivan.notes == "" and ivan.status == Customer.Status.ACTIVE

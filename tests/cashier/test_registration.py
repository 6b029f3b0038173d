"""Registering a customer at the till, with and without a one-time confirmation code."""

import pytest

from kopilka.customers.models import Card, Customer
from kopilka.ledger.models import Account, EntryKind
from kopilka.programs import services as programs
from kopilka.sales import notifications

from .conftest import receipt_form


@pytest.fixture
def confirming_program(bonus_program, actor):
    return programs.program_update(
        program=bonus_program, actor=actor, require_confirmation=True, welcome_bonus=10000
    )


def _code_for(customer) -> str:
    return next(m.code for m in reversed(notifications.outbox) if m.customer_id == customer.pk)


def test_the_registration_form_opens_in_the_customer_panel(cashier):
    page = cashier.get("/cashier/customer/new/").content.decode()
    assert 'id="register-form"' in page and 'name="phone"' in page and 'name="card_number"' in page


def test_a_customer_registered_without_confirmation_is_identified_with_a_virtual_card(
    cashier, bonus_program
):
    response = cashier.post(
        "/cashier/customer/new/",
        {"phone": "8 916 555-12-34", "first_name": "Олег", "virtual_card": "on", **receipt_form()},
    )
    page = response.content.decode()
    customer = Customer.objects.get(phone="+79165551234")
    card = Card.objects.get(customer=customer)
    assert customer.status == Customer.Status.ACTIVE
    assert card.kind == Card.Kind.VIRTUAL
    assert f"Card issued: {card.number}" in page
    assert f'id="receipt-customer-id" value="{customer.pk}"' in page
    assert Account.objects.filter(customer=customer, program=bonus_program).exists()


def test_a_plastic_card_scanned_at_registration_is_attached(cashier, bonus_program):
    cashier.post(
        "/cashier/customer/new/",
        {"email": "oleg@example.com", "card_number": "2000000000055", **receipt_form()},
    )
    card = Card.objects.get(number="2000000000055")
    assert card.kind == Card.Kind.PLASTIC and card.customer.email == "oleg@example.com"


def test_a_registration_without_phone_or_e_mail_is_refused_in_the_form(cashier, bonus_program):
    response = cashier.post("/cashier/customer/new/", {"first_name": "Олег", **receipt_form()})
    assert response.status_code == 422
    assert "Give at least a phone number or an e-mail address." in response.content.decode()
    assert not Customer.objects.exists()


def test_a_phone_already_registered_is_a_message(cashier, funded_customer):
    response = cashier.post("/cashier/customer/new/", {"phone": "+79161234567", **receipt_form()})
    assert response.status_code == 409
    assert 'id="message"' in response.content.decode()
    assert Customer.objects.count() == 1


def test_with_confirmation_required_the_code_is_asked_and_the_right_one_activates(
    cashier, confirming_program, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the code leaves after commit
        response = cashier.post(
            "/cashier/customer/new/", {"phone": "+79165551234", **receipt_form()}
        )
    page = response.content.decode()
    customer = Customer.objects.get(phone="+79165551234")
    assert customer.status == Customer.Status.PENDING
    assert 'id="code-form"' in page and "+7 916 ***-**-34" in page

    wrong = cashier.post(f"/cashier/customer/{customer.pk}/code/", {"code": "000000x"})
    assert wrong.status_code == 422 and "The code is wrong." in wrong.content.decode()

    right = cashier.post(
        f"/cashier/customer/{customer.pk}/code/", {"code": _code_for(customer), **receipt_form()}
    )
    page = right.content.decode()
    customer.refresh_from_db()
    assert customer.status == Customer.Status.ACTIVE
    assert "The customer is confirmed." in page
    assert 'id="balance-pending">100.00<' in page or 'id="balance-available">100.00<' in page
    account = Account.objects.get(customer=customer)
    assert account.entries.filter(kind=EntryKind.WELCOME).count() == 1


def test_a_new_code_replaces_the_old_one(
    cashier, confirming_program, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        cashier.post("/cashier/customer/new/", {"phone": "+79165551234", **receipt_form()})
    customer = Customer.objects.get(phone="+79165551234")
    old = _code_for(customer)
    with django_capture_on_commit_callbacks(execute=True):
        response = cashier.post(f"/cashier/customer/{customer.pk}/code/resend/")
    assert "A new code was sent to +7 916 ***-**-34." in response.content.decode()
    new = _code_for(customer)
    if new != old:
        refused = cashier.post(f"/cashier/customer/{customer.pk}/code/", {"code": old})
        assert refused.status_code == 422
    assert cashier.post(f"/cashier/customer/{customer.pk}/code/", {"code": new}).status_code == 200
    customer.refresh_from_db()
    assert customer.status == Customer.Status.ACTIVE


def test_name_and_birthday_are_taken_at_registration(cashier, bonus_program):
    page = cashier.get("/cashier/customer/new/").content.decode()
    assert 'name="first_name"' in page and 'name="last_name"' in page
    assert 'name="birthday" type="date"' in page
    response = cashier.post(
        "/cashier/customer/new/",
        {
            "phone": "8 916 555-12-35",
            "first_name": "Олег",
            "last_name": "Сидоров",
            "birthday": "1990-03-31",
            **receipt_form(),
        },
    )
    assert response.status_code == 200
    customer = Customer.objects.get(phone="+79165551235")
    assert (customer.first_name, customer.last_name) == ("Олег", "Сидоров")
    assert customer.birthday.isoformat() == "1990-03-31"
    assert "Олег С." in response.content.decode()


def test_name_and_birthday_may_be_left_out(cashier, bonus_program):
    form = {"phone": "8 916 555-12-36", **receipt_form()}
    response = cashier.post("/cashier/customer/new/", form)
    assert response.status_code == 200
    customer = Customer.objects.get(phone="+79165551236")
    assert (customer.first_name, customer.birthday) == ("", None)


def test_a_birthday_in_the_future_or_not_a_date_is_refused_in_the_form(cashier, bonus_program):
    for typed in ("2999-01-01", "31.02.1990"):
        response = cashier.post(
            "/cashier/customer/new/",
            {"phone": "8 916 555-12-37", "birthday": typed, **receipt_form()},
        )
        assert response.status_code == 422, typed
        assert 'id="register-form"' in response.content.decode()
    assert not Customer.objects.exists()


@pytest.fixture
def asking_program(bonus_program, actor):
    """A program that asks new customers for their name and birthday."""
    return programs.program_update(
        program=bonus_program, actor=actor, require_name=True, require_birthday=True
    )


def test_a_program_that_asks_for_name_and_birthday_marks_them_required_on_the_form(
    cashier, asking_program
):
    page = cashier.get("/cashier/customer/new/").content.decode()
    assert 'name="first_name" value="" autocomplete="off" required' in page
    assert 'name="birthday" type="date" value="" required' in page


def test_a_registration_without_what_the_program_asks_for_is_refused_and_registers_nobody(
    cashier, asking_program
):
    response = cashier.post(
        "/cashier/customer/new/", {"phone": "8 916 555-12-34", **receipt_form()}
    )
    assert response.status_code == 422
    assert response.content.decode().count("This field is required.") == 2
    assert not Customer.objects.exists()
    cashier.post(
        "/cashier/customer/new/",
        {
            "phone": "8 916 555-12-34",
            "first_name": "Олег",
            "birthday": "1990-05-17",
            **receipt_form(),
        },
    )
    assert Customer.objects.get().birthday.isoformat() == "1990-05-17"

"""Editing a customer's details at the till: the form opens prefilled in the customer panel,
saving redraws the panel and keeps the receipt in progress, a refusal stays in the form."""

from kopilka.customers.models import Customer

from .conftest import receipt_form

COFFEE = ("COFFEE", "Кофе молотый", "2", "520.00")


def test_the_edit_form_opens_prefilled_without_revealing_the_contacts(cashier, funded_customer):
    response = cashier.get(f"/cashier/customer/{funded_customer.pk}/edit/")
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="edit-form"' in page
    assert 'name="first_name" value="Анна"' in page and 'name="last_name" value="Петрова"' in page
    assert 'placeholder="+7 916 ***-**-67"' in page and "1234567" not in page


def test_saving_the_edit_redraws_the_customer_and_keeps_the_receipt_lines(
    cashier, funded_customer, products
):
    response = cashier.post(
        f"/cashier/customer/{funded_customer.pk}/edit/",
        {
            "first_name": "Анна",
            "last_name": "Смирнова",
            "phone": "",
            "email": "anna@example.com",
            "birthday": "1990-04-12",
            "code_word": "",
            **receipt_form(COFFEE, customer_id=funded_customer.pk),
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert '<h2 class="customer-name">Анна С.</h2>' in page
    assert "The customer's details are saved." in page
    assert 'data-sku="COFFEE"' in page
    assert f'id="receipt-customer-id" value="{funded_customer.pk}"' in page
    funded_customer.refresh_from_db()
    assert funded_customer.last_name == "Смирнова"
    assert funded_customer.email == "anna@example.com"
    assert funded_customer.phone == "+79161234567"  # left empty: kept
    assert str(funded_customer.birthday) == "1990-04-12"


def test_a_phone_another_customer_has_is_shown_in_the_form_and_nothing_changes(
    cashier, funded_customer, make_customer, merchant
):
    make_customer(merchant=merchant, phone="+79165554433")
    response = cashier.post(
        f"/cashier/customer/{funded_customer.pk}/edit/",
        {
            "first_name": "Мария",
            "last_name": "Петрова",
            "phone": "8 916 555-44-33",
            **receipt_form(COFFEE, customer_id=funded_customer.pk),
        },
    )
    page = response.content.decode()
    assert response.status_code == 409
    assert 'id="edit-form"' in page
    assert "A customer with this phone is already registered." in page
    funded_customer.refresh_from_db()
    assert (funded_customer.first_name, funded_customer.phone) == ("Анна", "+79161234567")


def test_another_merchants_customer_cannot_be_edited(
    cashier, other_merchant, make_customer, bonus_program
):
    stranger = make_customer(merchant=other_merchant, first_name="Чужой", phone="+79165550000")
    response = cashier.post(
        f"/cashier/customer/{stranger.pk}/edit/", {"first_name": "Свой", **receipt_form()}
    )
    assert response.status_code == 404
    # The till's message, not Django's page for an unknown address.
    assert "Customer not found." in response.content.decode()
    assert Customer.objects.get(pk=stranger.pk).first_name == "Чужой"

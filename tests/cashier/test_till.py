"""The till: identify a customer, ring up a receipt with a live quote, spend bonuses, confirm
exactly once; every error is a message, never a 500 and never a half-booked receipt."""

import pytest

from kopilka.customers.services import customer_update
from kopilka.ledger.models import Account
from kopilka.ledger.verify import verify_ledger
from kopilka.sales.models import Receipt

from .conftest import receipt_form

COFFEE = ("COFFEE", "Кофе молотый", "2", "520.00")  # 1,040.00: at most 520.00 by bonuses


@pytest.mark.parametrize(
    "typed",
    ["8 (916) 123-45-67", "+7 916 123 45 67", "2000000000017", "anna@example.com", "Ромашка"],
)
def test_a_customer_is_identified_by_phone_in_any_spelling_card_e_mail_or_code_word(
    cashier, funded_customer, actor, typed
):
    customer_update(
        customer=funded_customer, actor=actor, email="anna@example.com", code_word="ромашка"
    )
    response = cashier.post("/cashier/identify/", {"q": typed, **receipt_form()})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Анна П." in page and "Петрова" not in page
    assert "+7 916 ***-**-67" in page
    assert 'id="balance-available">500.00<' in page
    assert f'id="receipt-customer-id" value="{funded_customer.pk}"' in page


def test_an_unknown_customer_is_a_message_and_nothing_else_changes(cashier, funded_customer):
    response = cashier.post("/cashier/identify/", {"q": "+7 999 000-00-00", **receipt_form()})
    assert response.status_code == 404
    page = response.content.decode()
    assert 'id="message"' in page and "Customer not found." in page
    assert "customer-panel" not in page


def test_identifying_with_lines_on_the_receipt_quotes_them_for_the_customer(
    cashier, funded_customer, products
):
    response = cashier.post("/cashier/identify/", {"q": "2000000000017", **receipt_form(COFFEE)})
    page = response.content.decode()
    assert 'id="max-spend" class="big">500.00<' in page  # half is 520.00, the balance 500.00
    assert 'id="total-accrual" class="big">+27.00<' in page  # 5 % of the 540.00 paid in money


def test_a_scanned_barcode_adds_the_product_and_asks_for_its_price(cashier, products):
    response = cashier.post("/cashier/receipt/", {"add_query": "4600000000011", **receipt_form()})
    page = response.content.decode()
    assert 'data-sku="COFFEE"' in page and "line missing" in page
    assert 'id="price-0"' in page and "data-focus" in page.split('id="price-0"')[1][:200]
    assert 'id="confirm"' in page and "disabled>" in page.split('id="confirm"')[1][:200]


def test_a_product_sold_before_comes_with_its_last_price(cashier, products, bonus_program):
    cashier.post("/cashier/confirm/", receipt_form(("MILK", "Молоко", "1", "99.00")))
    page = cashier.post("/cashier/receipt/", {"add_query": "молоко", **receipt_form()}).content
    assert 'value="99.00"' in page.decode()


def test_the_same_product_twice_adds_to_its_quantity(cashier, products):
    form = receipt_form(("COFFEE", "Кофе молотый", "1", "520.00"))
    page = cashier.post("/cashier/scan/", {"code": "4600000000011", **form}).content.decode()
    assert page.count('name="line_sku"') == 1
    assert 'id="qty-0" name="line_qty" class="num qty" value="2"' in page


def test_products_are_suggested_by_sku_or_name_in_any_case(cashier, products):
    page = cashier.get("/cashier/products/", {"add_query": "хлеб"}).content.decode()
    assert "Хлеб бородинский" in page and "Кофе" not in page
    page = cashier.get("/cashier/products/", {"add_query": "mil"}).content.decode()
    assert "Молоко" in page


def test_a_free_amount_is_booked_under_its_category_and_follows_its_flags(
    cashier, funded_customer, products, merchant
):
    from kopilka.catalog.models import Category

    bakery = Category.objects.get(merchant=merchant, name="Хлеб")
    response = cashier.post(
        "/cashier/receipt/",
        {
            "free_category": bakery.pk,
            "free_amount": "150,50",
            **receipt_form(customer_id=funded_customer.pk),
        },
    )
    page = response.content.decode()
    assert 'id="total-subtotal">150.50<' in page
    assert 'id="max-spend" class="big">0.00<' in page  # bread cannot be paid with bonuses
    assert "Earns no bonuses." in page


def test_removing_a_line_requotes_the_rest(cashier, products):
    form = receipt_form(COFFEE, ("MILK", "Молоко", "1", "99.00"))
    page = cashier.post("/cashier/receipt/", {"remove": "0", **form}).content.decode()
    assert 'data-sku="COFFEE"' not in page
    assert 'id="total-subtotal">99.00<' in page


def test_spending_more_than_allowed_is_refused_before_confirm(cashier, funded_customer, products):
    form = receipt_form(COFFEE, customer_id=funded_customer.pk, spend_max="0", spend="600")
    page = cashier.post("/cashier/receipt/", {"requote": "1", **form}).content.decode()
    assert "At most 500.00 can be paid with bonuses on this receipt." in page
    assert "disabled>" in page.split('id="confirm"')[1][:200]


def test_bad_numbers_are_a_message_not_an_error_page(cashier, products):
    response = cashier.post("/cashier/receipt/", receipt_form(("COFFEE", "Кофе", "два", "1")))
    assert response.status_code == 422
    assert "Enter a quantity greater than zero" in response.content.decode()
    response = cashier.post("/cashier/receipt/", receipt_form(("COFFEE", "Кофе", "1", "1.234")))
    assert response.status_code == 422
    assert "Enter an amount, for example 1,234.50." in response.content.decode()


def test_confirm_spends_the_bonuses_accrues_and_shows_the_new_balance(
    cashier, funded_customer, products
):
    form = receipt_form(COFFEE, customer_id=funded_customer.pk, spend_max="0", spend="300.00")
    response = cashier.post("/cashier/confirm/", form)
    page = response.content.decode()
    assert response.status_code == 200
    receipt = Receipt.objects.get(external_number="T-1")
    assert (receipt.subtotal, receipt.bonus_spent, receipt.to_pay) == (104000, 30000, 74000)
    assert receipt.accrued == 3700  # 5 % of the 740.00 paid in money
    assert receipt.customer_id == funded_customer.pk
    assert 'id="result-spent" class="big">300.00<' in page
    assert 'id="result-balance" class="big">237.00<' in page  # 500 - 300 + 37
    assert 'id="balance-available">237.00<' in page  # the customer panel is refreshed too
    assert verify_ledger() == []


def test_a_double_click_on_confirm_books_the_receipt_once(cashier, funded_customer, products):
    form = receipt_form(COFFEE, customer_id=funded_customer.pk, spend="500.00")
    first = cashier.post("/cashier/confirm/", form)
    second = cashier.post("/cashier/confirm/", form)
    assert first.status_code == second.status_code == 200
    assert Receipt.objects.filter(external_number="T-1").count() == 1
    account = Account.objects.get(customer=funded_customer)
    assert account.entries.filter(kind="spend").count() == 1
    assert 'id="result-balance"' in second.content.decode()


def test_a_receipt_without_prices_cannot_be_confirmed(cashier, products):
    response = cashier.post("/cashier/confirm/", receipt_form(("COFFEE", "Кофе", "1", "")))
    assert response.status_code == 422
    assert "enter the price of every line" in response.content.decode()
    assert not Receipt.objects.exists()


def test_a_spend_the_balance_no_longer_covers_is_refused_and_nothing_is_booked(
    cashier, funded_customer, products, actor
):
    """The screen showed 500.00, but the bonuses were spent elsewhere meanwhile."""
    from django.db import transaction

    from kopilka.ledger import locks
    from kopilka.ledger import services as ledger

    account = Account.objects.get(customer=funded_customer)
    with transaction.atomic():
        [locked] = locks.lock_accounts([account.pk])
        ledger.spend(account=locked, amount=40000, actor=actor)
    response = cashier.post(
        "/cashier/confirm/", receipt_form(COFFEE, customer_id=funded_customer.pk, spend="500.00")
    )
    assert response.status_code == 409
    assert "Not enough bonuses available." in response.content.decode()
    assert not Receipt.objects.exists()
    assert verify_ledger() == []


def test_escape_starts_a_new_receipt_with_a_new_idempotency_key(cashier):
    first = cashier.get("/cashier/new/").content.decode()
    second = cashier.get("/cashier/new/").content.decode()
    key = lambda page: page.split('name="key" value="')[1].split('"')[0]  # noqa: E731
    assert key(first) != key(second)


def test_a_merchant_without_a_catalogue_sells_free_amounts_each_on_its_own_line(
    cashier, funded_customer
):
    """A new merchant has no categories yet: the till still takes amounts, and two of them
    stay two lines at their own prices (they are not one product sold twice)."""
    form = receipt_form(customer_id=funded_customer.pk)
    page = cashier.get("/cashier/").content.decode()
    assert 'id="free-amount"' in page and 'id="free-category"' not in page
    assert "Scan or find a product, or add an amount." in page  # no "by category"
    page = cashier.post("/cashier/receipt/", {"free_amount": "1200", **form}).content.decode()
    assert page.count('name="line_sku" value="FREE"') == 1
    assert "Item at a free price" in page
    form = receipt_form(
        ("FREE", "Item at a free price", "1", "1200.00"), customer_id=form["customer_id"]
    )
    page = cashier.post("/cashier/receipt/", {"free_amount": "800", **form}).content.decode()
    assert page.count('name="line_sku" value="FREE"') == 2
    assert '<span class="muted">FREE</span>' not in page  # a made-up SKU is not shown
    assert 'id="total-subtotal">2,000.00<' in page

    response = cashier.post(
        "/cashier/confirm/",
        receipt_form(
            ("FREE", "Item at a free price", "1", "1200.00"),
            ("FREE", "Item at a free price", "1", "800.00"),
            customer_id=funded_customer.pk,
            spend_max="0",
            spend="0",
        ),
    )
    assert response.status_code == 200
    receipt = Receipt.objects.get(external_number="T-1")
    assert [(line.line_no, line.unit_price) for line in receipt.lines.order_by("line_no")] == [
        (1, 120000),
        (2, 80000),
    ]
    assert receipt.accrued == 10000  # 5 % of 2 000.00
    assert verify_ledger() == []

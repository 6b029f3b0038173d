"""The till screen within the documented maxima (kopilka.bounds): a price, a bonus payment or
a line above them is a message naming the maximum, a receipt of the screen's 200 lines is
quoted, and a post larger than Django accepts is a message too, never an error page."""

from kopilka.sales.models import Receipt

from .conftest import receipt_form


def message(response) -> str:
    return response.content.decode().split('id="message"')[1].split(">", 1)[1].split("</div>")[0]


def test_a_price_above_a_billion_roubles_is_a_message_naming_the_maximum(cashier, products):
    response = cashier.post(
        "/cashier/receipt/", receipt_form(("COFFEE", "Кофе", "1", "1000000000.01"))
    )
    assert response.status_code == 422
    assert message(response) == "Enter an amount of at most 1,000,000,000.00."
    at_most = cashier.post(
        "/cashier/receipt/", receipt_form(("COFFEE", "Кофе", "1", "1000000000.00"))
    )
    assert at_most.status_code == 200
    assert 'id="total-subtotal">1,000,000,000.00<' in at_most.content.decode()


def test_a_bonus_payment_above_the_maximum_is_a_message(cashier, funded_customer, products):
    form = receipt_form(
        ("COFFEE", "Кофе", "1", "10.00"),
        customer_id=funded_customer.pk,
        spend_max="0",
        spend="1000000000.01",
    )
    response = cashier.post("/cashier/receipt/", {"requote": "1", **form})
    assert response.status_code == 422
    assert message(response) == "Enter an amount of at most 1,000,000,000.00."


def test_a_line_above_the_maximum_amount_is_a_message_and_cannot_be_confirmed(cashier, products):
    """Two units at 600,000,000.00 roubles: each price is allowed, their line is not."""
    form = receipt_form(("COFFEE", "Кофе", "2", "600000000.00"))
    response = cashier.post("/cashier/receipt/", form)
    assert response.status_code == 422
    assert message(response) == (
        "Line 1: quantity × price is above the maximum line amount of 1,000,000,000.00."
    )
    assert cashier.post("/cashier/confirm/", form).status_code == 422
    assert not Receipt.objects.exists()


def test_the_same_product_scanned_past_a_million_units_is_a_message(cashier, products):
    form = receipt_form(("COFFEE", "Кофе молотый", "1000000", "0.01"))
    response = cashier.post("/cashier/scan/", {"code": "4600000000011", **form})
    assert response.status_code == 422
    assert "Enter a quantity greater than zero" in message(response)


def test_a_receipt_of_the_screens_two_hundred_lines_is_quoted(cashier, products):
    """Five fields a line: Django's default of 1000 fields a post refused it."""
    lines = [(f"SKU{n}", f"Товар {n}", "1", "1.00") for n in range(200)]
    response = cashier.post("/cashier/receipt/", {"requote": "1", **receipt_form(*lines)})
    assert response.status_code == 200
    assert 'id="total-subtotal">200.00<' in response.content.decode()


def test_a_post_larger_than_four_megabytes_is_a_message(cashier, products):
    form = receipt_form(("COFFEE", "К" * 3_000_000, "1", "1.00"))
    response = cashier.post("/cashier/receipt/", form, headers={"HX-Request": "true"})
    assert response.status_code == 413
    assert message(response) == "The request is too large: at most 4 MB."

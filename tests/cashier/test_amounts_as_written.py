"""Issue 16: the till reads money the way the screen writes it and writes it the way the
cashier's language does. A price copied from the screen or the back office ("5 000,00 ₽",
with no-break or narrow no-break spaces between thousands) is an amount, not an error; the
price and bonus inputs show "520,00" in Russian and Ukrainian, "520.00" in English, and what
they show is read back unchanged. Garbage is refused in the cashier's language."""

import pytest

from .conftest import receipt_form

NB, NNB = "\u00a0", "\u202f"


def message(response) -> str:
    return response.content.decode().split('id="message"')[1].split(">", 1)[1].split("</div>")[0]


@pytest.mark.parametrize(
    "typed", [f"5{NB}000,00{NB}₽", f"5{NNB}000,00 ₽", "5 000,00", "5000", "5,000.00"]
)
def test_a_price_written_as_the_screen_writes_money_is_read_in_russian(cashier, products, typed):
    response = cashier.post(
        "/cashier/receipt/",
        receipt_form(("COFFEE", "Кофе", "1", typed)),
        headers={"Accept-Language": "ru"},
    )
    page = response.content.decode()
    assert response.status_code == 200, page
    assert f'id="total-subtotal">5{NB}000,00<' in page
    assert f'name="line_price" class="num" value="5{NB}000,00"' in page


def test_the_inputs_show_money_and_quantities_as_the_language_writes_them(
    cashier, funded_customer, products
):
    form = receipt_form(("COFFEE", "Кофе", "2", "520.00"), ("MILK", "Молоко", "0.5", "99,00"))
    form["q"] = "2000000000017"  # the customer's card: 500,00 bonuses, at most half payable
    uk = cashier.post("/cashier/identify/", form, headers={"Accept-Language": "uk"})
    uk = uk.content.decode()
    assert 'name="line_qty" class="num qty" value="0,5"' in uk
    assert 'name="line_price" class="num" value="520,00"' in uk
    assert 'name="line_price" class="num" value="99,00"' in uk
    assert 'id="spend" name="spend" class="num big" inputmode="decimal" value="500,00"' in uk
    en = cashier.post("/cashier/identify/", form, headers={"Accept-Language": "en"})
    en = en.content.decode()
    assert 'name="line_qty" class="num qty" value="0.5"' in en
    assert 'name="line_price" class="num" value="520.00"' in en
    assert 'id="spend" name="spend" class="num big" inputmode="decimal" value="500.00"' in en


def test_what_the_inputs_show_posts_back_as_the_same_receipt(cashier, products):
    first = cashier.post(
        "/cashier/receipt/",
        receipt_form(("COFFEE", "Кофе", "1,5", "1234,5")),
        headers={"Accept-Language": "ru"},
    ).content.decode()
    shown = first.split('name="line_price" class="num" value="')[1].split('"')[0]
    qty = first.split('name="line_qty" class="num qty" value="')[1].split('"')[0]
    assert (shown, qty) == (f"1{NB}234,50", "1,5")
    again = cashier.post(
        "/cashier/receipt/",
        receipt_form(("COFFEE", "Кофе", qty, shown)),
        headers={"Accept-Language": "ru"},
    ).content.decode()
    assert f'id="total-subtotal">1{NB}851,75<' in again  # 1,5 × 1 234,50


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("ru", f"Введите сумму, например 1{NB}234,50."),
        ("uk", f"Введіть суму, наприклад 1{NB}234,50."),
        ("en", "Enter an amount, for example 1,234.50."),
    ],
)
@pytest.mark.parametrize("typed", ["5 00", "12 руб", "1.2.3", "₽"])
def test_a_price_that_is_not_an_amount_is_refused_in_the_cashiers_language(
    cashier, products, language, expected, typed
):
    response = cashier.post(
        "/cashier/receipt/",
        receipt_form(("COFFEE", "Кофе", "1", typed)),
        headers={"Accept-Language": language},
    )
    assert response.status_code == 422
    assert message(response) == expected

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

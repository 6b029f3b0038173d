"""The scanner's codes, refunds by lines and in full, and that one merchant's till never
reaches another merchant's customers, receipts or registers."""

import pytest

from kopilka.customers.models import Customer
from kopilka.ledger.models import Account
from kopilka.ledger.selectors import account_balance
from kopilka.ledger.verify import verify_ledger
from kopilka.sales.models import Receipt

from .conftest import receipt_form

LINES = (("COFFEE", "Кофе молотый", "2", "520.00"), ("MILK", "Молоко", "3", "99.00"))


def test_a_scanned_card_number_identifies_the_customer(cashier, funded_customer):
    response = cashier.post("/cashier/scan/", {"code": "2000000000017", **receipt_form()})
    page = response.content.decode()
    assert "Анна П." in page and "Card *********0017" in page
    assert 'name="customer_card" value="2000000000017"' in page


def test_a_scanned_product_barcode_adds_a_line(cashier, products):
    response = cashier.post("/cashier/scan/", {"code": "4600000000028", **receipt_form()})
    assert 'data-sku="MILK"' in response.content.decode()


def test_an_unknown_code_is_a_message(cashier, products):
    response = cashier.post("/cashier/scan/", {"code": "9999999999999", **receipt_form()})
    assert response.status_code == 404
    assert "neither a product barcode nor a card" in response.content.decode()


@pytest.fixture
def sale(cashier, funded_customer, products):
    """Coffee 2 × 520.00 and milk 3 × 99.00 for Анна, 300.00 paid with bonuses."""
    form = receipt_form(*LINES, customer_id=funded_customer.pk, spend_max="0", spend="300")
    assert cashier.post("/cashier/confirm/", form).status_code == 200
    return Receipt.objects.get(external_number="T-1")


def _balance(customer) -> int:
    from django.utils import timezone

    return account_balance(Account.objects.get(customer=customer), now=timezone.now()).available


def test_the_customers_latest_sales_are_offered_for_refund(cashier, sale, funded_customer):
    page = cashier.get("/cashier/refund/", {"customer_id": funded_customer.pk}).content.decode()
    assert "T-1" in page and f"/cashier/refund/{sale.pk}/" in page


def test_a_receipt_number_opens_its_lines(cashier, sale):
    page = cashier.get("/cashier/refund/", {"number": "T-1"}).content.decode()
    assert 'id="refund-form"' in page and 'name="qty_1"' in page and 'name="qty_2"' in page


def test_a_refund_by_lines_returns_their_share_and_shows_the_result(cashier, sale, funded_customer):
    before = _balance(funded_customer)
    page = cashier.get(f"/cashier/refund/{sale.pk}/").content.decode()
    key = page.split('name="key" value="')[1].split('"')[0]
    response = cashier.post(
        f"/cashier/refund/{sale.pk}/book/", {"key": key, "qty_1": "1", "qty_2": ""}
    )
    page = response.content.decode()
    assert response.status_code == 200
    refund = Receipt.objects.get(refund_of=sale)
    [line] = refund.lines.all()
    assert (line.line_no, line.qty) == (1, 1)
    assert 'id="refund-amount"' in page and "Refund T-1/R1 is booked" in page
    assert _balance(funded_customer) == before + refund.returned - refund.clawed_back
    assert refund.returned > 0 and refund.clawed_back > 0
    again = cashier.post(f"/cashier/refund/{sale.pk}/book/", {"key": key, "qty_1": "1"})
    assert again.status_code == 200 and Receipt.objects.filter(refund_of=sale).count() == 1
    assert verify_ledger() == []


def test_refunding_everything_left_then_more_is_a_message(cashier, sale):
    cashier.post(f"/cashier/refund/{sale.pk}/book/", {"key": "r-1", "qty_2": "1"})
    cashier.post(f"/cashier/refund/{sale.pk}/book/", {"key": "r-2", "everything": "1"})
    refunded = {line.line_no: line.qty for line in sale.lines.all()}
    taken = {}
    for refund in Receipt.objects.filter(refund_of=sale):
        for line in refund.lines.all():
            taken[line.line_no] = taken.get(line.line_no, 0) + line.qty
    assert taken == refunded
    response = cashier.post(f"/cashier/refund/{sale.pk}/book/", {"key": "r-3", "qty_1": "1"})
    assert response.status_code == 422
    assert "larger than what was sold and not yet refunded" in response.content.decode()
    assert Receipt.objects.filter(refund_of=sale).count() == 2


def test_a_refund_with_nothing_entered_is_a_message(cashier, sale):
    response = cashier.post(f"/cashier/refund/{sale.pk}/book/", {"key": "r-1", "qty_1": "0"})
    assert response.status_code == 422
    assert "Enter the quantity to refund" in response.content.decode()
    assert not Receipt.objects.filter(refund_of=sale).exists()


# --- tenancy ---------------------------------------------------------------------------------


@pytest.fixture
def other_customer(other_merchant, make_customer, actor):
    from kopilka.customers.services import card_issue

    customer = make_customer(merchant=other_merchant, first_name="Чужой", phone="+79160000099")
    card_issue(customer=customer, kind="plastic", number="2000000000099", actor=actor)
    return customer


@pytest.mark.parametrize("typed", ["+79160000099", "2000000000099", "Чужой"])
def test_a_cashier_cannot_identify_another_merchants_customer(cashier, other_customer, typed):
    response = cashier.post("/cashier/identify/", {"q": typed, **receipt_form()})
    assert response.status_code == 404
    assert "Чужой" not in response.content.decode()
    response = cashier.post("/cashier/scan/", {"code": "2000000000099", **receipt_form()})
    assert response.status_code == 404


def test_another_merchants_customer_id_slipped_into_the_receipt_is_not_found(
    cashier, other_customer, products
):
    form = receipt_form(LINES[0], customer_id=other_customer.pk)
    assert cashier.post("/cashier/receipt/", form).status_code == 404
    assert cashier.post("/cashier/confirm/", form).status_code == 404
    assert not Receipt.objects.exists()


def test_another_merchants_receipt_cannot_be_refunded_or_seen(
    cashier, other_merchant, other_customer, actor, staff_client
):
    from kopilka.merchants import services as merchants

    store = merchants.store_create(merchant=other_merchant, name="Чужой", actor=actor)
    merchants.register_create(store=store, name="Чужая касса", actor=actor)
    foreign = staff_client("cashier", merchant=other_merchant, username="foreign")
    form = receipt_form(("X", "Чужой товар", "1", "100"), customer_id=other_customer.pk)
    assert foreign.post("/cashier/confirm/", form).status_code == 200
    theirs = Receipt.objects.get(merchant=other_merchant)
    assert cashier.get(f"/cashier/refund/{theirs.pk}/").status_code == 404
    response = cashier.post(f"/cashier/refund/{theirs.pk}/book/", {"key": "k", "everything": "1"})
    assert response.status_code == 404
    assert not Receipt.objects.filter(refund_of=theirs).exists()
    assert "Чужой" not in cashier.get("/cashier/refund/", {"number": "T-1"}).content.decode()


def test_another_merchants_customer_cannot_be_confirmed_with_a_code(cashier, other_customer):
    response = cashier.post(f"/cashier/customer/{other_customer.pk}/code/", {"code": "123456"})
    assert response.status_code == 404
    other_customer.refresh_from_db()
    assert other_customer.status == Customer.Status.ACTIVE


def test_the_customers_latest_sales_show_number_date_and_amounts(cashier, sale, funded_customer):
    from django.utils import timezone

    page = cashier.get("/cashier/refund/", {"customer_id": funded_customer.pk}).content.decode()
    assert "The customer's latest purchases" in page
    row = page.split('data-receipt="T-1"')[1].split("</tr>")[0]
    assert timezone.localtime(sale.occurred_at).strftime("%d.%m.%Y") in row
    assert "1,337.00" in row and "1,037.00" in row  # the purchase sum, paid in money
    # The find forms keep the customer, so their latest sales stay offered.
    assert f'name="customer_id" value="{funded_customer.pk}"' in page


def _local_day(sale) -> str:
    from zoneinfo import ZoneInfo

    return sale.occurred_at.astimezone(ZoneInfo(sale.merchant.time_zone)).date().isoformat()


def test_a_sale_is_found_by_its_day_and_amount(cashier, sale):
    day = _local_day(sale)
    for amount in ("1337,00", "1 337.00", "1037"):  # the purchase sum or paid in money
        page = cashier.get("/cashier/refund/", {"day": day, "amount": amount}).content.decode()
        assert "Sales found" in page and 'data-receipt="T-1"' in page, amount
        assert f"/cashier/refund/{sale.pk}/" in page
    page = cashier.get("/cashier/refund/", {"day": day}).content.decode()
    assert 'data-receipt="T-1"' in page  # the day alone lists its sales


def test_no_sale_on_that_day_for_that_amount_is_said(cashier, sale):
    import datetime

    day = _local_day(sale)
    page = cashier.get("/cashier/refund/", {"day": day, "amount": "1,00"}).content.decode()
    assert 'id="refund-none"' in page and "No sale on this day for this amount." in page
    earlier = (datetime.date.fromisoformat(day) - datetime.timedelta(days=1)).isoformat()
    page = cashier.get("/cashier/refund/", {"day": earlier, "amount": "1337"}).content.decode()
    assert 'data-receipt="T-1"' not in page


def test_a_day_in_the_future_or_a_bad_amount_is_a_message(cashier, sale):
    response = cashier.get("/cashier/refund/", {"day": "2999-01-01", "amount": "1337"})
    assert response.status_code == 422
    assert "not later than today" in response.content.decode()
    response = cashier.get("/cashier/refund/", {"day": _local_day(sale), "amount": "abc"})
    assert response.status_code == 422


def test_another_merchants_sales_are_not_found_by_day_and_amount(
    cashier, sale, other_merchant, actor
):
    import datetime

    from kopilka.cashier import selectors

    day = datetime.date.fromisoformat(_local_day(sale))
    assert selectors.sales_on_day(merchant=other_merchant, day=day, amount=133700) == []
    assert selectors.sales_on_day(merchant=sale.merchant, day=day, amount=133700) == [sale]


def test_after_a_refund_the_customer_panel_shows_the_balance_the_refund_left(
    cashier, sale, funded_customer
):
    """The result and the customer's panel beside it say the same balance: the ledger's."""
    import re

    page = cashier.post(
        f"/cashier/refund/{sale.pk}/book/", {"key": "r-panel", "qty_1": "1"}
    ).content.decode()
    after = _balance(funded_customer)
    shown = f"{after / 100:.2f}"  # English, below 1,000.00
    assert re.search(r'id="balance-available">([^<]*)<', page).group(1) == shown
    assert re.search(r'id="refund-balance" class="big">([^<]*)<', page).group(1) == shown

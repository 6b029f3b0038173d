"""The cashier screen in Chromium: a customer brings back part of a receipt."""

import uuid
from decimal import Decimal

import pytest
from django.utils import timezone, translation
from playwright.sync_api import expect

from kopilka.cashier.templatetags.cashier import money
from kopilka.ledger.models import Account
from kopilka.ledger.selectors import account_balance
from kopilka.ledger.verify import verify_ledger
from kopilka.pos.schemas import ConfirmIn
from kopilka.sales import services as pos
from kopilka.sales.models import Receipt
from tests.cashier import world

from .conftest import log_in


@pytest.fixture
def sale(merchant, register, actor):
    """Анна bought 2 coffees and 3 milks, paying 300.00 with bonuses."""
    program = world.bonus_program(merchant, actor)
    world.products(merchant, actor)
    customer = world.funded_customer(merchant, program, actor)
    pos.receipt_confirm(
        register=register,
        key=str(uuid.uuid4()),
        data=ConfirmIn(
            customer={"id": customer.pk},
            lines=[
                {
                    "line_no": 1,
                    "sku": "COFFEE",
                    "name": "Кофе молотый",
                    "qty": "2",
                    "unit_price": 52000,
                },
                {"line_no": 2, "sku": "MILK", "name": "Молоко", "qty": "3", "unit_price": 9900},
            ],
            spend=30000,
            external_number="S-100",
        ),
    )
    return Receipt.objects.get(external_number="S-100")


def test_a_cashier_refunds_one_line_of_a_receipt_and_sees_the_bonuses_move(page, make_staff, sale):
    account = Account.objects.get(customer=sale.customer)
    before = account_balance(account, now=timezone.now()).available
    log_in(page, make_staff("cashier"), path="/cashier/login/")
    page.fill("#identify", "+79161234567")
    page.keyboard.press("Enter")
    expect(page.locator(".customer-name")).to_have_text("Анна П.")

    page.keyboard.press("F7")
    page.locator("tr", has_text="S-100").get_by_role("button").click()
    expect(page.locator("#refund-qty-1")).to_be_focused()
    page.keyboard.type("1", delay=60)
    page.locator("#refund-selected").click()

    expect(page.locator("#refund-amount")).to_be_visible()
    refund = Receipt.objects.get(refund_of=sale)
    assert [(line.line_no, line.qty) for line in refund.lines.all()] == [(1, Decimal(1))]
    after = account_balance(account, now=timezone.now()).available
    assert after == before + refund.returned - refund.clawed_back
    assert refund.returned > 0
    with translation.override("ru"):  # the browser asks for Russian
        expect(page.locator("#refund-balance")).to_have_text(money(after))
    assert verify_ledger() == []


def test_a_cashier_picks_the_receipt_from_the_customers_purchases_or_by_day_and_amount(
    page, make_staff, sale
):
    log_in(page, make_staff("cashier"), path="/cashier/login/")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.fill("#identify", "+79161234567")
    page.keyboard.press("Enter")
    expect(page.locator(".customer-name")).to_have_text("Анна П.")

    page.keyboard.press("F7")
    offered = page.locator("#refund-choices tr[data-receipt='S-100']")
    expect(offered).to_be_visible()
    with translation.override("ru"):
        expect(offered).to_contain_text(money(sale.subtotal))

    # The customer lost the receipt's number: the day and the sum on it find the sale.
    page.fill("#refund-amount-typed", "1337,00")
    page.locator("#refund-by-day button[type=submit]").click()
    expect(page.locator("#refund-choices tr[data-receipt='S-100']")).to_be_visible()
    page.locator("tr[data-receipt='S-100']").get_by_role("button").click()
    expect(page.locator("#refund-qty-1")).to_be_focused()

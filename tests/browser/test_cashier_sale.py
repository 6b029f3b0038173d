"""The cashier screen in Chromium: a sale with bonuses from identifying the customer to the
new balance, using the keyboard the way a cashier does."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from kopilka.ledger.models import Account
from kopilka.ledger.selectors import account_balance
from kopilka.ledger.verify import verify_ledger
from kopilka.sales.models import Receipt
from tests.cashier import world

from .conftest import log_in

HUMAN_MS = 60  # a person's pace; a scanner is ten times faster (see test_cashier_scanner)


@pytest.fixture
def shop(merchant, register, actor):
    program = world.bonus_program(merchant, actor)
    world.products(merchant, actor)
    return world.funded_customer(merchant, program, actor)


def test_a_cashier_identifies_a_customer_spends_bonuses_confirms_and_sees_the_new_balance(
    page, make_staff, shop
):
    log_in(page, make_staff("cashier"), path="/cashier/login/")
    expect(page.locator("#identify")).to_be_visible()

    page.keyboard.press("F2")
    expect(page.locator("#identify")).to_be_focused()
    page.keyboard.type("8 (916) 123-45-67", delay=HUMAN_MS)
    page.keyboard.press("Enter")
    expect(page.locator(".customer-name")).to_have_text("Анна П.")
    expect(page.locator("#balance-available")).to_have_text("500,00")
    expect(page.locator("#search")).to_be_focused()

    page.keyboard.type("кофе", delay=HUMAN_MS)
    page.locator(".suggestion", has_text="Кофе молотый").click()
    expect(page.locator("#price-0")).to_be_focused()  # never sold here: the price is asked
    page.keyboard.type("520", delay=HUMAN_MS)
    page.keyboard.press("Tab")
    expect(page.locator("#total-subtotal")).to_have_text("520,00")

    page.fill("#qty-0", "2")
    page.keyboard.press("Tab")
    expect(page.locator("#total-subtotal")).to_have_text("1\xa0040,00")
    expect(page.locator("#max-spend")).to_have_text("500,00")
    expect(page.locator("#spend")).to_have_value("500,00")  # the maximum, as Russian writes it

    page.fill("#spend", "300")
    page.keyboard.press("Tab")
    expect(page.locator("#total-to-pay")).to_have_text("740,00")
    expect(page.locator("#total-accrual")).to_have_text("+37,00")

    page.keyboard.press("F9")
    expect(page.locator("#result-balance")).to_have_text("237,00")
    expect(page.locator("#balance-available")).to_have_text("237,00")
    expect(page.locator("#new-receipt")).to_be_focused()

    receipt = Receipt.objects.get()
    assert (receipt.subtotal, receipt.bonus_spent, receipt.to_pay, receipt.accrued) == (
        104000,
        30000,
        74000,
        3700,
    )
    account = Account.objects.get(customer=shop)
    assert account_balance(account, now=timezone.now()).available == 23700
    assert verify_ledger() == []

    page.keyboard.press("Escape")
    expect(page.locator(".customer-name")).to_have_count(0)
    expect(page.locator("#identify")).to_be_focused()

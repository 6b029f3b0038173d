"""The cashier screen in Chromium: correcting a customer's name at the till in the middle of a
receipt."""

import pytest
from playwright.sync_api import expect

from kopilka.customers.models import Customer
from tests.cashier import world

from .conftest import log_in


@pytest.fixture
def shop(merchant, register, actor):
    program = world.bonus_program(merchant, actor)
    world.products(merchant, actor)
    return world.funded_customer(merchant, program, actor)


def test_a_customers_name_is_corrected_at_the_till_and_the_receipt_stays(page, make_staff, shop):
    log_in(page, make_staff("cashier"), path="/cashier/login/")
    page.fill("#identify", world.CARD)
    page.press("#identify", "Enter")
    expect(page.locator(".customer-name")).to_have_text("Анна П.")
    page.fill("#search", world.COFFEE_BARCODE)
    page.press("#search", "Enter")
    expect(page.locator('tr[data-sku="COFFEE"]')).to_have_count(1)

    page.click("#customer-edit")
    expect(page.locator("#id_first_name")).to_be_focused()
    expect(page.locator("#id_last_name")).to_have_value("Петрова")
    page.fill("#id_last_name", "Смирнова")
    page.click("#edit-submit")

    expect(page.locator(".customer-name")).to_have_text("Анна С.")
    expect(page.locator("#customer-saved")).to_be_visible()
    expect(page.locator('tr[data-sku="COFFEE"]')).to_have_count(1)
    expect(page.locator("#receipt-customer-id")).to_have_value(str(shop.pk))
    assert Customer.objects.get(pk=shop.pk).last_name == "Смирнова"

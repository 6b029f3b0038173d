"""The cashier screen in Chromium: registering a customer who confirms with a one-time code,
and a keyboard-wedge scanner typing into whatever field has the cursor."""

import pytest
from playwright.sync_api import expect

from kopilka.customers.models import Card, Customer
from kopilka.ledger.models import EntryKind
from kopilka.programs import services as programs
from kopilka.sales import notifications
from tests.cashier import world

from .conftest import log_in

SCANNER_MS = 5  # between keys: a wedge scanner is this fast, a person ten times slower


@pytest.fixture
def shop(merchant, register, actor):
    program = world.bonus_program(merchant, actor)
    world.products(merchant, actor)
    world.funded_customer(merchant, program, actor)
    return program


def test_a_new_customer_registered_at_the_till_confirms_with_the_code_sent_to_them(
    page, make_staff, shop, actor
):
    programs.program_update(
        program=shop, actor=actor, require_confirmation=True, welcome_bonus=10000
    )
    log_in(page, make_staff("cashier"), path="/cashier/login/")
    page.keyboard.press("F6")
    expect(page.locator("#id_phone")).to_be_focused()
    page.fill("#id_phone", "8 916 555-12-34")
    page.fill("#id_first_name", "Олег")
    page.check("#id_virtual_card")
    page.click("#register-submit")

    expect(page.locator("#code")).to_be_focused()
    expect(page.locator("#customer-panel")).to_contain_text("+7 916 ***-**-34")
    customer = Customer.objects.get(phone="+79165551234")
    assert customer.status == Customer.Status.PENDING
    card = Card.objects.get(customer=customer)
    expect(page.locator("#customer-panel")).to_contain_text(card.number)

    [message] = [m for m in notifications.outbox if m.customer_id == customer.pk]
    page.keyboard.type(message.code, delay=60)
    page.keyboard.press("Enter")
    expect(page.locator(".customer-name")).to_have_text("Олег")
    customer.refresh_from_db()
    assert customer.status == Customer.Status.ACTIVE
    assert customer.accounts.get().entries.filter(kind=EntryKind.WELCOME).count() == 1


def test_a_scanned_card_and_a_scanned_barcode_work_with_the_cursor_in_another_field(
    page, make_staff, shop
):
    log_in(page, make_staff("cashier"), path="/cashier/login/")
    amount = page.locator("#free-amount")
    amount.click()

    page.keyboard.type(world.CARD, delay=SCANNER_MS)
    page.keyboard.press("Enter")
    expect(page.locator(".customer-name")).to_have_text("Анна П.")
    expect(page.locator("#customer-panel")).to_contain_text("*********0017")

    amount = page.locator("#free-amount")  # the panel was redrawn
    amount.click()
    page.keyboard.type(world.COFFEE_BARCODE, delay=SCANNER_MS)
    page.keyboard.press("Enter")
    expect(page.locator('tr[data-sku="COFFEE"]')).to_have_count(1)
    expect(page.locator("#price-0")).to_be_focused()
    expect(page.locator("#free-amount")).to_have_value("")  # the scan did not land there
    expect(page.locator(".customer-name")).to_have_text("Анна П.")

    page.keyboard.type("520", delay=60)
    page.keyboard.press("Tab")
    expect(page.locator("#max-spend")).to_have_text("260,00")
    page.keyboard.type(world.COFFEE_BARCODE, delay=SCANNER_MS)  # focus in the spend field
    page.keyboard.press("Enter")
    expect(page.locator("#qty-0")).to_have_value("2")

"""The cashier screen in Chromium: a customer who left without confirming is found at the
next visit, gets a new code from the panel and confirms with it, the receipt untouched."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from kopilka.customers.models import Customer
from kopilka.ledger.models import EntryKind
from kopilka.programs import services as programs
from kopilka.sales import desk, notifications
from tests.cashier import world

from .conftest import log_in


@pytest.fixture
def pending(merchant, register, actor, django_capture_on_commit_callbacks):
    program = world.bonus_program(merchant, actor)
    world.products(merchant, actor)
    programs.program_update(
        program=program, actor=actor, require_confirmation=True, welcome_bonus=10000
    )
    with django_capture_on_commit_callbacks(execute=True):
        customer, _cards, _code = desk.customer_register_at_till(
            merchant=merchant,
            actor=actor,
            now=timezone.now(),
            phone="+79165551234",
            first_name="Олег",
        )
    return customer


def test_a_pending_customer_found_later_confirms_with_a_new_code_from_the_panel(
    page, make_staff, pending
):
    log_in(page, make_staff("cashier"), path="/cashier/login/")
    page.keyboard.press("F2")
    page.keyboard.type("8 916 555-12-34", delay=40)
    page.keyboard.press("Enter")
    panel = page.locator("#customer-panel")
    expect(panel.locator(".customer-name")).to_have_text("Олег")
    expect(panel.locator("#pending-confirmation")).to_be_visible()

    page.locator("#search").fill(world.COFFEE_BARCODE)
    page.keyboard.press("Enter")
    expect(page.locator('tr[data-sku="COFFEE"]')).to_have_count(1)

    page.click("#code-resend")
    expect(panel).to_contain_text("+7 916 ***-**-34")
    expect(page.locator("#code")).to_be_focused()
    expect(panel.locator(".customer-name")).to_have_text("Олег")  # still the customer's card
    code = next(m.code for m in reversed(notifications.outbox) if m.customer_id == pending.pk)
    page.keyboard.type(code, delay=60)
    page.keyboard.press("Enter")

    expect(panel.locator("#pending-confirmation")).to_have_count(0)
    expect(panel.locator(".customer-name")).to_have_text("Олег")
    expect(page.locator('tr[data-sku="COFFEE"]')).to_have_count(1)
    pending.refresh_from_db()
    assert pending.status == Customer.Status.ACTIVE
    assert pending.accounts.get().entries.filter(kind=EntryKind.WELCOME).count() == 1

"""The customer card in a real browser: a customer without a bonus account gets one with the
welcome bonus at a click, then a plastic card of another program's type is scanned into the
attach field (digits and Enter, as a keyboard-wedge scanner types them) and the balance
follows the customer there, all answered in place."""

import pytest

from kopilka.customers import card_types
from kopilka.customers.models import Card
from kopilka.ledger.models import Account
from kopilka.programs.models import Program
from tests.conftest import SYSTEM

from .conftest import log_in

LIST = "/admin/customers/customer/"


@pytest.fixture
def owner(make_staff):
    return make_staff("owner")


def test_open_an_account_then_scan_a_gold_card_onto_the_customer(
    page, owner, make_customer, program, merchant
):
    program.welcome_bonus = 10_000
    program.save()
    gold = card_types.card_type_create(
        merchant=merchant,
        name="Gold",
        program=Program.objects.create(merchant=merchant, name="Золотая программа"),
        actor=SYSTEM,
    )
    customer = make_customer(first_name="Анна", last_name="Петрова")

    log_in(page, owner, path=f"/admin/login/?next={LIST}{customer.pk}/card/")
    page.goto(f"{LIST}{customer.pk}/card/")
    page.locator("#account-missing button[type=submit]").click()
    available = page.locator("[data-balance=available]")
    available.wait_for()
    assert available.inner_text().replace("\xa0", " ") == "100,00"
    assert page.locator("#account-missing").count() == 0

    form = page.locator("#attach-form")
    form.locator("select[name=card_type]").select_option(str(gold.pk))
    form.locator("input[name=number]").click()
    page.keyboard.type("2977000000013")
    page.keyboard.press("Enter")
    page.locator("#cards [data-card='2977000000013']").wait_for()
    assert "Золотая программа" in page.locator("#cards [role=status]").last.inner_text()
    gold_account = page.locator("#accounts h3", has_text="Золотая программа")
    gold_account.wait_for()
    assert page.url.endswith("/card/")  # answered in place, no reload

    card = Card.objects.get(customer=customer)
    assert (card.kind, card.card_type) == (Card.Kind.PLASTIC, gold)
    moved = Account.objects.get(customer=customer, program=gold.program)
    assert sum(lot.remaining for lot in moved.lots.all()) == 10_000

"""A customer still awaiting confirmation, found at the till later: the panel asks for the code
and sends a new one; and the secret code of a card issued at registration, shown once."""

import re

import pytest
from django.utils import timezone

from kopilka.customers.cards import card_secret_verify
from kopilka.customers.models import Card, Customer
from kopilka.customers.services import card_issue
from kopilka.ledger.models import EntryKind
from kopilka.programs import services as programs
from kopilka.sales import desk, notifications

from .conftest import receipt_form

PHONE = "+79165551234"
CARD = "2000000000055"


@pytest.fixture
def confirming_program(bonus_program, actor):
    return programs.program_update(
        program=bonus_program, actor=actor, require_confirmation=True, welcome_bonus=10000
    )


@pytest.fixture
def pending(merchant, confirming_program, actor, django_capture_on_commit_callbacks):
    """Олег, registered yesterday at another till with his plastic card; he never gave the
    code."""
    with django_capture_on_commit_callbacks(execute=True):
        customer, _cards, _code = desk.customer_register_at_till(
            merchant=merchant, actor=actor, now=timezone.now(), phone=PHONE, first_name="Олег"
        )
    card_issue(customer=customer, kind=Card.Kind.PLASTIC, number=CARD, actor=actor)
    return customer


def last_code(customer) -> str:
    return next(m.code for m in reversed(notifications.outbox) if m.customer_id == customer.pk)


def test_a_pending_customer_found_later_gets_the_code_form_in_the_panel(cashier, pending):
    page = cashier.post("/cashier/identify/", {"q": "8 916 555-12-34", **receipt_form()})
    html = page.content.decode()
    assert "Awaiting confirmation: bonuses cannot be spent yet." in html
    assert f'hx-post="/cashier/customer/{pending.pk}/code/"' in html
    assert f'hx-post="/cashier/customer/{pending.pk}/code/resend/"' in html


def test_the_code_sent_at_registration_confirms_the_customer_found_later(cashier, pending):
    response = cashier.post(
        f"/cashier/customer/{pending.pk}/code/",
        {"code": last_code(pending), **receipt_form(customer_id=pending.pk)},
    )
    page = response.content.decode()
    assert "The customer is confirmed." in page
    assert 'id="code-form"' not in page
    pending.refresh_from_db()
    assert pending.status == Customer.Status.ACTIVE
    assert pending.accounts.get().entries.filter(kind=EntryKind.WELCOME).count() == 1


def test_a_new_code_sent_from_the_panel_keeps_the_customer_and_the_receipt(
    cashier, pending, products, django_capture_on_commit_callbacks
):
    old = last_code(pending)
    draft = receipt_form(("COFFEE", "Кофе", "1", "300.00"), customer_id=pending.pk)
    draft["customer_card"] = CARD
    with django_capture_on_commit_callbacks(execute=True):
        response = cashier.post(
            f"/cashier/customer/{pending.pk}/code/resend/", {"panel": "customer", **draft}
        )
    page = response.content.decode()
    assert response.status_code == 200
    assert "A new code was sent to +7 916 ***-**-34." in page
    assert re.search(r'id="code"[^>]*data-focus', page)  # the cashier types the code next
    assert 'class="customer-name">Олег' in page and "*********0055" in page  # by the card
    assert 'id="receipt"' not in page  # the receipt in progress is left as it is
    new = last_code(pending)

    if new != old:
        assert (
            cashier.post(f"/cashier/customer/{pending.pk}/code/", {"code": old}).status_code == 422
        )
    confirmed = cashier.post(f"/cashier/customer/{pending.pk}/code/", {"code": new, **draft})
    page = confirmed.content.decode()
    assert "The customer is confirmed." in page
    # Still the card the customer was found by, and the receipt's line.
    assert f'name="customer_card" value="{CARD}"' in page and 'data-sku="COFFEE"' in page


def test_a_wrong_code_is_a_message_and_the_customer_stays_pending(cashier, pending):
    response = cashier.post(f"/cashier/customer/{pending.pk}/code/", {"code": "000000x"})
    assert response.status_code == 422
    assert "The code is wrong." in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == Customer.Status.PENDING


def test_sending_codes_from_the_panel_counts_against_the_same_limits(cashier, pending, settings):
    settings.KOPILKA_RATE_LIMITS = {"code_send": (2, 3600)}  # one was sent at registration
    resend = f"/cashier/customer/{pending.pk}/code/resend/"
    assert cashier.post(resend, {"panel": "customer", **receipt_form()}).status_code == 200
    refused = cashier.post(resend, {"panel": "customer", **receipt_form()})
    assert refused.status_code == 429
    assert 'id="message"' in refused.content.decode()


def test_an_active_customer_gets_no_code_form(cashier, funded_customer):
    page = cashier.post("/cashier/identify/", {"q": "+79161234567", **receipt_form()})
    assert 'id="code-form"' not in page.content.decode()


# --- the secret code of a card issued at registration ----------------------------------------


def test_the_secret_code_of_a_virtual_card_issued_at_registration_is_shown_once(
    cashier, bonus_program
):
    response = cashier.post(
        "/cashier/customer/new/", {"phone": PHONE, "virtual_card": "on", **receipt_form()}
    )
    page = response.content.decode()
    card = Card.objects.get(customer__phone=PHONE)
    [shown] = re.findall(r"data-card-secret>(\w+)<", page)
    assert card_secret_verify(card=card, secret=shown)
    assert "it is not shown again" in page
    # The new virtual card as bars and a QR code, for the customer's phone.
    assert f'data-card-pictures="{card.number}"' in page
    assert f'aria-label="{card.number}"' in page and 'class="card-qr"' in page
    again = cashier.post("/cashier/identify/", {"q": card.number, **receipt_form()})
    assert shown not in again.content.decode()


def test_the_secret_code_is_shown_with_the_code_form_too(
    cashier, confirming_program, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = cashier.post(
            "/cashier/customer/new/",
            {"email": "anna@example.com", "virtual_card": "on", **receipt_form()},
        )
    page = response.content.decode()
    assert 'id="code-form"' in page
    card = Card.objects.get(customer__email="anna@example.com")
    [shown] = re.findall(r"data-card-secret>(\w+)<", page)
    assert card_secret_verify(card=card, secret=shown)

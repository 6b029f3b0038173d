"""The customer card page: what it shows, its card actions, manual credit/debit within each
role's limit, anonymisation behind a confirmation, and tenancy."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from kopilka.customers import services as customers
from kopilka.customers.models import Card, Customer
from kopilka.ledger import locks
from kopilka.ledger import services as ledger
from kopilka.ledger.models import Entry, EntryKind
from kopilka.merchants.models import AuditEvent, Role
from kopilka.programs import services as programs
from kopilka.programs.exceptions import AdjustLimitExceeded, AdjustNotAllowed
from kopilka.programs.models import Level
from kopilka.programs.services import balance_adjust
from tests.conftest import SYSTEM

from .admin_client import staff_user


@pytest.fixture
def customer(make_customer, program):
    customer = make_customer(first_name="Анна", last_name="Петрова")
    account = programs.customer_enrol(customer=customer, program=program, actor=SYSTEM)
    with transaction.atomic():
        [locked] = locks.lock_accounts([account.pk])
        ledger.credit(account=locked, amount=100_000, actor=SYSTEM)
        ledger.credit(account=locked, amount=5_000, actor=SYSTEM, freeze_days=7)
        ledger.credit(account=locked, amount=2_500, actor=SYSTEM, lifetime_days=3)
    return customer


def signed_in(client, merchant, role):
    client.force_login(staff_user(merchant, role))
    return client


def card_url(customer, rest=""):
    return f"/admin/customers/customer/{customer.pk}/card/{rest}"


def test_card_page_shows_balances_level_cards_and_history(client, merchant, customer, program):
    Level.objects.create(program=program, name="Серебро", priority=1)
    Level.objects.create(program=program, name="Золото", priority=2, min_spend=1_000_000)
    customers.card_issue(customer=customer, kind="plastic", number="2900000000017", actor=SYSTEM)
    page = signed_in(client, merchant, Role.OWNER).get(card_url(customer))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Петрова" in text and "2900000000017" in text
    accounts = page.context["accounts"]
    assert accounts[0]["balance"].available == 102_500
    assert accounts[0]["balance"].pending == 5_000
    assert accounts[0]["expiring_total"] == 2_500
    assert accounts[0]["level"].level.name == "Серебро"
    assert accounts[0]["level"].next.spend == 1_000_000
    assert "Золото" in text
    assert len(page.context["entries"]["page"]) == 3


def test_card_page_shows_the_total_spent_as_money(client, merchant, customer):
    Customer.objects.filter(pk=customer.pk).update(purchases_total=526_600, visits=5)
    page = signed_in(client, merchant, Role.AUDITOR).get(card_url(customer))
    assert "5\xa0266,00" in page.content.decode()


def test_ledger_history_filters_by_kind(client, merchant, customer):
    signed_in(client, merchant, Role.OWNER)
    page = client.get(card_url(customer), {"kind": EntryKind.MANUAL_CREDIT})
    assert len(page.context["entries"]["page"]) == 0
    page = client.get(card_url(customer), {"kind": EntryKind.ACCRUAL, "part": "history"})
    assert len(page.context["entries"]["page"]) == 3


def test_card_actions_issue_block_unblock_reissue_and_new_secret(client, merchant, customer):
    signed_in(client, merchant, Role.MARKETER)
    response = client.post(card_url(customer, "cards/issue/"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    card = Card.objects.get(customer=customer)
    assert card.kind == Card.Kind.VIRTUAL and card.number in response.content.decode()
    client.post(card_url(customer, f"cards/{card.pk}/block/"))
    card.refresh_from_db()
    assert card.status == Card.Status.BLOCKED
    client.post(card_url(customer, f"cards/{card.pk}/unblock/"))
    card.refresh_from_db()
    assert card.status == Card.Status.ACTIVE
    old_secret = card.secret_hash
    client.post(card_url(customer, f"cards/{card.pk}/secret/"))
    card.refresh_from_db()
    assert card.secret_hash != old_secret
    client.post(card_url(customer, f"cards/{card.pk}/reissue/"))
    card.refresh_from_db()
    assert card.status == Card.Status.LOST and card.replaced_by is not None
    assert AuditEvent.objects.filter(action="card.reissue", object_id=str(card.pk)).exists()


def adjust(client, customer, amount, reason="жалоба покупателя", direction="credit"):
    return client.post(
        card_url(customer, "adjust/"),
        {
            "account": customer.accounts.get().pk,
            "amount": amount,
            "reason": reason,
            "direction": direction,
        },
        HTTP_HX_REQUEST="true",
    )


def manual_entries(customer):
    """(amount, reason) per manual operation (a debit may take from several lots)."""
    totals: dict[str, int] = {}
    for amount, reason in (
        Entry.objects.filter(
            account__customer=customer, kind__in=[EntryKind.MANUAL_CREDIT, EntryKind.MANUAL_DEBIT]
        )
        .order_by("id")
        .values_list("amount", "reason")
    ):
        totals[reason] = totals.get(reason, 0) + amount
    return [(amount, reason) for reason, amount in totals.items()]


def test_owner_credits_and_debits_by_hand_with_a_reason(client, merchant, customer):
    signed_in(client, merchant, Role.OWNER)
    response = adjust(client, customer, "150,50")
    assert response.status_code == 200
    adjust(client, customer, "50", direction="debit", reason="ошибка кассира")
    assert manual_entries(customer) == [
        (15_050, "жалоба покупателя"),
        (-5_000, "ошибка кассира"),
    ]
    assert AuditEvent.objects.filter(action="ledger.manual_adjust").count() == 2
    assert Customer.objects.get(pk=customer.pk).balance == 107_500 + 15_050 - 5_000


def test_a_manual_change_needs_a_reason(client, merchant, customer):
    signed_in(client, merchant, Role.OWNER)
    adjust(client, customer, "10", reason="  ")
    assert manual_entries(customer) == []


@override_settings(KOPILKA_MARKETER_ADJUST_LIMIT=10_000)
def test_marketer_may_not_adjust_above_the_limit(client, merchant, customer):
    signed_in(client, merchant, Role.MARKETER)
    response = adjust(client, customer, "100,01")
    assert "limit" in response.content.decode() or "лимит" in response.content.decode()
    adjust(client, customer, "100")
    assert manual_entries(customer) == [(10_000, "жалоба покупателя")]


def test_marketer_limit_defaults_to_a_thousand_bonuses(customer):
    account = customer.accounts.get()
    with pytest.raises(AdjustLimitExceeded):
        balance_adjust(
            account=account, amount=100_001, reason="r", role=Role.MARKETER, actor=SYSTEM
        )
    balance_adjust(account=account, amount=-100_000, reason="r", role=Role.MARKETER, actor=SYSTEM)


def test_auditor_cannot_adjust_nor_act_on_cards(client, merchant, customer):
    signed_in(client, merchant, Role.AUDITOR)
    assert client.get(card_url(customer)).status_code == 200
    assert adjust(client, customer, "10").status_code == 403
    assert client.post(card_url(customer, "cards/issue/")).status_code == 403
    assert manual_entries(customer) == [] and not Card.objects.exists()
    with pytest.raises(AdjustNotAllowed):
        balance_adjust(
            account=customer.accounts.get(), amount=1, reason="r", role=Role.AUDITOR, actor=SYSTEM
        )


def test_anonymise_asks_for_confirmation_first(client, merchant, customer):
    signed_in(client, merchant, Role.ADMIN)
    page = client.get(card_url(customer, "anonymise/"))
    assert page.status_code == 200
    client.post(card_url(customer, "anonymise/"), {"reason": "просьба"})
    assert Customer.objects.get(pk=customer.pk).anonymised_at is None
    client.post(card_url(customer, "anonymise/"), {"reason": "просьба", "confirm": "yes"})
    erased = Customer.objects.get(pk=customer.pk)
    assert erased.anonymised_at is not None and erased.last_name == ""


def test_another_merchants_customer_card_is_not_found(client, other_merchant, customer):
    signed_in(client, other_merchant, Role.OWNER)
    assert client.get(card_url(customer)).status_code == 404
    assert adjust(client, customer, "10").status_code == 404
    assert manual_entries(customer) == []


def test_changelist_and_change_form_link_to_the_card(client, merchant, customer):
    signed_in(client, merchant, Role.OWNER)
    change = client.get(f"/admin/customers/customer/{customer.pk}/change/")
    assert card_url(customer) in change.content.decode()
    assert timezone.now()


def test_card_page_lists_each_lot_with_the_day_it_burns(client, merchant, make_customer, program):
    """Every lot with points left, in spend order (the soonest to burn first), with the day it
    becomes usable and the day it burns ("never" for points without a lifetime)."""
    customer = make_customer(first_name="Ольга")
    account = programs.customer_enrol(customer=customer, program=program, actor=SYSTEM)
    at = (timezone.now() - timedelta(days=1)).replace(hour=12, minute=0)
    with transaction.atomic():
        [locked] = locks.lock_accounts([account.pk])
        forever = ledger.credit(account=locked, amount=1_000, actor=SYSTEM, now=at)
        # Frozen 7 days, 30 days of life counted from the accrual: usable on day 7, burns on
        # day 30 (not 37).
        frozen = ledger.credit(
            account=locked,
            amount=2_000,
            actor=SYSTEM,
            now=at,
            freeze_days=7,
            lifetime_days=30,
            lifetime_from_accrual=True,
        )
    page = signed_in(client, merchant, Role.AUDITOR).get(card_url(customer))
    [row] = page.context["accounts"]
    assert [lot.pk for lot in row["lots"]] == [frozen.lot_id, forever.lot_id]
    text = page.content.decode()
    frozen_row = text.split(f'data-lot="{frozen.lot_id}"')[1].split("</tr>")[0]
    usable, burns = at + timedelta(days=7), at + timedelta(days=30)
    assert usable.strftime("%d.%m.%Y") in frozen_row and burns.strftime("%d.%m.%Y") in frozen_row
    forever_row = text.split(f'data-lot="{forever.lot_id}"')[1].split("</tr>")[0]
    assert "никогда" in forever_row

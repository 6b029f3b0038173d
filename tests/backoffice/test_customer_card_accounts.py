"""The customer card's bonus accounts and status: a customer added in the back office is
enrolled with the welcome bonus, a customer without an account gets one by a button or by a
first manual credit, and staff confirm, block and unblock customers with what the till's
confirmation brings."""

from datetime import timedelta

import pytest
from django.contrib import messages
from django.utils import timezone

from kopilka.customers.models import Customer
from kopilka.errors import AboveMaximum, Conflict
from kopilka.ledger.models import Account, Entry, EntryKind, Lot
from kopilka.merchants.models import AuditEvent, Role
from kopilka.programs import services as programs
from kopilka.programs.exceptions import AdjustLimitExceeded, AdjustNotAllowed, NoAccountToDebit
from kopilka.programs.services import balance_adjust
from kopilka.sales import desk, notifications
from tests.conftest import SYSTEM

from .admin_client import staff_user

ADD = "/admin/customers/customer/add/"


@pytest.fixture
def program(program):
    program.welcome_bonus = 10_000
    program.welcome_lifetime_days = 30
    program.save()
    return program


def signed_in(client, merchant, role):
    client.force_login(staff_user(merchant, role))
    return client


def card_url(customer, rest=""):
    return f"/admin/customers/customer/{customer.pk}/card/{rest}"


def movements(customer) -> list[tuple]:
    """(program, kind, amount) of every ledger entry of the customer, oldest first."""
    return list(
        Entry.objects.filter(account__customer=customer)
        .order_by("id")
        .values_list("account__program__name", "kind", "amount")
    )


# --- enrolment -------------------------------------------------------------------------------


def test_a_customer_added_in_the_back_office_gets_an_account_and_the_welcome_bonus(
    client, merchant, program
):
    signed_in(client, merchant, Role.MARKETER)
    response = client.post(ADD, {"phone": "8 916 111-22-44", "first_name": "Вера"})
    assert response.status_code == 302
    vera = Customer.objects.get(phone="+79161112244")
    assert movements(vera) == [("Бонусы", EntryKind.WELCOME, 10_000)]
    lot = Lot.objects.get(account__customer=vera)
    assert (lot.expires_at - lot.available_from).days == 30
    assert vera.balance == 10_000
    assert AuditEvent.objects.filter(action="account.open", data__customer_id=vera.pk).exists()


def test_a_failed_enrolment_leaves_no_customer_behind(client, merchant, program, monkeypatch):
    def refuse(**kwargs):
        raise Conflict("enrolment refused")

    monkeypatch.setattr(programs, "customer_enrol", refuse)
    signed_in(client, merchant, Role.OWNER)
    response = client.post(ADD, {"phone": "8 916 111-22-44", "first_name": "Вера"})
    assert response.status_code == 200
    assert "enrolment refused" in response.content.decode()
    assert not Customer.objects.exists()


def test_without_an_enabled_program_a_customer_is_added_without_an_account(client, merchant):
    signed_in(client, merchant, Role.OWNER)
    response = client.post(ADD, {"phone": "8 916 111-22-44"})
    assert response.status_code == 302
    assert Customer.objects.count() == 1 and not Account.objects.exists()
    page = client.get(card_url(Customer.objects.get()))
    assert page.context["program_account_missing"] is False
    assert "adjust-form" not in page.content.decode()


def test_the_open_account_button_enrols_once_with_the_welcome_bonus(
    client, merchant, program, make_customer
):
    anna = make_customer(first_name="Анна")  # registered the way a till or import does
    signed_in(client, merchant, Role.MARKETER)
    page = client.get(card_url(anna))
    assert page.context["program_account_missing"] is True
    assert "Open a bonus account" in page.content.decode() or "Открыть" in page.content.decode()

    first = client.post(card_url(anna, "accounts/open/"), HTTP_HX_REQUEST="true")
    again = client.post(card_url(anna, "accounts/open/"), HTTP_HX_REQUEST="true")
    assert first.status_code == again.status_code == 200
    assert movements(anna) == [("Бонусы", EntryKind.WELCOME, 10_000)]
    assert first.context["program_account_missing"] is False
    assert "100,00" in first.content.decode()
    assert AuditEvent.objects.filter(action="account.open").count() == 1
    assert Customer.objects.get(pk=anna.pk).balance == 10_000


def test_a_first_credit_opens_the_account_and_a_first_debit_is_refused(
    client, merchant, program, make_customer
):
    anna = make_customer()
    signed_in(client, merchant, Role.OWNER)
    form = {"account": "new", "amount": "30", "reason": "ошибка кассы"}
    refused = client.post(
        card_url(anna, "adjust/"), {**form, "direction": "debit"}, HTTP_HX_REQUEST="true"
    )
    assert refused.status_code == 200
    assert str(NoAccountToDebit.default_message) in refused.content.decode() or (
        "нечего списывать" in refused.content.decode()
    )
    assert not Account.objects.exists()

    client.post(card_url(anna, "adjust/"), {**form, "direction": "credit"}, HTTP_HX_REQUEST="true")
    assert movements(anna) == [
        ("Бонусы", EntryKind.WELCOME, 10_000),
        ("Бонусы", EntryKind.MANUAL_CREDIT, 3_000),
    ]


@pytest.mark.parametrize(
    "typed",
    [
        "100000000000000",  # 10^16 kopecks: was booked
        "92233720368547758.07",  # 2^63 - 1 kopecks: was a server error on PostgreSQL
        "1e400",  # was a server error (too large for the database's integers)
        "1e999999",  # was a server error (too large for a Decimal)
        "10000000.01",  # one kopeck above the maximum
    ],
)
def test_a_huge_manual_change_is_a_form_error_and_books_nothing(
    client, merchant, program, make_customer, typed
):
    anna = make_customer()
    signed_in(client, merchant, Role.OWNER)
    form = {"account": "new", "amount": typed, "reason": "опечатка", "direction": "credit"}
    response = client.post(card_url(anna, "adjust/"), form, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    [(level, text)] = response.context["notes"]
    assert level == messages.ERROR
    assert text.replace("\xa0", " ") == (
        "Введите не больше 10 000 000,00: большее изменение вручную не принимается."
    )
    assert not Entry.objects.filter(kind=EntryKind.MANUAL_CREDIT).exists()


def test_a_manual_change_of_exactly_the_maximum_is_booked(client, merchant, program, make_customer):
    anna = make_customer()
    signed_in(client, merchant, Role.OWNER)
    form = {"account": "new", "amount": "10 000 000", "reason": "перенос", "direction": "credit"}
    client.post(card_url(anna, "adjust/"), form, HTTP_HX_REQUEST="true")
    assert movements(anna)[-1] == ("Бонусы", EntryKind.MANUAL_CREDIT, 1_000_000_000)


def test_a_manual_change_refused_by_the_services_above_the_maximum(make_customer, program):
    anna = make_customer()
    with pytest.raises(AboveMaximum):
        balance_adjust(customer=anna, amount=10**9 + 1, reason="r", role=Role.OWNER, actor=SYSTEM)
    assert not Entry.objects.filter(kind=EntryKind.MANUAL_CREDIT).exists()


def test_a_form_larger_than_four_megabytes_is_a_clear_page_not_an_error(
    client, merchant, program, make_customer
):
    anna = make_customer()
    signed_in(client, merchant, Role.OWNER)
    form = {"account": "new", "amount": "1", "reason": "я" * 3_000_000, "direction": "credit"}
    response = client.post(card_url(anna, "adjust/"), form)
    assert response.status_code == 413
    assert "4 МБ" in response.content.decode() or "4 MB" in response.content.decode()
    assert not Entry.objects.filter(kind=EntryKind.MANUAL_CREDIT).exists()


def test_bonuses_credited_by_hand_burn_after_the_programs_lifetime(make_customer, program):
    program.lifetime_days = 90
    program.save()
    anna = make_customer()
    now = timezone.now()
    balance_adjust(
        customer=anna, amount=5_000, reason="извинение", role=Role.OWNER, actor=SYSTEM, now=now
    )
    credited = Lot.objects.get(account__customer=anna, entries__kind=EntryKind.MANUAL_CREDIT)
    assert credited.expires_at == now + timedelta(days=90)


def test_a_manual_credit_without_an_account_keeps_the_role_rules(make_customer, program):
    anna = make_customer()
    with pytest.raises(AdjustNotAllowed):
        balance_adjust(customer=anna, amount=100, reason="r", role=Role.AUDITOR, actor=SYSTEM)
    with pytest.raises(AdjustLimitExceeded):
        balance_adjust(customer=anna, amount=100_001, reason="r", role=Role.MARKETER, actor=SYSTEM)
    assert not Account.objects.exists()


def test_auditors_neither_open_accounts_nor_change_a_status(
    client, merchant, program, make_customer
):
    anna = make_customer(status=Customer.Status.PENDING)
    signed_in(client, merchant, Role.AUDITOR)
    page = client.get(card_url(anna)).content.decode()
    assert "accounts/open/" not in page and "status/confirm/" not in page
    assert client.post(card_url(anna, "accounts/open/")).status_code == 403
    assert client.post(card_url(anna, "status/confirm/")).status_code == 403
    assert client.post(card_url(anna, "status/block/"), {"reason": "r"}).status_code == 403
    assert Customer.objects.get(pk=anna.pk).status == Customer.Status.PENDING
    assert not Account.objects.exists()


# --- status ----------------------------------------------------------------------------------


def test_a_pending_customer_opened_by_hand_gets_the_welcome_bonus_on_confirmation(
    client, merchant, program, make_customer
):
    vera = make_customer(status=Customer.Status.PENDING)
    signed_in(client, merchant, Role.MARKETER)
    client.post(card_url(vera, "accounts/open/"))
    assert movements(vera) == [] and vera.accounts.count() == 1

    response = client.post(card_url(vera, "status/confirm/"), follow=True)
    assert Customer.objects.get(pk=vera.pk).status == Customer.Status.ACTIVE
    assert movements(vera) == [("Бонусы", EntryKind.WELCOME, 10_000)]
    assert "100,00" in response.content.decode()
    client.post(card_url(vera, "status/confirm/"))
    assert movements(vera) == [("Бонусы", EntryKind.WELCOME, 10_000)]


def test_confirming_in_the_back_office_gives_what_the_tills_code_gives(
    client, merchant, program, django_capture_on_commit_callbacks
):
    program.require_confirmation = True
    program.save()
    now = timezone.now()
    notifications.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        at_till, _, _ = desk.customer_register_at_till(
            merchant=merchant, actor=SYSTEM, now=now, phone="+79160000001"
        )
        by_staff, _, _ = desk.customer_register_at_till(
            merchant=merchant, actor=SYSTEM, now=now, phone="+79160000002"
        )
    [code] = [m.code for m in notifications.outbox if m.customer_id == at_till.pk]
    desk.customer_confirm_with_code(customer=at_till, code=code, actor=SYSTEM, now=now)
    signed_in(client, merchant, Role.ADMIN)
    client.post(card_url(by_staff, "status/confirm/"))

    def standing(customer):
        customer = Customer.objects.get(pk=customer.pk)
        lots = [
            (lot.account.program_id, lot.kind, lot.amount, (lot.expires_at - lot.created_at).days)
            for lot in Lot.objects.filter(account__customer=customer).select_related("account")
        ]
        return customer.status, customer.accounts.count(), lots

    assert (
        standing(by_staff)
        == standing(at_till)
        == (
            Customer.Status.ACTIVE,
            1,
            [(program.pk, EntryKind.WELCOME, 10_000, 30)],
        )
    )


def test_block_and_unblock_need_a_reason_and_are_audited(client, merchant, make_customer):
    anna = make_customer()
    signed_in(client, merchant, Role.MARKETER)
    client.post(card_url(anna, "status/block/"), {"reason": "  "})
    assert Customer.objects.get(pk=anna.pk).status == Customer.Status.ACTIVE

    page = client.post(card_url(anna, "status/block/"), {"reason": "мошенничество"}, follow=True)
    assert Customer.objects.get(pk=anna.pk).status == Customer.Status.BLOCKED
    assert "status/unblock/" in page.content.decode()
    assert AuditEvent.objects.get(action="customer.block").reason == "мошенничество"

    client.post(card_url(anna, "status/unblock/"), {"reason": "разобрались"})
    assert Customer.objects.get(pk=anna.pk).status == Customer.Status.ACTIVE
    assert AuditEvent.objects.get(action="customer.unblock").reason == "разобрались"


def test_a_blocked_customer_cannot_be_confirmed(client, merchant, program, make_customer):
    anna = make_customer(status=Customer.Status.BLOCKED)
    signed_in(client, merchant, Role.OWNER)
    page = client.post(card_url(anna, "status/confirm/"), follow=True)
    assert Customer.objects.get(pk=anna.pk).status == Customer.Status.BLOCKED
    assert "blocked customer cannot" in page.content.decode() or "нельзя" in page.content.decode()
    assert movements(anna) == []


def test_status_actions_of_another_merchants_customer_are_not_found(
    client, other_merchant, make_customer
):
    anna = make_customer(status=Customer.Status.PENDING)
    signed_in(client, other_merchant, Role.OWNER)
    assert client.post(card_url(anna, "status/confirm/")).status_code == 404
    assert client.post(card_url(anna, "accounts/open/")).status_code == 404
    assert Customer.objects.get(pk=anna.pk).status == Customer.Status.PENDING


def test_a_marketers_small_credits_stop_at_the_staff_members_day_limit_with_a_message(
    client, merchant, program, make_customer
):
    from kopilka.limits import safe
    from kopilka.limits.models import LimitAlert
    from kopilka.limits.services import safe_operations_set

    chosen = {pair: (None, None) for pair in safe.OFFERED}
    chosen[(safe.Operation.MANUAL_CREDIT, safe.Scope.STAFF)] = (2_000_00, 3_000_00)
    safe_operations_set(merchant=merchant, limits=chosen, patterns=safe.Patterns(), actor=SYSTEM)
    anna, boris = make_customer(), make_customer()
    signed_in(client, merchant, Role.MARKETER)
    form = {"account": "new", "amount": "1 000", "reason": "жалоба", "direction": "credit"}
    for customer in (anna, anna, boris):
        client.post(card_url(customer, "adjust/"), form, HTTP_HX_REQUEST="true")
    response = client.post(card_url(boris, "adjust/"), form, HTTP_HX_REQUEST="true")
    [(level, text)] = response.context["notes"]
    assert level == messages.ERROR
    assert text.replace("\xa0", " ") == (
        "Отклонено лимитом безопасных операций «Ручное начисление по одному сотруднику за "
        "день»: не более 3 000,00, с этой операцией 4 000,00. Обратитесь к владельцу или "
        "администратору."
    )
    credited = Entry.objects.filter(kind=EntryKind.MANUAL_CREDIT)
    assert sum(credited.values_list("amount", flat=True)) == 3_000_00
    alerts = LimitAlert.objects.order_by("id").values_list("kind", "customer_id", "total")
    # the third credit (Борис) passed 2 000,00; the fourth was refused
    assert list(alerts) == [("soft", boris.pk, 3_000_00), ("refused", boris.pk, 4_000_00)]

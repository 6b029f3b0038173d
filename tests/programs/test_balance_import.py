"""An opening balance carried over from another system (the customer import) is one audited
service, programs.services.balance_import: a manual credit in the account of the customer's
program, without the welcome bonus, burning at the end of the given expiry date or, without
one, after the program's bonus lifetime counted from the import. Bad input writes nothing."""

import datetime
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from kopilka import bounds
from kopilka.errors import AboveMaximum
from kopilka.ledger.exceptions import InvalidAmount
from kopilka.ledger.models import Account, Entry, EntryKind, Lot
from kopilka.merchants.models import AuditAction, AuditEvent
from kopilka.programs.exceptions import ExpiryInPast, NoProgram
from kopilka.programs.services import balance_import
from tests.conftest import SYSTEM

NOW = datetime.datetime(2026, 3, 10, 9, 30, tzinfo=datetime.UTC)


@pytest.fixture
def program(program):
    program.lifetime_days = 180
    program.welcome_bonus = 10_000
    program.save()
    return program


def imported_writes(customer):
    return (
        Account.objects.filter(customer=customer).count(),
        Entry.objects.filter(account__customer=customer).count(),
        AuditEvent.objects.filter(action=AuditAction.LEDGER_BALANCE_IMPORT).count(),
    )


def test_an_opening_balance_burns_after_the_programs_lifetime_counted_from_the_import(
    make_customer, program
):
    anna = make_customer(first_name="Анна")
    entry = balance_import(customer=anna, amount=15_050, actor=SYSTEM, now=NOW)
    assert (entry.kind, entry.amount, entry.account.program) == (
        EntryKind.MANUAL_CREDIT,
        15_050,
        program,
    )
    lot = Lot.objects.get(account__customer=anna)
    assert (lot.available_from, lot.expires_at) == (NOW, NOW + timedelta(days=180))
    # A customer moved from another system gets their balance, not a welcome bonus on top.
    assert not Entry.objects.filter(account__customer=anna, kind=EntryKind.WELCOME).exists()


def test_an_opening_balance_with_an_expiry_date_burns_at_the_end_of_that_day(
    merchant, make_customer, program
):
    anna = make_customer(first_name="Анна")
    balance_import(
        customer=anna, amount=5_000, actor=SYSTEM, expires_on=datetime.date(2026, 4, 1), now=NOW
    )
    lot = Lot.objects.get(account__customer=anna)
    zone = ZoneInfo(merchant.time_zone)
    assert lot.expires_at == datetime.datetime(2026, 4, 2, tzinfo=zone)


def test_an_opening_balance_of_a_program_without_a_lifetime_never_burns(make_customer, program):
    program.lifetime_days = None
    program.save()
    anna = make_customer(first_name="Анна")
    balance_import(customer=anna, amount=5_000, actor=SYSTEM, now=NOW)
    assert Lot.objects.get(account__customer=anna).expires_at is None


def test_an_imported_balance_is_audited_with_its_amount_and_expiry(make_customer, program):
    anna = make_customer(first_name="Анна")
    entry = balance_import(customer=anna, amount=5_000, actor=SYSTEM, now=NOW)
    event = AuditEvent.objects.get(action=AuditAction.LEDGER_BALANCE_IMPORT)
    assert (event.actor, event.object_id, event.reason) == (
        str(SYSTEM),
        str(entry.account_id),
        entry.reason,
    )
    assert event.data["amount"] == 5_000
    assert event.data["customer_id"] == anna.pk
    assert event.data["expires_at"] == (NOW + timedelta(days=180)).isoformat()


def test_an_expiry_date_in_the_past_is_refused_and_nothing_is_written(make_customer, program):
    anna = make_customer(first_name="Анна")
    with pytest.raises(ExpiryInPast):
        balance_import(
            customer=anna,
            amount=5_000,
            actor=SYSTEM,
            expires_on=datetime.date(2026, 3, 9),
            now=NOW,
        )
    assert imported_writes(anna) == (0, 0, 0)


def test_an_expiry_date_of_today_burns_at_the_end_of_today(merchant, make_customer, program):
    anna = make_customer(first_name="Анна")
    balance_import(
        customer=anna, amount=5_000, actor=SYSTEM, expires_on=datetime.date(2026, 3, 10), now=NOW
    )
    zone = ZoneInfo(merchant.time_zone)
    assert Lot.objects.get().expires_at == datetime.datetime(2026, 3, 11, tzinfo=zone)


def test_an_opening_balance_above_the_maximum_or_not_positive_is_refused(make_customer, program):
    anna = make_customer(first_name="Анна")
    with pytest.raises(AboveMaximum):
        balance_import(customer=anna, amount=bounds.MAX_OPENING_BALANCE + 1, actor=SYSTEM, now=NOW)
    for amount in (0, -100):
        with pytest.raises(InvalidAmount):
            balance_import(customer=anna, amount=amount, actor=SYSTEM, now=NOW)
    assert imported_writes(anna) == (0, 0, 0)
    balance_import(customer=anna, amount=bounds.MAX_OPENING_BALANCE, actor=SYSTEM, now=NOW)
    assert imported_writes(anna) == (1, 1, 1)


def test_without_a_program_an_opening_balance_is_refused(make_customer):
    anna = make_customer(first_name="Анна")
    with pytest.raises(NoProgram):
        balance_import(customer=anna, amount=5_000, actor=SYSTEM, now=timezone.now())
    assert imported_writes(anna) == (0, 0, 0)

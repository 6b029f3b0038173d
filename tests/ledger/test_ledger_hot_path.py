"""The hot path's shortcuts (ledger/sql.py) do what the long way does.

On PostgreSQL a spend is one statement over the first lots, with the long way (read the lots,
then write) for held points and for spends the first lots cannot cover, BEGIN travels with
the lock of the accounts, and the statements go to libpq, prepared once per session. Amounts
in kopecks.
"""

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from django.db import DatabaseError, DataError, OperationalError, connection, transaction
from django.forms.models import model_to_dict

from kopilka.ledger import locks, selectors, services
from kopilka.ledger.exceptions import InsufficientBalance
from kopilka.ledger.models import Account, Entry
from kopilka.ledger.verify import verify_ledger
from kopilka.sales.models import Receipt

from .helpers import locked

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def account(make_customer, program, actor):
    return services.account_open(customer=make_customer(), program=program, actor=actor)


def _credit_lots(account, actor, count, amount=100):
    with transaction.atomic():
        [acct] = locks.lock_accounts([account.pk])
        return [
            services.credit(account=acct, amount=amount, actor=actor, now=T0 + timedelta(minutes=i))
            for i in range(count)
        ]


def test_written_entries_are_the_rows_the_database_holds(account, actor, register):
    receipt = Receipt.objects.create(
        merchant_id=register.merchant_id,
        store_id=register.store_id,
        register=register,
        external_number="R-1",
        occurred_at=T0,
    )
    credited = locked(account, services.credit, amount=300, actor=actor, now=T0, receipt=receipt)
    spent = locked(account, services.spend, amount=200, actor=actor, now=T0, receipt=receipt)
    for entry in [credited, *spent]:
        stored = Entry.objects.get(pk=entry.pk)
        assert model_to_dict(entry) == model_to_dict(stored)
        assert entry.account == account and entry.receipt == receipt
        assert not entry._state.adding


def test_locked_accounts_are_the_rows_the_database_holds(account):
    with transaction.atomic():
        [acct] = locks.lock_accounts([account.pk])
        assert model_to_dict(acct) == model_to_dict(Account.objects.get(pk=account.pk))
        assert acct.created_at == account.created_at  # not read by the lock: loads on access
        assert not acct._state.adding and acct._state.db == "default"


def test_a_spend_the_first_lots_cannot_cover_reads_the_rest(account, actor):
    lots = _credit_lots(account, actor, services.FIRST_LOTS + 4)
    entries = locked(account, services.spend, amount=1950, actor=actor, now=T0 + timedelta(days=1))
    assert [(e.lot_id, e.amount) for e in entries] == [
        *[(lot.lot_id, -100) for lot in lots[:19]],
        (lots[19].lot_id, -50),
    ]
    assert len({e.transfer_id for e in entries}) == 1
    assert selectors.account_balance(account, now=T0 + timedelta(days=1)).available == 50
    assert verify_ledger(account=account) == []


@pytest.mark.parametrize("lots", [3, services.FIRST_LOTS, services.FIRST_LOTS + 4])
def test_a_refused_spend_says_what_all_the_lots_hold(account, actor, lots):
    _credit_lots(account, actor, lots)
    with pytest.raises(InsufficientBalance) as refused:
        locked(account, services.spend, amount=lots * 100 + 1, actor=actor, now=T0 + timedelta(1))
    assert refused.value.available == lots * 100
    assert Entry.objects.filter(account=account).count() == lots


def test_points_of_a_timed_out_hold_are_spendable_again(account, actor):
    locked(account, services.credit, amount=1000, actor=actor, now=T0)
    locked(account, services.hold, amount=800, actor=actor, now=T0, timeout=timedelta(minutes=5))
    with pytest.raises(InsufficientBalance):
        locked(account, services.spend, amount=1000, actor=actor, now=T0 + timedelta(minutes=4))
    entries = locked(account, services.spend, amount=1000, actor=actor, now=T0 + timedelta(1))
    assert sum(e.amount for e in entries) == -1000
    assert verify_ledger(account=account) == []


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_lock_opening_the_transaction_holds_until_commit(account, actor):
    other = psycopg.connect(**connection.get_connection_params(), autocommit=True)
    grab = "SELECT id FROM ledger_account WHERE id = %s FOR UPDATE NOWAIT"
    try:
        with transaction.atomic():
            [acct] = locks.lock_accounts([account.pk])  # the block's first statement
            with pytest.raises(psycopg.errors.LockNotAvailable):
                other.execute(grab, [account.pk])
            services.credit(account=acct, amount=500, actor=actor)
        assert other.execute(grab, [account.pk]).fetchone() == (account.pk,)
    finally:
        other.close()
    assert Entry.objects.filter(account=account).count() == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_lock_opening_the_transaction_fails_as_a_database_error(account, actor):
    other = psycopg.connect(**connection.get_connection_params())
    other.execute("SELECT id FROM ledger_account WHERE id = %s FOR UPDATE", [account.pk])
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '50ms'")
        with pytest.raises(OperationalError), transaction.atomic():
            locks.lock_accounts([account.pk])
    finally:
        other.close()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    entry = locked(account, services.credit, amount=500, actor=actor)  # the connection goes on
    assert Entry.objects.get(account=account) == entry


@pytest.mark.postgres_only
def test_the_spend_statement_is_prepared_on_the_connection(account, actor):
    locked(account, services.credit, amount=10_000, actor=actor, now=T0)
    threshold = connection.settings_dict["OPTIONS"]["prepare_threshold"]  # from the settings
    for _ in range(threshold + 1):
        locked(account, services.spend, amount=100, actor=actor, now=T0)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%WITH first_lots AS%"],
        )
        assert cursor.fetchone() == (1,)


def _ours_prepared() -> list[str]:
    """The statements of ours prepared on the session, as their first words."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE name LIKE 'kopilka_%%'")
        return sorted(" ".join(text.split()[:2]) for (text,) in cursor.fetchall())


def _credits_and_spends(account, actor, rounds):
    for _ in range(rounds):
        locked(account, services.credit, amount=300, actor=actor, now=T0)
        locked(account, services.spend, amount=100, actor=actor, now=T0)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_lock_credit_and_spend_are_all_prepared(account, actor):
    connection.close()  # a fresh session
    threshold = connection.settings_dict["OPTIONS"]["prepare_threshold"]  # from the settings
    assert threshold >= 1
    _credits_and_spends(account, actor, threshold)  # the lock has run twice as often
    assert _ours_prepared() == ["SELECT id,"]
    _credits_and_spends(account, actor, 1)
    assert _ours_prepared() == ["SELECT id,", "WITH first_lots", "WITH new_lot"]
    assert selectors.account_balance(account, now=T0).available == (threshold + 1) * 200


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_with_preparing_off_nothing_is_prepared(account, actor, monkeypatch):
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "prepare_threshold", None)
    connection.close()
    _credits_and_spends(account, actor, 8)
    assert _ours_prepared() == []
    assert selectors.account_balance(account, now=T0).available == 8 * 200


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_deallocated_session_prepares_its_statements_again(account, actor, monkeypatch):
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "prepare_threshold", 0)
    _credits_and_spends(account, actor, 1)
    assert len(_ours_prepared()) == 3
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    # The lock opens the transaction: it notices and starts the transaction again.
    _credits_and_spends(account, actor, 1)
    assert len(_ours_prepared()) == 3
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    # After other statements the lock cannot start again: that transaction fails as a
    # database error, writes nothing, and the next one prepares afresh.
    with pytest.raises(DatabaseError), transaction.atomic():
        Account.objects.get(pk=account.pk)
        locks.lock_accounts([account.pk])
    _credits_and_spends(account, actor, 1)
    assert selectors.account_balance(account, now=T0).available == 3 * 200
    assert verify_ledger(account=account) == []


@pytest.mark.postgres_only
def test_text_with_a_nul_byte_is_refused_not_cut_short(account, actor):
    locked(account, services.credit, amount=500, actor=actor, now=T0)
    with pytest.raises(DataError):
        locked(account, services.manual_adjust, amount=-100, actor=actor, reason="a\x00b")
    assert Entry.objects.filter(account=account).count() == 1

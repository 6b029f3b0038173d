"""The ledger's services, one behaviour at a time (amounts in kopecks: 100 = 1 bonus)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from kopilka.errors import AboveMaximum
from kopilka.ledger import locks, selectors, services
from kopilka.ledger.exceptions import (
    AccountNotLocked,
    AlreadyReversed,
    HoldNotActive,
    InsufficientBalance,
    InvalidAmount,
    ReasonRequired,
    ReversalNotPossible,
)
from kopilka.ledger.models import Entry, EntryKind, Lot
from kopilka.ledger.verify import verify_ledger

from .helpers import locked

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def account(make_customer, program, actor):
    return services.account_open(customer=make_customer(), program=program, actor=actor)


def balance(account, now):
    return selectors.account_balance(account, now=now)


def test_writes_refuse_an_account_that_was_not_locked(account, actor):
    with transaction.atomic(), pytest.raises(AccountNotLocked):
        services.credit(account=account, amount=100, actor=actor, now=T0)


def test_opening_an_account_twice_gives_the_same_account(make_customer, program, actor):
    customer = make_customer()
    first = services.account_open(customer=customer, program=program, actor=actor)
    assert services.account_open(customer=customer, program=program, actor=actor) == first


def test_an_account_opened_and_locked_at_once_is_the_one_account(make_customer, program, actor):
    customer = make_customer()
    with transaction.atomic():
        first = services.account_open_locked(customer=customer, program=program, actor=actor)
        services.credit(account=first, amount=500, actor=actor, now=T0)  # locked: accepted
    with transaction.atomic():
        again = services.account_open_locked(customer=customer, program=program, actor=actor)
        services.spend(account=again, amount=200, actor=actor, now=T0)
    assert again.pk == first.pk and again.merchant_id == program.merchant_id
    assert services.account_open(customer=customer, program=program, actor=actor) == first
    assert balance(first, T0).available == 300


@pytest.mark.django_db(transaction=True)  # so that no test transaction is open around it
def test_opening_and_locking_needs_a_transaction_and_one_merchant(
    make_customer, program, actor, other_merchant
):
    from kopilka.errors import ValidationFailed
    from kopilka.programs.models import Program

    with pytest.raises(AccountNotLocked):
        services.account_open_locked(customer=make_customer(), program=program, actor=actor)
    foreign = Program.objects.create(merchant=other_merchant, name="Чужие бонусы")
    with pytest.raises(ValidationFailed), transaction.atomic():
        services.account_open_locked(customer=make_customer(), program=foreign, actor=actor)


def test_a_credit_opens_a_lot_and_is_spendable_at_once(account, actor):
    locked(account, services.credit, amount=70000, actor=actor, now=T0)
    assert balance(account, T0).available == 70000


def test_frozen_points_are_pending_until_the_freeze_ends(account, actor):
    locked(account, services.credit, amount=500, actor=actor, now=T0, freeze_days=14)
    assert balance(account, T0) == selectors.Balance(available=0, pending=500, held=0, expired=0)
    with pytest.raises(InsufficientBalance):
        locked(account, services.spend, amount=100, actor=actor, now=T0 + timedelta(days=13))
    assert balance(account, T0 + timedelta(days=14)).available == 500
    locked(account, services.spend, amount=100, actor=actor, now=T0 + timedelta(days=14))


def test_points_burn_at_the_end_of_their_lifetime_without_any_job(account, actor):
    locked(account, services.credit, amount=300, actor=actor, now=T0, lifetime_days=30)
    assert balance(account, T0 + timedelta(days=30) - timedelta(seconds=1)).available == 300
    later = balance(account, T0 + timedelta(days=30))
    assert (later.available, later.expired) == (0, 300)


def test_lifetime_runs_from_the_end_of_the_freeze(account, actor):
    entry = locked(
        account, services.credit, amount=300, actor=actor, now=T0, freeze_days=7, lifetime_days=30
    )
    assert entry.lot.expires_at == T0 + timedelta(days=37)


def test_lifetime_counted_from_the_accrual_when_the_program_says_so(account, actor):
    entry = locked(
        account,
        services.credit,
        amount=300,
        actor=actor,
        now=T0,
        freeze_days=7,
        lifetime_days=30,
        lifetime_from_accrual=True,
    )
    # Usable from day 7, burnt on day 30 (not 7 + 30): 23 days to spend them.
    assert (entry.lot.available_from, entry.lot.expires_at) == (
        T0 + timedelta(days=7),
        T0 + timedelta(days=30),
    )
    assert balance(account, T0 + timedelta(days=29)).available == 300
    assert balance(account, T0 + timedelta(days=30)).expired == 300


def test_spend_takes_the_earliest_expiring_lot_first_then_the_oldest(account, actor):
    forever = locked(account, services.credit, amount=100, actor=actor, now=T0)
    late = locked(account, services.credit, amount=100, actor=actor, now=T0, lifetime_days=90)
    soon = locked(account, services.credit, amount=100, actor=actor, now=T0, lifetime_days=10)
    entries = locked(account, services.spend, amount=250, actor=actor, now=T0)
    assert [(e.lot_id, e.amount) for e in entries] == [
        (soon.lot_id, -100),
        (late.lot_id, -100),
        (forever.lot_id, -50),
    ]


def test_spending_more_than_available_is_refused_and_changes_nothing(account, actor):
    locked(account, services.credit, amount=700, actor=actor, now=T0)
    with pytest.raises(InsufficientBalance) as refused:
        locked(account, services.spend, amount=701, actor=actor, now=T0)
    assert (refused.value.available, refused.value.requested) == (700, 701)
    assert balance(account, T0).available == 700
    assert Entry.objects.filter(account=account).count() == 1


@pytest.mark.parametrize("amount", [0, -5, 1.5, True, "100"])
def test_amounts_must_be_positive_integers(account, actor, amount):
    with pytest.raises(InvalidAmount):
        locked(account, services.credit, amount=amount, actor=actor, now=T0)


def test_a_hold_reserves_points_and_capture_spends_them(account, actor):
    locked(account, services.credit, amount=1000, actor=actor, now=T0)
    hold = locked(account, services.hold, amount=600, actor=actor, now=T0)
    assert balance(account, T0) == selectors.Balance(available=400, pending=0, held=600, expired=0)
    captured = locked(account, services.capture, hold_id=hold.pk, amount=500, actor=actor, now=T0)
    assert sum(e.amount for e in captured) == -500
    assert balance(account, T0) == selectors.Balance(available=500, pending=0, held=0, expired=0)
    with pytest.raises(HoldNotActive):
        locked(account, services.void, hold_id=hold.pk, actor=actor, now=T0)


def test_a_voided_hold_gives_the_points_back_to_the_same_lots(account, actor):
    credit = locked(account, services.credit, amount=1000, actor=actor, now=T0)
    hold = locked(account, services.hold, amount=1000, actor=actor, now=T0)
    locked(account, services.void, hold_id=hold.pk, actor=actor, now=T0)
    lot = Lot.objects.get(pk=credit.lot_id)
    assert (lot.remaining, lot.held) == (1000, 0)


def test_a_hold_expires_by_itself_and_cannot_be_captured_after(account, actor):
    locked(account, services.credit, amount=1000, actor=actor, now=T0)
    hold = locked(
        account, services.hold, amount=800, actor=actor, now=T0, timeout=timedelta(minutes=15)
    )
    after = T0 + timedelta(minutes=15)
    assert balance(account, after).available == 1000  # no job has run
    with pytest.raises(HoldNotActive):
        locked(account, services.capture, hold_id=hold.pk, actor=actor, now=after)
    locked(account, services.spend, amount=1000, actor=actor, now=after)
    assert verify_ledger(account=account) == []


def test_expire_writes_expiry_entries_once(account, actor):
    locked(account, services.credit, amount=300, actor=actor, now=T0, lifetime_days=1)
    later = T0 + timedelta(days=2)
    first = locked(account, services.expire, actor=actor, now=later)
    second = locked(account, services.expire, actor=actor, now=later)
    assert [(e.kind, e.amount) for e in first] == [(EntryKind.EXPIRY, -300)]
    assert second == []
    assert balance(account, later).expired == 0


def test_a_spend_is_reversed_once_into_the_lots_it_came_from(account, actor):
    credit = locked(account, services.credit, amount=1000, actor=actor, now=T0)
    spent = locked(account, services.spend, amount=400, actor=actor, now=T0)
    transfer = spent[0].transfer_id
    reversal = locked(
        account, services.reverse, transfer_id=transfer, actor=actor, reason="till error", now=T0
    )
    assert [(e.lot_id, e.amount) for e in reversal] == [(credit.lot_id, 400)]
    with pytest.raises(AlreadyReversed):
        locked(account, services.reverse, transfer_id=transfer, actor=actor, reason="again")
    assert balance(account, T0).available == 1000


def test_a_credit_already_spent_cannot_be_reversed(account, actor):
    credit = locked(account, services.credit, amount=1000, actor=actor, now=T0)
    locked(account, services.spend, amount=600, actor=actor, now=T0)
    with pytest.raises(ReversalNotPossible):
        locked(account, services.reverse, transfer_id=credit.transfer_id, actor=actor, reason="x")


def test_manual_adjustments_need_a_reason_and_are_audited(account, actor):
    from kopilka.merchants.models import AuditEvent

    with pytest.raises(ReasonRequired):
        locked(account, services.manual_adjust, amount=500, actor=actor, reason=" ", now=T0)
    locked(account, services.manual_adjust, amount=500, actor=actor, reason="gift", now=T0)
    locked(account, services.manual_adjust, amount=-200, actor=actor, reason="typo", now=T0)
    assert balance(account, T0).available == 300
    events = AuditEvent.objects.filter(action="ledger.manual_adjust").order_by("id")
    assert [(e.reason, e.data["amount"]) for e in events] == [("gift", 500), ("typo", -200)]


def test_a_manual_adjustment_is_at_most_ten_million_bonuses_either_way(account, actor):
    """kopilka.bounds.MAX_MANUAL_ADJUSTMENT: 10,000,000.00 bonuses (10^9 kopecks)."""
    locked(account, services.manual_adjust, amount=10**9, actor=actor, reason="move", now=T0)
    for amount in (10**9 + 1, -(10**9) - 1, 10**16):
        with pytest.raises(AboveMaximum) as refused:
            locked(account, services.manual_adjust, amount=amount, actor=actor, reason="x", now=T0)
        assert refused.value.details == {"field": "amount", "maximum": 10**9, "value": amount}
    locked(account, services.manual_adjust, amount=-(10**9), actor=actor, reason="back", now=T0)
    assert balance(account, T0).available == 0


def test_no_single_movement_is_above_ten_to_the_twelve(account, actor):
    """The ledger's last line of defence against an overflow: every door has a lower bound."""
    locked(account, services.credit, amount=10**12, actor=actor, now=T0)
    with pytest.raises(AboveMaximum):
        locked(account, services.credit, amount=10**12 + 1, actor=actor, now=T0)
    with pytest.raises(AboveMaximum):
        locked(account, services.spend, amount=2**63, actor=actor, now=T0)
    assert balance(account, T0).available == 10**12


def test_a_manual_credit_expires_after_the_lifetime_it_is_given(account, actor):
    from kopilka.merchants.models import AuditEvent

    locked(
        account,
        services.manual_adjust,
        amount=700,
        actor=actor,
        reason="apology",
        now=T0,
        lifetime_days=30,
    )
    [lot] = Lot.objects.filter(account=account)
    assert lot.expires_at == T0 + timedelta(days=30)
    assert balance(account, T0 + timedelta(days=30)).available == 0
    [event] = AuditEvent.objects.filter(action="ledger.manual_adjust")
    assert event.data["lifetime_days"] == 30


def test_history_balance_replays_the_journal_at_any_past_moment(account, actor):
    locked(account, services.credit, amount=1000, actor=actor, now=T0, lifetime_days=10)
    locked(account, services.spend, amount=300, actor=actor, now=T0 + timedelta(days=1))
    at = selectors.account_balance_at
    assert at(account, at=T0 - timedelta(seconds=1)).available == 0
    assert at(account, at=T0).available == 1000
    assert at(account, at=T0 + timedelta(days=1)).available == 700
    assert at(account, at=T0 + timedelta(days=10)).available == 0


def test_lots_expiring_within_n_days_are_listed_soonest_first(account, actor, merchant):
    locked(account, services.credit, amount=100, actor=actor, now=T0, lifetime_days=20)
    locked(account, services.credit, amount=200, actor=actor, now=T0, lifetime_days=5)
    locked(account, services.credit, amount=300, actor=actor, now=T0)
    soon = selectors.lots_expiring(merchant=merchant, now=T0, within_days=7)
    assert [lot.remaining for lot in soon] == [200]


def test_verify_ledger_finds_a_tampered_lot_and_the_command_exits_non_zero(account, actor):
    credit = locked(account, services.credit, amount=1000, actor=actor, now=T0)
    call_command("verify_ledger")  # healthy: returns normally
    with connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_lot SET remaining = 999 WHERE id = %s", [credit.lot_id])
    assert [b.rule for b in verify_ledger()] == ["lot_sum_of_entries"]
    with pytest.raises(SystemExit) as exited:
        call_command("verify_ledger")
    assert exited.value.code == 1


def test_the_database_refuses_a_negative_remaining(account, actor):
    from django.db import IntegrityError

    credit = locked(account, services.credit, amount=1000, actor=actor, now=T0)
    with pytest.raises(IntegrityError), transaction.atomic():
        Lot.objects.filter(pk=credit.lot_id).update(remaining=-1)


def test_locks_are_taken_in_primary_key_order(make_customer, program, actor):
    accounts = [
        services.account_open(customer=make_customer(), program=program, actor=actor)
        for _ in range(3)
    ]
    with transaction.atomic():
        got = locks.lock_accounts([a.pk for a in reversed(accounts)])
    assert [a.pk for a in got] == sorted(a.pk for a in accounts)

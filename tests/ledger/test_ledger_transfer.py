"""ledger.services.transfer: a customer's balance moves to another of their accounts, lot by
lot, each lot keeping its freeze and expiry."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction

from kopilka.errors import ValidationFailed
from kopilka.ledger import locks, selectors, services
from kopilka.ledger.exceptions import AccountNotLocked, ReasonRequired, ReversalNotPossible
from kopilka.ledger.models import Entry, EntryKind, Lot
from kopilka.ledger.verify import verify_ledger
from kopilka.programs.models import Program

from .helpers import locked

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def customer(make_customer):
    return make_customer()


@pytest.fixture
def source(customer, program, actor):
    return services.account_open(customer=customer, program=program, actor=actor)


@pytest.fixture
def target(customer, merchant, actor):
    other = Program.objects.create(merchant=merchant, name="Gold")
    return services.account_open(customer=customer, program=other, actor=actor)


def move(source, target, actor, now, reason="card type changed"):
    with transaction.atomic():
        a, b = locks.lock_accounts([source.pk, target.pk])
        accounts = {a.pk: a, b.pk: b}
        return services.transfer(
            source=accounts[source.pk],
            target=accounts[target.pk],
            actor=actor,
            reason=reason,
            now=now,
        )


def balance(account, now):
    return selectors.account_balance(account, now=now)


def test_every_lot_moves_with_its_own_freeze_and_expiry(source, target, actor):
    locked(source, services.credit, amount=1000, actor=actor, now=T0, lifetime_days=30)
    locked(source, services.credit, amount=400, actor=actor, now=T0, freeze_days=7)
    locked(source, services.credit, amount=250, actor=actor, now=T0)
    locked(source, services.spend, amount=100, actor=actor, now=T0)
    before = sorted(
        Lot.objects.filter(account=source).values_list(
            "remaining", "available_from", "expires_at", "created_at"
        )
    )

    assert move(source, target, actor, T0) == 1550

    after = sorted(
        Lot.objects.filter(account=target).values_list(
            "remaining", "available_from", "expires_at", "created_at"
        )
    )
    assert after == before
    assert balance(target, T0) == selectors.Balance(available=1150, pending=400, held=0, expired=0)
    assert balance(source, T0) == selectors.Balance(available=0, pending=0, held=0, expired=0)
    assert balance(target, T0 + timedelta(days=7)).available == 1550
    assert balance(target, T0 + timedelta(days=30)).available == 650  # the 1000-lot burnt
    moved_from = dict(Lot.objects.filter(account=target).values_list("pk", "moved_from__account"))
    assert set(moved_from.values()) == {source.pk}
    entries = Entry.objects.filter(kind__in=[EntryKind.TRANSFER_OUT, EntryKind.TRANSFER_IN])
    assert len({e.transfer_id for e in entries}) == 1
    assert sum(e.amount for e in entries if e.account_id == target.pk) == 1550
    assert verify_ledger() == []


def test_expired_lots_and_held_points_stay_behind(source, target, actor):
    locked(source, services.credit, amount=300, actor=actor, now=T0, lifetime_days=1)
    locked(source, services.credit, amount=1000, actor=actor, now=T0)
    later = T0 + timedelta(days=2)
    the_hold = locked(source, services.hold, amount=400, actor=actor, now=later)

    assert move(source, target, actor, later) == 600

    left = balance(source, later)
    assert (left.available, left.held, left.expired) == (0, 400, 300)
    assert balance(target, later).available == 600
    # The hold finishes against the account it was taken from.
    locked(source, services.capture, hold_id=the_hold.pk, actor=actor, now=later)
    assert balance(source, later).held == 0
    assert verify_ledger() == []


def test_points_of_a_timed_out_hold_move_too(source, target, actor):
    locked(source, services.credit, amount=1000, actor=actor, now=T0)
    locked(source, services.hold, amount=400, actor=actor, now=T0, timeout=timedelta(minutes=5))
    assert move(source, target, actor, T0 + timedelta(hours=1)) == 1000
    assert verify_ledger() == []


def test_a_second_transfer_finds_nothing_to_move(source, target, actor):
    locked(source, services.credit, amount=1000, actor=actor, now=T0)
    assert move(source, target, actor, T0) == 1000
    count = Entry.objects.count()
    assert move(source, target, actor, T0) == 0
    assert Entry.objects.count() == count


def test_transfers_need_locked_accounts_of_one_customer_and_a_reason(
    source, target, make_customer, program, actor
):
    stranger = services.account_open(customer=make_customer(), program=program, actor=actor)
    with transaction.atomic(), pytest.raises(AccountNotLocked):
        [a] = locks.lock_accounts([source.pk])
        services.transfer(source=a, target=target, actor=actor, reason="r", now=T0)
    with pytest.raises(ValidationFailed):
        move(source, stranger, actor, T0)
    with pytest.raises(ReasonRequired):
        move(source, target, actor, T0, reason="")


def test_a_transfer_cannot_be_reversed_one_side_at_a_time(source, target, actor):
    locked(source, services.credit, amount=1000, actor=actor, now=T0)
    move(source, target, actor, T0)
    transfer_id = Entry.objects.get(kind=EntryKind.TRANSFER_IN).transfer_id
    for account in (source, target):
        with pytest.raises(ReversalNotPossible):
            locked(account, services.reverse, transfer_id=transfer_id, actor=actor, reason="r")


def test_transfer_in_is_not_a_kind_for_plain_credits(source, actor):
    with pytest.raises(ValueError):
        locked(source, services.credit, amount=1, actor=actor, kind=EntryKind.TRANSFER_IN)


def test_verify_notices_a_transfer_that_does_not_add_up(source, target, actor):
    locked(source, services.credit, amount=1000, actor=actor, now=T0)
    move(source, target, actor, T0)
    entry = Entry.objects.get(kind=EntryKind.TRANSFER_IN)
    Entry.objects.filter(pk=entry.pk).update(amount=900)
    Lot.objects.filter(pk=entry.lot_id).update(amount=900, remaining=900)
    assert [b.rule for b in verify_ledger()] == ["transfer_balanced"]

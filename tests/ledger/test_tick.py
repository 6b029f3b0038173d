"""`kopilka tick`: expiries written down, timed-out holds released, "expiring soon" events.

The job only writes down what balances already account for by time, so it must never change
what a customer sees, must be idempotent (running twice equals running once), and must be
safe beside itself and beside tills spending at the same moment.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from kopilka import tick
from kopilka.ledger import jobs, locks, selectors, services
from kopilka.ledger import sql as ledger_sql
from kopilka.ledger.exceptions import InsufficientBalance
from kopilka.ledger.models import Entry, EntryKind, Hold, Lot
from kopilka.ledger.verify import verify_ledger
from kopilka.merchants.actors import Actor
from kopilka.merchants.models import OutboxEvent
from kopilka.sales.models import Receipt

from .helpers import locked

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def quiet(line):
    pass


def run_tick(now, **kwargs):
    return tick.run(now=now, say=quiet, **kwargs)


@pytest.fixture
def account(make_customer, program, actor):
    return services.account_open(customer=make_customer(), program=program, actor=actor)


def credit(account, actor, amount, *, now=T0, lifetime=None, freeze=0):
    return locked(
        account,
        services.credit,
        amount=amount,
        actor=actor,
        now=now,
        lifetime_days=lifetime,
        freeze_days=freeze,
    )


def held_receipt(register, customer, program, number, occurred_at):
    return Receipt.objects.create(
        merchant=register.merchant,
        store=register.store,
        register=register,
        customer=customer,
        program=program,
        status=Receipt.Status.HELD,
        external_number=number,
        occurred_at=occurred_at,
    )


def seen(account, now):
    """What the customer sees: the balance now (without the not-yet-written-off part)."""
    b = selectors.account_balance(account, now=now)
    return (b.available, b.pending, b.held)


def snapshot():
    return (
        sorted(
            Entry.objects.values_list(
                "id", "lot_id", "kind", "amount", "created_at", "actor", "transfer_id"
            )
        ),
        sorted(Lot.objects.values_list("id", "remaining", "held")),
        sorted(Hold.objects.values_list("id", "status", "captured_amount", "closed_at")),
        sorted(Receipt.objects.values_list("id", "status")),
        sorted(
            (e.dedupe_key, e.kind, e.customer_id, e.payload, e.created_at)
            for e in OutboxEvent.objects.all()
        ),
    )


# ---- expiries -------------------------------------------------------------------------------


def test_expiries_are_written_off_with_the_lot_remaining_dated_at_expiry(account, actor):
    burnt = credit(account, actor, 1000, lifetime=2)  # expires T0 + 2 days
    partly = credit(account, actor, 700, lifetime=3)  # 300 of it spent first
    locked(account, services.spend, amount=1300, actor=actor, now=T0 + DAY)
    alive = credit(account, actor, 500, lifetime=30)
    forever = credit(account, actor, 400)
    now = T0 + 5 * DAY
    before = [selectors.account_balance_at(account, at=T0 + n * DAY) for n in range(7)]
    shown = seen(account, now)

    result = run_tick(now)

    expiries = Entry.objects.filter(kind=EntryKind.EXPIRY).order_by("lot_id")
    assert [(e.lot_id, e.amount, e.created_at) for e in expiries] == [
        (partly.lot_id, -400, T0 + 3 * DAY)  # the first lot was spent in full
    ]
    expiry = expiries.get()
    assert (expiry.actor, expiry.reason, expiry.receipt_id, expiry.hold_id) == (
        "system:tick",
        "",
        None,
        None,
    )
    assert (expiry.merchant_id, expiry.account_id) == (account.merchant_id, account.pk)
    remaining = dict(Lot.objects.values_list("id", "remaining"))
    assert remaining[burnt.lot_id] == remaining[partly.lot_id] == 0
    assert (remaining[alive.lot_id], remaining[forever.lot_id]) == (500, 400)
    assert (result["expiries"].lots, result["expiries"].amount) == (1, 400)
    assert verify_ledger() == []
    assert seen(account, now) == shown
    assert selectors.account_balance(account, now=now).expired == 0
    assert [selectors.account_balance_at(account, at=T0 + n * DAY) for n in range(7)] == before


def test_expiry_entries_match_what_services_expire_writes(make_customer, program, actor):
    twins = [
        services.account_open(customer=make_customer(), program=program, actor=actor)
        for _ in range(2)
    ]
    for acct in twins:
        credit(acct, actor, 1000, lifetime=1)
        credit(acct, actor, 250, lifetime=2, freeze=1)
        credit(acct, actor, 90)
        locked(acct, services.spend, amount=300, actor=actor, now=T0)
    now = T0 + 10 * DAY
    locked(twins[0], services.expire, actor=Actor.system("tick"), now=now)
    jobs.expire_lots(now=now, batch_size=1)

    def shape(acct):
        return sorted(
            (e.lot.amount, e.kind, e.amount, e.created_at, e.actor, e.reason)
            for e in Entry.objects.filter(account=acct, kind=EntryKind.EXPIRY).select_related("lot")
        )

    assert shape(twins[0]) == shape(twins[1]) != []
    # One operation per account and batch: its entries share a transfer id, nobody else's do.
    expiries = Entry.objects.filter(kind=EntryKind.EXPIRY, account=twins[1])
    assert expiries.count() == 2 and len({e.transfer_id for e in expiries}) == 1
    other = Entry.objects.filter(account=twins[0]).values_list("transfer_id", flat=True)
    assert expiries[0].transfer_id not in set(other)
    assert verify_ledger() == []


def test_points_a_timed_out_hold_kept_on_an_expired_lot_expire_too(account, actor):
    lot = credit(account, actor, 1000, lifetime=1)
    hold = locked(
        account, services.hold, amount=600, actor=actor, now=T0, timeout=timedelta(hours=2)
    )
    result = run_tick(T0 + 2 * DAY)
    hold.refresh_from_db()
    assert (hold.status, hold.closed_at) == (Hold.Status.EXPIRED, T0 + timedelta(hours=2))
    assert Lot.objects.filter(pk=lot.lot_id).values_list("remaining", "held").get() == (0, 0)
    assert list(
        Entry.objects.filter(kind=EntryKind.EXPIRY).values_list("amount", "created_at")
    ) == [(-1000, T0 + DAY)]
    assert result["expiries"].holds == 1
    assert verify_ledger() == []


def test_an_active_hold_on_an_expired_lot_keeps_its_points_until_it_ends(account, actor):
    lot = credit(account, actor, 1000, lifetime=1)
    locked(
        account,
        services.hold,
        amount=600,
        actor=actor,
        now=T0 + DAY - timedelta(minutes=5),
        timeout=timedelta(hours=1),
    )
    run_tick(T0 + DAY + timedelta(minutes=10))  # expired lot, hold still running
    assert Lot.objects.filter(pk=lot.lot_id).values_list("remaining", "held").get() == (0, 600)
    run_tick(T0 + 2 * DAY)  # the hold timed out: its points burn now, dated at the expiry
    assert Lot.objects.filter(pk=lot.lot_id).values_list("remaining", "held").get() == (0, 0)
    assert sorted(
        Entry.objects.filter(kind=EntryKind.EXPIRY).values_list("amount", "created_at")
    ) == [(-600, T0 + DAY), (-400, T0 + DAY)]
    assert verify_ledger() == []


def test_many_accounts_in_small_batches(make_customer, program, actor):
    accounts = [
        services.account_open(customer=make_customer(), program=program, actor=actor)
        for _ in range(7)
    ]
    for n, acct in enumerate(accounts):
        for k in range(n + 1):
            credit(acct, actor, 100 + k, lifetime=1 + k % 3)
    result = jobs.expire_lots(now=T0 + 10 * DAY, batch_size=3)
    assert result.lots == 28 == Entry.objects.filter(kind=EntryKind.EXPIRY).count()
    assert result.batches >= 5
    assert not Lot.objects.filter(remaining__gt=0).exists()
    assert verify_ledger() == []


def test_a_crash_mid_way_leaves_a_consistent_ledger_and_the_next_run_finishes(
    make_customer, program, actor, monkeypatch
):
    for _ in range(4):
        acct = services.account_open(customer=make_customer(), program=program, actor=actor)
        for k in range(3):
            credit(acct, actor, 100 + k, lifetime=1)
    write_off, calls = ledger_sql.write_off, []

    def crash_on_the_third_batch(*args):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("killed")
        return write_off(*args)

    monkeypatch.setattr(ledger_sql, "write_off", crash_on_the_third_batch)
    with pytest.raises(RuntimeError):
        run_tick(T0 + 5 * DAY, batch_size=3)
    assert Entry.objects.filter(kind=EntryKind.EXPIRY).count() == 6  # two whole batches
    assert verify_ledger() == []
    monkeypatch.setattr(ledger_sql, "write_off", write_off)
    assert run_tick(T0 + 5 * DAY, batch_size=3)["expiries"].lots == 6
    assert Entry.objects.filter(kind=EntryKind.EXPIRY).count() == 12
    assert not Lot.objects.filter(remaining__gt=0).exists()
    assert verify_ledger() == []


# ---- holds ----------------------------------------------------------------------------------


def test_held_receipts_past_their_timeout_are_voided(register, make_customer, program, actor):
    customer = make_customer()
    acct = services.account_open(customer=customer, program=program, actor=actor)
    credit(acct, actor, 5000)
    timeout = timedelta(minutes=15)
    late, fresh, released = (
        held_receipt(register, customer, program, number, T0) for number in ("H1", "H2", "H3")
    )
    locked(acct, services.hold, amount=1000, actor=actor, receipt=late, now=T0, timeout=timeout)
    locked(acct, services.hold, amount=500, actor=actor, receipt=released, now=T0, timeout=timeout)
    later = T0 + timedelta(minutes=20)
    locked(acct, services.hold, amount=700, actor=actor, receipt=fresh, now=later, timeout=timeout)
    # A spend already released the timed-out holds on this account; the receipts stay held.
    locked(acct, services.spend, amount=100, actor=actor, now=later)
    assert Hold.objects.filter(status=Hold.Status.EXPIRED).count() == 2
    shown = seen(acct, later)

    result = run_tick(later)

    statuses = dict(Receipt.objects.values_list("external_number", "status"))
    assert statuses == {"H1": "voided", "H2": "held", "H3": "voided"}
    assert (result["holds"].receipts, result["holds"].holds) == (2, 0)
    assert seen(acct, later) == shown == (5000 - 100 - 700, 0, 700)
    assert verify_ledger() == []
    assert run_tick(later)["holds"].receipts == 0


def test_timed_out_holds_without_receipts_are_released(account, actor):
    credit(account, actor, 1000)
    hold = locked(
        account, services.hold, amount=400, actor=actor, now=T0, timeout=timedelta(minutes=5)
    )
    now = T0 + timedelta(minutes=6)
    shown = seen(account, now)
    assert run_tick(now)["holds"].holds == 1
    hold.refresh_from_db()
    assert (hold.status, hold.captured_amount, hold.closed_at) == (
        Hold.Status.EXPIRED,
        0,
        T0 + timedelta(minutes=5),
    )
    assert seen(account, now) == shown == (1000, 0, 0)
    assert verify_ledger() == []


# ---- outbox ---------------------------------------------------------------------------------


def test_expiring_soon_events_one_per_account_and_day_deduplicated(
    account, make_customer, program, actor
):
    other = services.account_open(customer=make_customer(), program=program, actor=actor)
    credit(account, actor, 300, lifetime=3)
    credit(account, actor, 200, now=T0 + timedelta(hours=2), lifetime=3)  # same day
    credit(account, actor, 100, lifetime=5)  # another day
    credit(account, actor, 999, lifetime=9)  # beyond 7 days
    credit(account, actor, 50, lifetime=1)  # already expired at `now`
    credit(other, actor, 80, lifetime=4)
    spent = credit(other, actor, 10, lifetime=2)
    locked(other, services.spend, amount=10, actor=actor, now=T0)  # takes the lot above
    assert Lot.objects.get(pk=spent.lot_id).remaining == 0
    now = T0 + 1.5 * DAY

    assert run_tick(now)["outbox"].events == 3
    events = {e.dedupe_key: e for e in OutboxEvent.objects.all()}
    assert set(events) == {
        f"expiring:{account.pk}:2026-03-04",
        f"expiring:{account.pk}:2026-03-06",
        f"expiring:{other.pk}:2026-03-05",
    }
    first = events[f"expiring:{account.pk}:2026-03-04"]
    # The sender's own marks ("delivery", "attempts": pos.reminders) join what the job wrote;
    # this merchant has not switched reminders on, so the event is settled unsent.
    assert first.payload == {
        "account_id": account.pk,
        "program_id": program.pk,
        "amount": 500,
        "expires_at": "2026-03-04T12:00:00+00:00",
        "expires_on": "2026-03-04",
        "delivery": "reminders_off",
        "attempts": 0,
    }
    assert (first.merchant_id, first.customer_id, first.kind, first.sent_at) == (
        account.merchant_id,
        account.customer_id,
        "bonuses_expiring",
        now,
    )
    assert first.created_at == now

    # Later runs add nothing for the same days, only days that come into the window.
    assert run_tick(now)["outbox"].events == 0
    assert run_tick(now + DAY)["outbox"].events == 1  # the lot expiring on day 9
    assert run_tick(now + 3 * DAY)["outbox"].events == 0
    assert OutboxEvent.objects.count() == 4
    assert run_tick(now, expiring_within_days=0)["outbox"].events == 0


# ---- the command ----------------------------------------------------------------------------


def test_the_command_prints_one_line_per_step(account, actor):
    credit(account, actor, 1000, lifetime=1)
    credit(account, actor, 500, lifetime=10)
    out = StringIO()
    call_command("tick", now="2026-03-05T12:00:00+00:00", expiring_within_days=7, stdout=out)
    lines = out.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "expiries",
        "holds",
        "outbox",
        "levels",
        "birthdays",
        "customer balances",
        "rollups",
        "reminders",
        "limit counters",
    ]
    assert lines[0].startswith("expiries: 1 lots written off, 1000 points")
    assert lines[2].startswith("outbox: 1 new")
    out = StringIO()
    call_command("tick", now="2026-03-05T12:00:00", stdout=out)  # naive = UTC
    assert out.getvalue().splitlines()[0].startswith("expiries: 0 lots")


# ---- idempotence: running twice equals running once -----------------------------------------

lot_specs = st.lists(
    st.tuples(
        st.integers(1, 3000),  # amount
        st.integers(0, 10),  # created, days after T0
        st.sampled_from([0, 0, 1]),  # freeze days
        st.sampled_from([None, 1, 2, 4, 8]),  # lifetime days
    ),
    min_size=1,
    max_size=8,
)
actions = st.lists(
    st.tuples(
        st.sampled_from(["spend", "hold", "hold_receipt"]),
        st.integers(1, 4000),  # amount
        st.integers(0, 12 * 24),  # hours after T0
        st.sampled_from([5, 60, 600]),  # hold timeout, minutes
    ),
    max_size=8,
)


@pytest.mark.django_db
@settings(max_examples=40)
@given(
    accounts=st.lists(st.tuples(lot_specs, actions), min_size=1, max_size=3),
    clock=st.integers(0, 22 * 24),
    within=st.sampled_from([0, 3, 7]),
    batch_size=st.sampled_from([1, 2, 5000]),
)
def test_running_twice_equals_running_once(
    register, make_customer, program, actor, accounts, clock, within, batch_size
):
    with transaction.atomic():
        opened = []
        for n, (lots, steps) in enumerate(accounts):
            customer = make_customer()
            acct = services.account_open(customer=customer, program=program, actor=actor)
            opened.append(acct)
            for amount, day, freeze, lifetime in lots:
                credit(acct, actor, amount, now=T0 + day * DAY, lifetime=lifetime, freeze=freeze)
            for k, (kind, amount, hours, timeout) in enumerate(sorted(steps, key=lambda s: s[2])):
                at = T0 + timedelta(hours=hours)
                try:
                    if kind == "spend":
                        locked(acct, services.spend, amount=amount, actor=actor, now=at)
                    else:
                        receipt = None
                        if kind == "hold_receipt":
                            receipt = held_receipt(register, customer, program, f"R{n}-{k}", at)
                        locked(
                            acct,
                            services.hold,
                            amount=amount,
                            actor=actor,
                            now=at,
                            receipt=receipt,
                            timeout=timedelta(minutes=timeout),
                        )
                except InsufficientBalance:
                    pass
        now = T0 + timedelta(hours=clock)
        shown = [seen(acct, now) for acct in opened]
        history = [selectors.account_balance_at(acct, at=now) for acct in opened]

        run_tick(now, expiring_within_days=within, batch_size=batch_size)
        once = snapshot()
        assert verify_ledger() == []
        assert [seen(acct, now) for acct in opened] == shown
        assert [selectors.account_balance_at(acct, at=now) for acct in opened] == history
        assert all(selectors.account_balance(acct, now=now).expired == 0 for acct in opened)
        assert not Lot.objects.filter(remaining__gt=0, expires_at__lte=now).exists()
        assert not Hold.objects.filter(status=Hold.Status.ACTIVE, expires_at__lte=now).exists()
        assert not Receipt.objects.filter(
            status=Receipt.Status.HELD,
            pk__in=Hold.objects.filter(status=Hold.Status.EXPIRED, expires_at__lte=now).values(
                "receipt_id"
            ),
        ).exists()

        run_tick(now, expiring_within_days=within, batch_size=batch_size)
        assert snapshot() == once
        transaction.set_rollback(True)


# ---- real concurrency (PostgreSQL) ----------------------------------------------------------


def _in_thread(target, errors, barrier):
    def body():
        try:
            barrier.wait()
            target()
        except Exception as error:  # surfaces in the main thread's assertions
            errors.append(repr(error))
        finally:
            connection.close()

    return threading.Thread(target=body)


def _due_lots(make_customer, program, actor, accounts, lots_each):
    opened = []
    for _ in range(accounts):
        acct = services.account_open(customer=make_customer(), program=program, actor=actor)
        opened.append(acct)
        with transaction.atomic():
            [acct_locked] = locks.lock_accounts([acct.pk])
            for k in range(lots_each):
                services.credit(
                    account=acct_locked,
                    amount=100 + k,
                    actor=actor,
                    now=T0,
                    available_from=T0,
                    expires_at=T0 + timedelta(days=1 + k % 3),
                )
    return opened


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_ticks_in_parallel_write_exactly_one_expiry_per_lot(make_customer, program, actor):
    _due_lots(make_customer, program, actor, accounts=12, lots_each=15)
    errors, barrier = [], threading.Barrier(4)
    threads = [
        _in_thread(lambda size=size: run_tick(T0 + 10 * DAY, batch_size=size), errors, barrier)
        for size in (7, 7, 30, 5000)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    per_lot = Counter(Entry.objects.filter(kind=EntryKind.EXPIRY).values_list("lot_id", flat=True))
    assert len(per_lot) == Lot.objects.count() == 180
    assert set(per_lot.values()) == {1}
    assert OutboxEvent.objects.count() == 0
    assert verify_ledger() == []


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_tick_beside_tills_spending_never_breaks_an_invariant(make_customer, program, actor):
    now = timezone.now()
    opened = []
    for _ in range(6):
        acct = services.account_open(customer=make_customer(), program=program, actor=actor)
        opened.append(acct)
        with transaction.atomic():
            [acct_locked] = locks.lock_accounts([acct.pk])
            for k in range(20):  # half of them already expired, half alive
                services.credit(
                    account=acct_locked,
                    amount=500,
                    actor=actor,
                    now=now - timedelta(days=10),
                    available_from=now - timedelta(days=10),
                    expires_at=now + timedelta(days=(-1) ** k * (1 + k % 4)),
                )
    stop = threading.Event()
    outcomes = Counter()

    def till(seed):
        rng = random.Random(seed)
        while not stop.is_set():
            acct = rng.choice(opened)
            try:
                with transaction.atomic():
                    [acct_locked] = locks.lock_accounts([acct.pk])
                    if rng.random() < 0.3:
                        services.hold(
                            account=acct_locked,
                            amount=rng.randint(1, 300),
                            actor=actor,
                            timeout=timedelta(milliseconds=rng.randint(1, 50)),
                        )
                    else:
                        services.spend(account=acct_locked, amount=rng.randint(1, 300), actor=actor)
                outcomes["ok"] += 1
            except InsufficientBalance:
                outcomes["refused"] += 1

    def ticker():
        for size in (3, 10, 1, 5000):
            run_tick(timezone.now(), batch_size=size)
            outcomes["ticks"] += 1
        stop.set()

    errors, barrier = [], threading.Barrier(5)
    threads = [_in_thread(lambda s=s: till(s), errors, barrier) for s in range(4)]
    threads.append(_in_thread(ticker, errors, barrier))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    stop.set()
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert outcomes["ticks"] == 4 and outcomes["ok"] > 0
    assert verify_ledger() == []
    later = timezone.now() + timedelta(seconds=1)
    shown = [seen(acct, later) for acct in opened]
    run_tick(later)
    assert [seen(acct, later) for acct in opened] == shown
    assert verify_ledger() == []
    expired_lots = Lot.objects.filter(expires_at__lte=later)
    assert not expired_lots.filter(remaining__gt=0).exists()
    # Every expired lot: what was credited == spent/captured + written off (+ still held).
    for lot in expired_lots.filter(held=0):
        assert sum(lot.entries.values_list("amount", flat=True)) == 0

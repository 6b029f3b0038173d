"""Random sequences of ledger operations and clock moves against a plain reference model: the
lots of `ledger.lots`, moved by its rules, with no database.

After every step: every invariant holds, the balance now equals the model's, and the balance
replayed from the journal at an earlier moment equals what the model saw then.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
    run_state_machine_as_test,
)

from kopilka.ledger import lots, selectors, services
from kopilka.ledger.exceptions import (
    AlreadyReversed,
    HoldNotActive,
    InsufficientBalance,
    ReversalNotPossible,
)
from kopilka.ledger.verify import verify_ledger

from .helpers import locked

START = datetime(2026, 1, 1, tzinfo=UTC)
HOLD_TIMEOUT = timedelta(hours=2)


# ---- the reference model: plain Python, no database -------------------------------------


@dataclass
class ModelHold:
    parts: list  # [(lot, amount)] in spend order
    expires_at: datetime
    open: bool = True


@dataclass
class Model:
    lots: list[lots.Lot] = field(default_factory=list)
    holds: list[ModelHold] = field(default_factory=list)
    transfers: dict = field(default_factory=dict)  # transfer id -> ([(lot, amount)], kind)
    reversed: set = field(default_factory=set)

    def release_expired_holds(self, now):
        for hold in self.holds:
            if hold.open and hold.expires_at <= now:
                self.close(hold, captured=0)

    def close(self, hold, captured):
        hold.open = False
        return [(lot, -part) for lot, part in lots.release(hold.parts, captured)]

    def spendable(self, now):
        return lots.spendable(self.lots, now)

    def covers(self, now, amount):
        """Whether the lots spendable at `now` hold `amount`; nothing is taken yet."""
        return sum(lot.remaining for lot in self.spendable(now)) >= amount

    def balance(self, now):
        split = lots.split(self.lots, now)
        return selectors.Balance(split.available, split.pending, split.held, split.expired)


# ---- the machine ---------------------------------------------------------------------------


class LedgerMachine(RuleBasedStateMachine):
    transfers = Bundle("transfers")
    holds = Bundle("holds")

    def __init__(self):
        super().__init__()
        self.model = Model()
        self.now = START
        self.history: dict[datetime, selectors.Balance] = {}
        self.account = services.account_open(
            customer=self.make_customer(), program=self.program, actor=self.actor
        )

    def sync(self):
        self.model.release_expired_holds(self.now)

    @rule(
        target=transfers,
        amount=st.integers(1, 5000),
        freeze=st.sampled_from([0, 0, 1, 3]),
        lifetime=st.sampled_from([None, None, 1, 2, 5]),
    )
    def credit(self, amount, freeze, lifetime):
        self.sync()
        entry = locked(
            self.account,
            services.credit,
            amount=amount,
            actor=self.actor,
            now=self.now,
            freeze_days=freeze,
            lifetime_days=lifetime,
        )
        available_from = self.now + timedelta(days=freeze)
        lot = lots.Lot(
            entry.lot_id,
            amount,
            available_from=available_from,
            expires_at=available_from + timedelta(days=lifetime) if lifetime else None,
            created_at=self.now,
        )
        self.model.lots.append(lot)
        self.model.transfers[entry.transfer_id] = ([(lot, amount)], "credit")
        return entry.transfer_id

    @rule(target=transfers, amount=st.integers(1, 8000))
    def spend(self, amount):
        self.sync()
        covered = self.model.covers(self.now, amount)
        try:
            entries = locked(
                self.account, services.spend, amount=amount, actor=self.actor, now=self.now
            )
        except InsufficientBalance:
            assert not covered
            return None
        assert covered
        taken = lots.take(self.model.spendable(self.now), amount)
        assert [(e.lot_id, -e.amount) for e in entries] == [(lot.id, n) for lot, n in taken]
        self.model.transfers[entries[0].transfer_id] = ([(lot, -n) for lot, n in taken], "spend")
        return entries[0].transfer_id

    @rule(target=holds, amount=st.integers(1, 8000))
    def hold(self, amount):
        self.sync()
        covered = self.model.covers(self.now, amount)
        try:
            hold = locked(
                self.account,
                services.hold,
                amount=amount,
                actor=self.actor,
                now=self.now,
                timeout=HOLD_TIMEOUT,
            )
        except InsufficientBalance:
            assert not covered
            return None
        assert covered
        taken = lots.hold(self.model.spendable(self.now), amount)
        model_hold = ModelHold(parts=taken, expires_at=self.now + HOLD_TIMEOUT)
        self.model.holds.append(model_hold)
        return (hold.pk, model_hold)

    @rule(target=transfers, held=consumes(holds), share=st.floats(0.01, 1.0))
    def capture(self, held, share):
        if held is None:
            return None
        self.sync()
        hold_id, model_hold = held
        amount = max(1, int(sum(n for _, n in model_hold.parts) * share))
        try:
            entries = locked(
                self.account,
                services.capture,
                hold_id=hold_id,
                amount=amount,
                actor=self.actor,
                now=self.now,
            )
        except HoldNotActive:
            assert not model_hold.open
            return None
        assert model_hold.open
        taken = self.model.close(model_hold, captured=amount)
        assert sorted((e.lot_id, e.amount) for e in entries) == sorted(
            (lot.id, n) for lot, n in taken
        )
        self.model.transfers[entries[0].transfer_id] = (taken, "capture")
        return entries[0].transfer_id

    @rule(held=consumes(holds))
    def void(self, held):
        if held is None:
            return
        self.sync()
        hold_id, model_hold = held
        try:
            locked(self.account, services.void, hold_id=hold_id, actor=self.actor, now=self.now)
        except HoldNotActive:
            assert not model_hold.open
            return
        assert model_hold.open
        self.model.close(model_hold, captured=0)

    @rule()
    def expire(self):
        self.sync()
        entries = locked(self.account, services.expire, actor=self.actor, now=self.now)
        expected = [lot for lot in self.model.lots if lots.burnt(lot, self.now) and lot.remaining]
        assert sorted(e.lot_id for e in entries) == sorted(lot.id for lot in expected)
        for lot in expected:
            lot.remaining = 0

    @rule(transfer=transfers)
    def reverse(self, transfer):
        if transfer is None:
            return
        self.sync()
        parts, _kind = self.model.transfers[transfer]
        possible = transfer not in self.model.reversed and all(
            lot.remaining - amount >= 0 for lot, amount in parts
        )
        try:
            locked(
                self.account,
                services.reverse,
                transfer_id=transfer,
                actor=self.actor,
                reason="test",
                now=self.now,
            )
        except (AlreadyReversed, ReversalNotPossible):
            assert not possible
            return
        assert possible
        for lot, amount in parts:
            lot.remaining -= amount
        self.model.reversed.add(transfer)

    @rule(hours=st.sampled_from([1, 3, 12, 24, 49]))
    def clock_moves(self, hours):
        self.now += timedelta(hours=hours)

    @invariant()
    def balances_match_the_model_and_every_invariant_holds(self):
        # The model releases timed-out holds eagerly; the ledger must agree without doing so.
        self.model.release_expired_holds(self.now)
        expected = self.model.balance(self.now)
        assert selectors.account_balance(self.account, now=self.now) == expected
        self.history[self.now] = expected
        for at, then in list(self.history.items())[-3:]:
            replayed = selectors.account_balance_at(self.account, at=at)
            assert (replayed.available, replayed.pending, replayed.held) == (
                then.available,
                then.pending,
                then.held,
            )
        assert verify_ledger(account=self.account) == []


def test_random_ledger_histories_keep_every_invariant(make_customer, program, actor):
    LedgerMachine.make_customer = staticmethod(make_customer)
    LedgerMachine.program = program
    LedgerMachine.actor = actor
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(max_examples=40, stateful_step_count=30, deadline=None),
    )


@pytest.mark.parametrize("at_hours", [0, 5])
def test_the_reference_model_agrees_with_a_hand_computed_case(at_hours):
    model = Model()
    lot = lots.Lot(1, 500, available_from=START, expires_at=START + timedelta(hours=4))
    model.lots.append(lot)
    now = START + timedelta(hours=at_hours)
    expected = (500, 0) if at_hours == 0 else (0, 500)
    assert (model.balance(now).available, model.balance(now).expired) == expected

"""The database's spellings of the rules of `ledger.lots` (the statements of `ledger.sql`, the
spend order of `selectors.lots_left`) give what the pure module gives, on random lot sets:
amounts, expiries (none, past, future, this very moment), ties in creation time, held points."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from kopilka.ledger import lots, selectors, services, sql
from kopilka.ledger.exceptions import InsufficientBalance
from kopilka.ledger.models import EntryKind, Lot

from .helpers import locked

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)


@st.composite
def lot_sets(draw):
    """(remaining, held, available_from, expires_at, created_at) of up to 24 lots: more than
    the hot path's first lots, many sharing an expiry and a creation time."""
    found = []
    for _ in range(draw(st.integers(0, 24))):
        since = draw(st.sampled_from([-48, -24, -1, 0, 1, 24]))
        life = draw(st.none() | st.sampled_from([1, 24, 48, 72]))
        found.append(
            (
                draw(st.integers(0, 400)),
                draw(st.sampled_from([0, 0, 0, 0, 25])),
                NOW + since * HOUR,
                None if life is None else NOW + (since + life) * HOUR,
                NOW + draw(st.sampled_from([-72, -72, -24, 0])) * HOUR,
            )
        )
    return found


@pytest.fixture
def account(make_customer, program, actor):
    return services.account_open(customer=make_customer(), program=program, actor=actor)


def _in_a_rolled_back_transaction(account, rows, check) -> None:
    """Open the lots, run `check(pure lots)`, and leave nothing behind for the next example."""
    with transaction.atomic():
        created = Lot.objects.bulk_create(
            Lot(
                merchant_id=account.merchant_id,
                account=account,
                kind=EntryKind.ACCRUAL,
                amount=remaining + held + 1,
                remaining=remaining,
                held=held,
                available_from=available_from,
                expires_at=expires_at,
                created_at=created_at,
            )
            for remaining, held, available_from, expires_at, created_at in rows
        )
        check([lots.Lot(lot.pk, *row) for lot, row in zip(created, rows, strict=True)])
        transaction.set_rollback(True)


def _usable_with_points_or_held(pure):
    """What the hot path's statements look at: lots usable now with points left or held."""
    found = (lot for lot in pure if lots.usable(lot, NOW) and (lot.remaining or lot.held))
    return sorted(found, key=lots.spend_order)


def _ids(found):
    return [lot.id for lot in found]


@pytest.mark.postgres_only
@settings(max_examples=150)
@given(rows=lot_sets(), amount=st.integers(1, 4000))
def test_the_single_statement_spend_takes_what_the_pure_module_takes(account, rows, amount):
    def check(pure):
        first = _usable_with_points_or_held(pure)[: services.FIRST_LOTS]
        posting = sql.Posting(
            merchant_id=account.merchant_id,
            account_id=account.pk,
            transfer_id=uuid.uuid4(),
            kind=EntryKind.SPEND,
            receipt_id=None,
            actor="test",
            reason="",
            created_at=NOW,
        )
        result = sql.take(posting, amount=amount, limit=services.FIRST_LOTS)
        available = sum(lot.remaining for lot in first)
        held = any(lot.held for lot in first)
        assert (result.available, result.complete, result.held) == (
            available,
            len(first) < services.FIRST_LOTS,
            held,
        )
        expected = lots.take(first, amount) if available >= amount and not held else []
        assert [(lot_id, -part) for _, lot_id, part in result.posted] == [
            (lot.id, part) for lot, part in expected
        ]
        remaining = dict(Lot.objects.filter(account=account).values_list("pk", "remaining"))
        assert remaining == {lot.id: lot.remaining for lot in pure}

    _in_a_rolled_back_transaction(account, rows, check)


@settings(max_examples=60)
@given(rows=lot_sets())
def test_the_databases_spend_order_and_split_are_the_pure_modules(account, rows):
    def check(pure):
        assert _ids(sql.spendable_lots(account.pk, NOW, None)) == _ids(
            _usable_with_points_or_held(pure)
        )
        assert _ids(selectors.lots_left(account=account, now=NOW)) == _ids(
            sorted(
                (lot for lot in pure if lot.remaining and not lots.burnt(lot, NOW)),
                key=lots.spend_order,
            )
        )
        # (available, pending, expired, held), as `lots.Split` has them.
        assert sql.lot_sums(account.pk, NOW) == tuple(lots.split(pure, NOW))
        # The ORM's spelling (the balance replayed from the journal, released holds).
        split = lots.split(pure, NOW)
        orm = selectors._sums(Lot.objects.filter(account=account), "remaining", "", NOW)
        assert orm == {
            "available": split.available,
            "pending": split.pending,
            "expired": split.expired,
        }

    _in_a_rolled_back_transaction(account, rows, check)


@settings(max_examples=60)
@given(rows=lot_sets(), amount=st.integers(1, 4000))
def test_a_spend_through_the_ledger_takes_what_the_pure_module_takes(account, actor, rows, amount):
    def check(pure):
        spendable = lots.spendable(pure, NOW)
        covered = sum(lot.remaining for lot in spendable) >= amount
        try:
            entries = locked(account, services.spend, amount=amount, actor=actor, now=NOW)
        except InsufficientBalance:
            assert not covered
            return
        assert covered
        assert [(e.lot_id, -e.amount) for e in entries] == [
            (lot.id, part) for lot, part in lots.take(spendable, amount)
        ]

    _in_a_rolled_back_transaction(account, rows, check)

"""The rules of `ledger.lots`, on plain lots: no database, no clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from kopilka.ledger import lots
from kopilka.ledger.lots import Lot

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
DAY = timedelta(days=1)


def a_lot(id, remaining, *, held=0, since=-DAY, burns=None, created=-DAY):
    """A lot usable from NOW + `since`, burning at NOW + `burns` (None: never), opened at NOW +
    `created`."""
    return Lot(
        id,
        remaining,
        held,
        available_from=NOW + since,
        expires_at=None if burns is None else NOW + burns,
        created_at=NOW + created,
    )


def ids(found):
    return [lot.id for lot in found]


def taken(takes):
    return [(lot.id, part) for lot, part in takes]


# ---- the spend order ------------------------------------------------------------------------


def test_a_spend_takes_the_lot_that_burns_first():
    later, sooner = a_lot(1, 100, burns=10 * DAY), a_lot(2, 100, burns=2 * DAY)
    assert taken(lots.take(lots.spendable([later, sooner], NOW), 50)) == [(2, 50)]


def test_lots_that_never_burn_are_spent_last():
    forever, burning = a_lot(1, 100, created=-5 * DAY), a_lot(2, 100, burns=300 * DAY)
    assert ids(lots.spendable([forever, burning], NOW)) == [2, 1]


def test_lots_burning_together_are_spent_oldest_first_then_by_id():
    newer = a_lot(1, 100, burns=DAY, created=-DAY)
    older_high_id = a_lot(3, 100, burns=DAY, created=-2 * DAY)
    older_low_id = a_lot(2, 100, burns=DAY, created=-2 * DAY)
    assert ids(lots.spendable([newer, older_high_id, older_low_id], NOW)) == [2, 3, 1]


def test_a_frozen_a_burnt_or_an_empty_lot_is_not_spendable():
    frozen = a_lot(1, 100, since=DAY)
    burnt = a_lot(2, 100, since=-3 * DAY, burns=-DAY)
    burning_now = a_lot(3, 100, burns=timedelta(0))
    empty = a_lot(4, 0, held=100)
    usable = a_lot(5, 100, since=timedelta(0))
    assert ids(lots.spendable([frozen, burnt, burning_now, empty, usable], NOW)) == [5]


# ---- taking, holding, releasing ---------------------------------------------------------------


def test_taking_empties_lots_in_order_and_stops_at_the_amount():
    first, second, third = a_lot(1, 30), a_lot(2, 50), a_lot(3, 70)
    assert taken(lots.take([first, second, third], 60)) == [(1, 30), (2, 30)]
    assert (first.remaining, second.remaining, third.remaining) == (0, 20, 70)


def test_taking_more_than_the_lots_hold_takes_what_there_is():
    first, second = a_lot(1, 30), a_lot(2, 0)
    assert taken(lots.take([first, second], 100)) == [(1, 30)]


def test_a_hold_moves_points_from_remaining_to_held():
    first, second = a_lot(1, 30), a_lot(2, 50)
    assert taken(lots.hold([first, second], 40)) == [(1, 30), (2, 10)]
    assert (first.remaining, first.held, second.remaining, second.held) == (0, 30, 40, 10)


def test_releasing_a_hold_captures_from_its_parts_in_order_and_gives_the_rest_back():
    first, second = a_lot(1, 0, held=30), a_lot(2, 40, held=10)
    captured = lots.release([(first, 30), (second, 10)], captured=35)
    assert taken(captured) == [(1, 30), (2, 5)]
    assert (first.remaining, first.held, second.remaining, second.held) == (0, 0, 45, 0)


def test_voiding_a_hold_gives_every_point_back_to_its_lot():
    first, second = a_lot(1, 0, held=30), a_lot(2, 40, held=10)
    assert lots.release([(first, 30), (second, 10)], captured=0) == []
    assert (first.remaining, first.held, second.remaining, second.held) == (30, 0, 50, 0)


# ---- clawback -------------------------------------------------------------------------------


def test_a_clawback_takes_the_sales_own_lots_first_even_frozen_then_spendable_ones():
    own_frozen = a_lot(7, 40, since=DAY, created=timedelta(0))
    spendable = lots.spendable([a_lot(1, 100, burns=DAY), a_lot(2, 100)], NOW)
    order = lots.clawback_order([own_frozen], spendable, NOW)
    assert taken(lots.take(order, 60)) == [(7, 40), (1, 20)]


def test_a_clawback_skips_own_lots_that_burnt_or_are_empty_and_counts_a_lot_once():
    burnt = a_lot(3, 50, since=-3 * DAY, burns=-DAY)
    empty = a_lot(4, 0)
    own_spendable = a_lot(5, 20)
    spendable = lots.spendable([a_lot(1, 100, burns=DAY), a_lot(5, 20)], NOW)
    order = lots.clawback_order([burnt, empty, own_spendable], spendable, NOW)
    assert ids(order) == [5, 1]


# ---- the split at a moment ------------------------------------------------------------------


def test_the_split_puts_points_where_they_stand_at_the_moment():
    found = [
        a_lot(1, 100, held=5),  # available
        a_lot(2, 200, since=DAY),  # frozen
        a_lot(3, 300, since=-3 * DAY, burns=-DAY),  # burnt
        a_lot(4, 400, since=-3 * DAY, burns=timedelta(0)),  # burns this very moment
    ]
    assert lots.split(found, NOW) == lots.Split(available=100, pending=200, expired=700, held=5)


# ---- a new lot's dates ----------------------------------------------------------------------


def test_a_new_lot_counts_its_lifetime_from_when_its_points_become_available():
    dates = lots.opening_dates(NOW, freeze_days=3, lifetime_days=10, lifetime_from_accrual=False)
    assert dates == (NOW + 3 * DAY, NOW + 13 * DAY)


def test_a_program_may_count_a_lots_lifetime_from_the_accrual_instead():
    dates = lots.opening_dates(NOW, freeze_days=3, lifetime_days=10, lifetime_from_accrual=True)
    assert dates == (NOW + 3 * DAY, NOW + 10 * DAY)


def test_dates_the_caller_gives_win_over_the_programs():
    given_from, given_expiry = NOW + DAY, NOW + 2 * DAY
    dates = lots.opening_dates(
        NOW,
        freeze_days=3,
        lifetime_days=None,
        lifetime_from_accrual=False,
        available_from=given_from,
        expires_at=given_expiry,
    )
    assert dates == (given_from, given_expiry)


# ---- refund shares --------------------------------------------------------------------------


def test_a_refund_share_is_rounded_down():
    assert lots.refund_share(100, Fraction(0), Fraction(1), Fraction(3)) == 33


# ---- properties -----------------------------------------------------------------------------

moments = st.integers(-5, 5).map(lambda days: NOW + days * DAY)


@st.composite
def lot_sets(draw, max_size=20):
    """Lots with distinct ids, any expiry (or none) after their start, ties in creation."""
    found = []
    for id in draw(st.lists(st.integers(1, 10_000), unique=True, max_size=max_size)):
        since = draw(st.integers(-5, 3))
        life = draw(st.none() | st.integers(1, 6))
        found.append(
            Lot(
                id,
                draw(st.integers(0, 500)),
                draw(st.sampled_from([0, 0, 0, 40])),
                available_from=NOW + since * DAY,
                expires_at=None if life is None else NOW + (since + life) * DAY,
                created_at=NOW + draw(st.integers(-3, 0)) * DAY,
            )
        )
    return found


@given(lot_sets(), st.integers(1, 5000))
def test_a_spend_takes_exactly_what_was_asked_or_all_there_is(found, amount):
    spendable = lots.spendable(found, NOW)
    before = sum(lot.remaining for lot in spendable)
    takes = lots.take(spendable, amount)
    assert sum(part for _, part in takes) == min(amount, before)
    assert all(part > 0 and lot.remaining >= 0 for lot, part in takes)
    # Only the last lot taken from may keep points: every one before it was emptied.
    assert all(lot.remaining == 0 for lot, _ in takes[:-1])


@given(lot_sets())
def test_the_spend_order_never_spends_a_later_burning_lot_before_an_earlier_one(found):
    spendable = lots.spendable(found, NOW)
    burns = [lot.expires_at or datetime.max.replace(tzinfo=UTC) for lot in spendable]
    assert burns == sorted(burns)
    assert sorted(ids(spendable)) == sorted(
        lot.id for lot in found if lot.remaining and lots.usable(lot, NOW)
    )


@given(lot_sets(), moments)
def test_every_remaining_point_is_in_exactly_one_place_of_the_split(found, now):
    split = lots.split(found, now)
    assert split.available + split.pending + split.expired == sum(lot.remaining for lot in found)
    assert split.available == sum(lot.remaining for lot in found if lots.usable(lot, now))
    assert split.held == sum(lot.held for lot in found)


@given(lot_sets(), st.integers(1, 2000), st.integers(0, 2000))
def test_a_hold_released_gives_back_all_it_did_not_capture(found, amount, capture):
    spendable = lots.spendable(found, NOW)
    before = {lot.id: (lot.remaining, lot.held) for lot in found}
    parts = lots.hold(spendable, amount)
    held = sum(part for _, part in parts)
    captured = lots.release(parts, min(capture, held))
    assert sum(part for _, part in captured) == min(capture, held)
    for lot in found:
        remaining, was_held = before[lot.id]
        spent = sum(part for other, part in captured if other is lot)
        assert (lot.remaining + spent, lot.held) == (remaining, was_held)


@given(
    st.integers(0, 10**9),
    st.lists(st.integers(1, 7), min_size=1, max_size=6),
    st.integers(1, 6),
)
def test_the_refund_shares_of_a_line_refunded_in_steps_add_up_to_its_value(value, steps, denom):
    total = Fraction(sum(steps), denom)
    done, shares = Fraction(0), []
    for step in steps:
        after = done + Fraction(step, denom)
        shares.append(lots.refund_share(value, done, after, total))
        done = after
    assert sum(shares) == value
    assert all(share >= 0 for share in shares)


@given(lot_sets(), lot_sets(max_size=3), st.integers(1, 3000))
def test_a_clawback_takes_nothing_twice_and_never_from_a_burnt_lot(found, own, amount):
    own_ids = {lot.id for lot in own}
    others = [lot for lot in found if lot.id not in own_ids]
    order = lots.clawback_order(own, lots.spendable(others, NOW), NOW)
    assert len(ids(order)) == len(set(ids(order)))
    assert not any(lots.burnt(lot, NOW) for lot in order)
    takes = lots.take(order, amount)
    own_taken = [lot.id for lot, _ in takes if lot.id in own_ids]
    assert ids(order)[: len(own_taken)] == own_taken

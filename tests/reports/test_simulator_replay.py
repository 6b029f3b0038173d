"""The simulator's replay over plain data (no database): the memo of engine answers changes
nothing, and every point stays accounted for."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from fractions import Fraction

from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from kopilka import rules
from kopilka.reports.sim_replay import OpeningLot, ReceiptRow, Replay, Seeds

T0 = datetime(2026, 3, 1, tzinfo=UTC)
PRICES = (10000, 25000, 99900)


def bonus(percent=5, share=30, lifetime=20, freeze=1):
    return rules.ProgramConfig(
        id=1,
        accrual_rules=(rules.AccrualRule(1, (rules.AccrualStep(0, Fraction(percent, 100)),)),),
        max_share=Fraction(share, 100),
        accrual_unit=1,
        freeze_days=freeze,
        lifetime_days=lifetime,
    )


def discount(percent=3):
    return rules.ProgramConfig(
        id=2, kind="fixed_discount", fixed_discount_percent=Fraction(percent, 100)
    )


receipt = st.tuples(
    st.integers(0, 3),  # customer (0: anonymous)
    st.lists(st.tuples(st.integers(0, 2), st.integers(1, 2)), min_size=1, max_size=2),
    st.sampled_from([0, 0, 500, 3000]),  # bonuses really spent
    st.integers(1, 72),  # hours since the previous receipt
    st.booleans(),  # refunded the next day (its first line)
)


def history(receipts):
    rows, refunds, now = [], [], T0
    for n, (customer, items, spent, hours, refunded) in enumerate(receipts, start=1):
        now += timedelta(hours=hours)
        lines = tuple(
            rules.CartLine(no, f"P{p}", qty, PRICES[p]) for no, (p, qty) in enumerate(items, 1)
        )
        key = tuple(
            (line.line_no, p, qty, line.unit_price)
            for line, (p, qty) in zip(lines, items, strict=True)
        )
        subtotal = sum(line.unit_price * line.qty for line in lines)
        row = ReceiptRow(n, now, customer or None, None, 1, False, spent, subtotal, lines, key)
        rows.append(row)
        if refunded:
            first = lines[0]
            refunds.append(
                ReceiptRow(
                    10_000 + n,
                    now + timedelta(days=1),
                    customer or None,
                    n,
                    1,
                    False,
                    0,
                    first.unit_price * first.qty,
                    ((1, Fraction(first.qty)),),
                )
            )
    stream = sorted(rows + refunds, key=lambda row: (row.occurred_at, row.id))
    seeds = Seeds(
        opening={
            c: [OpeningLot(c, 4000, T0 - timedelta(days=9), T0 + timedelta(days=5), T0)]
            for c in (1, 2, 3)
        },
        refunded=frozenset(r.refund_of for r in refunds),
    )
    return stream, seeds


def replay(configs, stream, seeds):
    run = Replay([(config, True) for config in configs], seeds, details=True)
    for row in stream:
        run.receipt(row)
    return run.finish(stream[-1].occurred_at + timedelta(days=60))


@hypothesis_settings(max_examples=60)
@given(st.lists(receipt, min_size=1, max_size=25), st.integers(0, 10), st.integers(0, 100))
def test_remembered_engine_answers_are_the_engine_answers(receipts, percent, share):
    stream, seeds = history(receipts)
    configs = [
        bonus(percent, share),
        discount(percent),
        # A combined program (the balance matters to the memo as in a bonus program), and a
        # lifetime counted from the accrual (remembered answers re-dated by the same rule).
        replace(bonus(percent, share), kind="combined", fixed_discount_percent=Fraction(3, 100)),
        replace(bonus(percent, share, lifetime=5, freeze=2), lifetime_from_accrual=True),
    ]
    # An active window that is always open keeps the answers and switches the memo off.
    unmemoized = [replace(c, active_from=datetime(2000, 1, 1, tzinfo=UTC)) for c in configs]
    assert replay(configs, stream, seeds) == replay(unmemoized, stream, seeds)


@hypothesis_settings(max_examples=60)
@given(st.lists(receipt, min_size=1, max_size=25), st.integers(0, 10), st.integers(0, 100))
def test_opening_plus_issued_less_spent_and_expired_is_what_is_left(receipts, percent, share):
    stream, seeds = history(receipts)
    [tally] = replay([bonus(percent, share)], stream, seeds)
    issued = tally.accrued + tally.campaign_bonus - tally.clawed_back
    spent = tally.spent - tally.returned
    assert tally.opening + tally.other_credits + issued - spent - tally.expired == tally.outstanding
    assert tally.opening == 12000

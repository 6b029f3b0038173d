"""A refund's share of each sold line: pure, no database."""

from decimal import Decimal
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kopilka.sales.exceptions import RefundExceedsSale
from kopilka.sales.services.refunds import refund_lines


def sold(qty, amount, discount=0, bonus_spent=0, accrued=0, pk=1, line_no=1):
    return SimpleNamespace(
        pk=pk,
        line_no=line_no,
        qty=Decimal(qty),
        amount=amount,
        discount=discount,
        bonus_spent=bonus_spent,
        accrued=accrued,
    )


def test_one_of_three_units_takes_a_third_of_each_figure_rounded_down():
    line = sold("3", amount=1000, discount=100, bonus_spent=200, accrued=35)
    [part] = refund_lines({1: line}, {}, {1: Decimal(1)})
    assert (part.amount, part.discount, part.bonus_spent, part.accrued) == (333, 33, 66, 11)
    assert part.to_pay == 333 - 33 - 66


def test_the_last_unit_takes_what_earlier_refunds_left():
    line = sold("3", amount=1000, discount=100, bonus_spent=200, accrued=35)
    [part] = refund_lines({1: line}, {1: Decimal(2)}, {1: Decimal(1)})
    # Two units earlier took 666, 66, 133 and 23.
    assert (part.amount, part.discount, part.bonus_spent, part.accrued) == (334, 34, 67, 12)


def test_more_than_was_sold_is_refused():
    line = sold("2", amount=500)
    with pytest.raises(RefundExceedsSale):
        refund_lines({1: line}, {1: Decimal(1)}, {1: Decimal("1.5")})


@given(
    units=st.integers(1, 20),
    amount=st.integers(0, 10**9),
    steps=st.lists(st.integers(1, 5), min_size=1, max_size=20),
)
def test_a_line_refunded_in_any_steps_comes_back_whole_to_the_kopeck(units, amount, steps):
    line = sold(str(units), amount=amount, discount=amount // 7, accrued=amount // 13)
    refunded, totals = Decimal(0), [0, 0, 0]
    for step in steps:
        qty = min(Decimal(step), Decimal(units) - refunded)
        if qty == 0:
            break
        [part] = refund_lines({1: line}, {1: refunded}, {1: qty})
        refunded += qty
        totals = [totals[0] + part.amount, totals[1] + part.discount, totals[2] + part.accrued]
    if refunded == units:
        assert totals == [line.amount, line.discount, line.accrued]
    else:
        wholes = [line.amount, line.discount, line.accrued]
        assert all(t <= whole for t, whole in zip(totals, wholes, strict=True))

"""Levels from seed 003 (cinema and bar): reached by bar / ticket spend or by 20 visits in
30 days, lost after a quiet month; cashback by category and a 10 % cap on tickets."""

from datetime import UTC, datetime
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from kopilka.rules import (
    Activity,
    Cart,
    CartLine,
    CustomerState,
    LevelConfig,
    ProgramConfig,
    quote,
)
from kopilka.rules.levels import reaches, standing

NOW = datetime(2026, 6, 1, tzinfo=UTC)
BAR, TICKETS = 1, 2
BRONZE = LevelConfig(
    id=1,
    name="Бронза",
    priority=1,
    cashback=Fraction(2, 100),
    max_share_by_segment=((TICKETS, Fraction(10, 100)),),
)
SILVER = LevelConfig(
    id=2,
    name="Серебро",
    priority=2,
    window_days=30,
    min_spend=500000,
    min_spend_by_segment=((BAR, 300000), (TICKETS, 200000)),
    min_visits=20,
    cashback_by_segment=((BAR, Fraction(5, 100)), (TICKETS, Fraction(3, 100))),
    cashback=Fraction(3, 100),
    max_share_by_segment=((TICKETS, Fraction(10, 100)),),
)
PROGRAM = ProgramConfig(id=1, levels=(BRONZE, SILVER))


def activity(spend=0, bar=0, tickets=0, visits=0):
    return ((30, Activity(spend, ((BAR, bar), (TICKETS, tickets)), visits)),)


def ticket(price, no=1):
    return CartLine(no, "TICKET", Fraction(1), price, segment_ids=frozenset({TICKETS}))


def beer(price, no=2):
    return CartLine(no, "BEER", Fraction(1), price, segment_ids=frozenset({BAR}))


def test_silver_is_reached_by_bar_and_ticket_spend_within_30_days():
    state = CustomerState(available=10**6, activity=activity(500000, 300000, 200000))
    outcome = quote(PROGRAM, state, Cart(lines=(beer(10000),)), now=NOW)
    assert outcome.level_before == SILVER
    assert outcome.lines[0].accrual == 500  # 5 % on the bar at silver


def test_silver_is_reached_by_20_visits_in_30_days_whatever_the_spend():
    state = CustomerState(activity=activity(visits=20))
    assert quote(PROGRAM, state, Cart(lines=(beer(100),)), now=NOW).level_before == SILVER


def test_segment_thresholds_must_each_be_met():
    state = CustomerState(activity=activity(600000, 400000, 100000))
    assert quote(PROGRAM, state, Cart(lines=(beer(100),)), now=NOW).level_before == BRONZE


def test_a_customer_who_stops_coming_falls_back_to_bronze():
    quiet = CustomerState(activity=activity())  # nothing within the last 30 days
    outcome = quote(PROGRAM, quiet, Cart(lines=(beer(10000),)), now=NOW)
    assert outcome.level_before == BRONZE
    assert outcome.lines[0].accrual == 200  # bronze cashback 2 %


def test_a_ticket_of_100_pays_at_most_10_bonuses_at_any_level():
    state = CustomerState(available=10**6, activity=activity(visits=25))
    outcome = quote(PROGRAM, state, Cart(lines=(ticket(10000),), requested_spend=None), now=NOW)
    assert (outcome.bonus_spent, outcome.to_pay) == (1000, 9000)


def test_the_quote_shows_the_level_after_the_receipt_and_the_way_to_the_next():
    state = CustomerState(activity=activity(450000, 280000, 200000, visits=18))
    before = quote(PROGRAM, state, Cart(lines=(ticket(1000),)), now=NOW)
    assert (before.level_before, before.level_after) == (BRONZE, BRONZE)
    assert before.next_level.spend == 500000 - (450000 + 1000)
    assert before.next_level.visits == 1  # 18 + this one: one more visit
    assert dict(before.next_level.spend_by_segment) == {BAR: 20000}
    promoted = quote(PROGRAM, state, Cart(lines=(beer(50000), ticket(1000, no=1))), now=NOW)
    assert promoted.level_after == SILVER


def test_a_manual_level_wins_until_it_ends():
    state = CustomerState(activity=activity(), manual_level_id=SILVER.id)
    assert quote(PROGRAM, state, Cart(lines=(beer(100),)), now=NOW).level_before == SILVER


def test_a_level_restricted_to_a_group_is_out_of_reach_for_others():
    vip = LevelConfig(id=3, name="VIP", priority=3, group_ids=frozenset({9}), min_visits=1)
    assert not reaches(vip, Activity(visits=5), frozenset())
    assert reaches(vip, Activity(visits=5), frozenset({9}))


amounts = st.integers(0, 10**7)


@given(amounts, amounts, amounts, st.integers(0, 60), amounts, amounts, st.integers(0, 30))
def test_level_never_drops_when_spend_or_visits_grow(
    spend, bar, tickets, visits, more, more_bar, more_visits
):
    def level_of(s, b, t, v):
        held = standing(PROGRAM.levels, dict(activity(s, b, t, v)), frozenset()).level
        return held.priority if held else 0

    assert level_of(spend + more, bar + more_bar, tickets, visits + more_visits) >= level_of(
        spend, bar, tickets, visits
    )

"""Which cap on payment by bonuses applies to a line: the most specific setting wins (a
level's cap for the line's segment, then the level's own cap, then the program's cap for the
segment, then the program's cap), and the quote's reasons name it. Worked by hand, in
kopecks: every line costs 100.00 (10000), and a customer holding the entry level "Gold"."""

from datetime import UTC, datetime
from fractions import Fraction

from kopilka.rules import Cart, CartLine, CustomerState, LevelConfig, ProgramConfig, quote

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
RICH = CustomerState(available=10**9)
TICKETS, BAR = 4, 7


def percent(n):
    return Fraction(n, 100)


def gold(**caps):
    # No thresholds: every customer holds it.
    return LevelConfig(id=2, name="Gold", priority=1, **caps)


def ticket_and_plain(config):
    cart = Cart(
        lines=(
            CartLine(1, "TICKET", Fraction(1), 10000, segment_ids=frozenset({TICKETS})),
            CartLine(2, "POPCORN", Fraction(1), 10000),
        ),
        requested_spend=None,
    )
    outcome = quote(config, RICH, cart, now=NOW)
    return [
        (o.bonus_cap, [(r.source, r.value) for r in o.reasons if r.code == "bonus_cap"])
        for o in outcome.lines
    ]


def test_a_levels_cap_for_a_segment_beats_the_programs_cap():
    # The tester's case: the level lets tickets be paid half with bonuses; the program's
    # 30 % stays for everything else (the level's bar cap does not touch popcorn).
    level = gold(max_share_by_segment=((TICKETS, percent(50)), (BAR, percent(60))))
    config = ProgramConfig(id=1, max_share=percent(30), levels=(level,))
    assert ticket_and_plain(config) == [
        (5000, [("level:2/segment:4", "50%")]),
        (3000, [("program:1", "30%")]),
    ]


def test_a_levels_own_cap_beats_the_programs_cap_for_a_segment():
    config = ProgramConfig(
        id=1,
        max_share=percent(30),
        segment_max_share=((TICKETS, percent(10)),),
        levels=(gold(max_share=percent(20)),),
    )
    assert ticket_and_plain(config) == [
        (2000, [("level:2", "20%")]),
        (2000, [("level:2", "20%")]),
    ]


def test_a_level_keeps_a_tighter_ticket_cap_only_by_saying_so_for_the_segment():
    config = ProgramConfig(
        id=1,
        max_share=percent(30),
        segment_max_share=((TICKETS, percent(10)),),
        levels=(gold(max_share=percent(20), max_share_by_segment=((TICKETS, percent(10)),)),),
    )
    assert ticket_and_plain(config) == [
        (1000, [("level:2/segment:4", "10%")]),
        (2000, [("level:2", "20%")]),
    ]


def test_the_programs_cap_for_a_segment_beats_the_programs_cap_even_when_looser():
    config = ProgramConfig(id=1, max_share=percent(30), segment_max_share=((TICKETS, percent(80)),))
    assert ticket_and_plain(config) == [
        (8000, [("segment:4", "80%")]),
        (3000, [("program:1", "30%")]),
    ]


def test_a_line_in_two_capped_segments_takes_the_tighter_of_the_same_step():
    config = ProgramConfig(
        id=1,
        max_share=percent(30),
        levels=(gold(max_share_by_segment=((TICKETS, percent(60)), (BAR, percent(40)))),),
    )
    cart = Cart(
        lines=(CartLine(1, "COMBO", Fraction(1), 10000, segment_ids=frozenset({TICKETS, BAR})),),
        requested_spend=None,
    )
    [line] = quote(config, RICH, cart, now=NOW).lines
    assert line.bonus_cap == 4000
    assert [r.source for r in line.reasons if r.code == "bonus_cap"] == ["level:2/segment:7"]


def test_a_whole_line_payable_names_no_cap():
    config = ProgramConfig(
        id=1, max_share=percent(30), levels=(gold(max_share_by_segment=((TICKETS, percent(100)),)),)
    )
    assert ticket_and_plain(config)[0] == (10000, [])

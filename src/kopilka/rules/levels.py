"""Levels (tiers): which one a customer holds, and how far the next one is.

A level is reached by its spend thresholds (the total and each segment's, within the level's
window) or by its visit count; a threshold of 0 is not used. The customer holds the
highest-priority level reached, so one who stops coming falls back down.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property


@dataclass(frozen=True)
class LevelConfig:
    id: int
    name: str
    priority: int  # 1 = the lowest
    group_ids: frozenset[int] = frozenset()  # empty: every customer may reach it
    window_days: int = 0  # 0: lifetime
    min_spend: int = 0
    min_spend_by_segment: tuple[tuple[int, int], ...] = ()
    min_visits: int = 0
    cashback: Fraction | None = None  # None: the program's accrual rules apply
    cashback_by_segment: tuple[tuple[int, Fraction], ...] = ()
    discount: Fraction | None = None  # accumulative-discount and combined programs
    max_share: Fraction | None = None
    max_share_by_segment: tuple[tuple[int, Fraction], ...] = ()
    lifetime_days: int | None = None
    freeze_days: int | None = None

    @cached_property
    def segment_caps(self) -> dict[int, Fraction]:
        return dict(self.max_share_by_segment)

    @property
    def has_spend_threshold(self) -> bool:
        return bool(self.min_spend or any(amount for _, amount in self.min_spend_by_segment))


@dataclass(frozen=True)
class Activity:
    """A customer's purchases within one window: refunds deducted from spend."""

    spend: int = 0
    spend_by_segment: tuple[tuple[int, int], ...] = ()
    visits: int = 0

    def segment(self, segment_id: int) -> int:
        return dict(self.spend_by_segment).get(segment_id, 0)

    def plus(self, spend: int, by_segment: dict[int, int], visits: int = 1) -> Activity:
        merged = dict(self.spend_by_segment)
        for segment_id, amount in by_segment.items():
            merged[segment_id] = merged.get(segment_id, 0) + amount
        return Activity(
            spend=self.spend + spend,
            spend_by_segment=tuple(sorted(merged.items())),
            visits=self.visits + visits,
        )


def purchase(lines, amounts, counted: frozenset[int] | None = None) -> tuple[int, dict[int, int]]:
    """What a receipt adds to a customer's activity: every line's amount after discounts, in
    total and per segment of the line (only the `counted` segments, when given). Excluded
    items count too: a level measures what the customer bought, not what earned bonuses
    (design handbook §7, step 7). The database's sums of past receipts follow the same rule
    (`programs.standing.activities_of`)."""
    by_segment: dict[int, int] = {}
    for line, amount in zip(lines, amounts, strict=True):
        segments = line.segment_ids if counted is None else line.segment_ids & counted
        for segment_id in segments:
            by_segment[segment_id] = by_segment.get(segment_id, 0) + amount
    return sum(amounts), by_segment


@dataclass(frozen=True)
class NextLevel:
    """What the customer still needs for the next level: the spend (total and per segment)
    or the visits; either path is enough when the level has both."""

    level_id: int
    name: str
    spend: int | None  # None: the level has no spend path
    spend_by_segment: tuple[tuple[int, int], ...] = ()
    visits: int | None = None  # None: the level has no visit path
    # How much of the way is behind the customer, in whole percent: the further of the two
    # paths (spend, visits); None when the level has no threshold to measure against.
    progress_percent: int | None = None


@dataclass(frozen=True)
class LevelStanding:
    level: LevelConfig | None
    next: NextLevel | None = None
    manual: bool = False
    reasons: tuple[str, ...] = field(default=())


def _spend_met(level: LevelConfig, activity: Activity) -> bool:
    return activity.spend >= level.min_spend and all(
        activity.segment(segment_id) >= amount for segment_id, amount in level.min_spend_by_segment
    )


def reaches(level: LevelConfig, activity: Activity, group_ids: frozenset[int]) -> bool:
    if level.group_ids and not level.group_ids & group_ids:
        return False
    by_spend = level.has_spend_threshold and _spend_met(level, activity)
    by_visits = bool(level.min_visits) and activity.visits >= level.min_visits
    if not level.has_spend_threshold and not level.min_visits:
        return True  # the entry level
    return by_spend or by_visits


def _activity(activities: dict[int, Activity], level: LevelConfig) -> Activity:
    return activities.get(level.window_days, Activity())


def standing(
    levels: tuple[LevelConfig, ...],
    activities: Mapping[int, Activity],
    group_ids: frozenset[int],
    manual_level_id: int | None = None,
) -> LevelStanding:
    """The level held (manual assignment first) and the distance to the next one."""
    ordered = sorted(levels, key=lambda level: (-level.priority, level.id))
    held = None
    manual = False
    if manual_level_id is not None:
        held = next((level for level in ordered if level.id == manual_level_id), None)
        manual = held is not None
    if held is None:
        held = next(
            (lv for lv in ordered if reaches(lv, _activity(activities, lv), group_ids)), None
        )
    return LevelStanding(
        level=held, next=_next(ordered, held, activities, group_ids), manual=manual
    )


def _next(ordered, held, activities, group_ids) -> NextLevel | None:
    floor = held.priority if held is not None else 0
    candidates = [
        level
        for level in reversed(ordered)
        if level.priority > floor and (not level.group_ids or level.group_ids & group_ids)
    ]
    if not candidates:
        return None
    level = candidates[0]
    activity = _activity(activities, level)
    spend = by_segment = None
    if level.has_spend_threshold:
        spend = max(0, level.min_spend - activity.spend)
        by_segment = tuple(
            (segment_id, max(0, amount - activity.segment(segment_id)))
            for segment_id, amount in level.min_spend_by_segment
            if amount > activity.segment(segment_id)
        )
    visits = max(0, level.min_visits - activity.visits) if level.min_visits else None
    shares = []
    if spend is not None and level.min_spend:
        shares.append(Fraction(level.min_spend - spend, level.min_spend))
    if visits is not None:
        shares.append(Fraction(level.min_visits - visits, level.min_visits))
    return NextLevel(
        level_id=level.id,
        name=level.name,
        spend=spend,
        spend_by_segment=by_segment or (),
        visits=visits,
        progress_percent=round(100 * max(shares)) if shares else None,
    )


@dataclass(frozen=True)
class LevelInputs:
    """What the level rule needs to know about one customer at a moment."""

    activity: tuple[tuple[int, Activity], ...] = ()  # (window days, activity)
    group_ids: frozenset[int] = frozenset()
    manual_level_id: int | None = None

    def standing(self, levels: tuple[LevelConfig, ...]) -> LevelStanding:
        return standing(levels, dict(self.activity), self.group_ids, self.manual_level_id)

"""When a new lot of bonuses becomes usable and when it burns: the one rule every face uses
(the engine for a receipt's accrual, the ledger when it opens a lot, the simulator).

A program counts a bonus's lifetime either from the accrual (seed 004: "from the moment of
accrual") or from the end of the freeze (so frozen points never lose any of their lifetime).
"""

from __future__ import annotations

from datetime import datetime, timedelta


def lot_terms(freeze_days: int, lifetime_days: int | None, level=None) -> tuple[int, int | None]:
    """The freeze and lifetime of points accrued at `level` (anything with `freeze_days` and
    `lifetime_days`, None: no level): the level's own where it sets them, else the program's."""
    if level is not None:
        if level.freeze_days is not None:
            freeze_days = level.freeze_days
        if level.lifetime_days is not None:
            lifetime_days = level.lifetime_days
    return freeze_days, lifetime_days


def lot_dates(
    now: datetime, *, freeze_days: int, lifetime_days: int | None, lifetime_from_accrual: bool
) -> tuple[datetime, datetime | None]:
    """(available_from, expires_at) of points accrued at `now`: usable after the freeze; they
    burn `lifetime_days` after the accrual or after the freeze ends (None: never burn)."""
    available_from = now + timedelta(days=freeze_days or 0)
    if not lifetime_days:
        return available_from, None
    start = now if lifetime_from_accrual else available_from
    return available_from, start + timedelta(days=lifetime_days)


def burns_before_usable(
    *, freeze_days: int | None, lifetime_days: int | None, lifetime_from_accrual: bool
) -> bool:
    """Whether points would burn before (or the moment) their freeze ends: a lifetime counted
    from the accrual that is not longer than the freeze. Such a configuration is refused."""
    return bool(lifetime_from_accrual and lifetime_days and (freeze_days or 0) >= lifetime_days)

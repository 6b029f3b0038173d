"""Reads of programs, and `to_rules`: a program as the engine's plain configuration."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from django.db.models import Q

from kopilka import rules

from .exceptions import ProgramNotFound
from .models import Level, LevelAssignment, Program


def share(percent: Decimal) -> Fraction:
    return Fraction(percent) / 100


def program_get(*, merchant, pk) -> Program:
    program = (
        Program.objects.filter(merchant=merchant, pk=pk).first() if str(pk).isdigit() else None
    )
    if program is None:
        raise ProgramNotFound(program=pk)
    return program


def program_for_receipts(*, merchant) -> Program | None:
    """The merchant's program for the till: the first enabled one (the oldest)."""
    return Program.objects.filter(merchant=merchant, enabled=True).order_by("id").first()


def to_rules(program: Program) -> rules.ProgramConfig:
    """The program and its rules as the engine's frozen configuration (4 queries)."""
    accrual_rules = tuple(
        rules.AccrualRule(
            id=rule.pk,
            steps=tuple(
                rules.AccrualStep(step.min_receipt_total, share(step.percent))
                for step in rule.steps.all()
            ),
            segment_ids=frozenset(segment.pk for segment in rule.segments.all()),
        )
        for rule in program.accrual_rules.prefetch_related("steps", "segments").order_by("id")
    )
    return rules.ProgramConfig(
        id=program.pk,
        kind=program.kind,
        enabled=program.enabled,
        active_from=program.active_from,
        active_to=program.active_to,
        fixed_discount_percent=share(program.fixed_discount_percent),
        discount_steps=tuple(
            rules.DiscountStep(step.min_purchase_total, share(step.percent))
            for step in program.discount_steps.order_by("min_purchase_total")
        ),
        max_share=share(program.max_share_percent),
        segment_max_share=tuple(
            (cap.segment_id, share(cap.max_share_percent))
            for cap in program.segment_caps.order_by("segment_id")
        ),
        spend_unit=100 if program.spend_whole_bonuses else 1,
        accrual_rules=accrual_rules,
        accrue_on_discounted=program.accrue_on_discounted,
        accrue_when_paid_with_bonuses=program.accrue_when_paid_with_bonuses,
        accrual_unit=100 if program.accrual_rounding == Program.Rounding.WHOLE else 1,
        freeze_days=program.freeze_days,
        lifetime_days=program.lifetime_days,
        levels=tuple(_level(level) for level in levels_of(program)),
    )


def levels_of(program: Program):
    return program.levels.prefetch_related("segments", "groups").order_by("priority")


def _maybe_share(percent: Decimal | None) -> Fraction | None:
    return None if percent is None else share(percent)


def _level(level: Level) -> rules.LevelConfig:
    segments = list(level.segments.all())
    return rules.LevelConfig(
        id=level.pk,
        name=level.name,
        priority=level.priority,
        group_ids=frozenset(group.pk for group in level.groups.all()),
        window_days=level.window_days,
        min_spend=level.min_spend,
        min_spend_by_segment=tuple((s.segment_id, s.min_spend) for s in segments if s.min_spend),
        min_visits=level.min_visits,
        cashback=_maybe_share(level.cashback_percent),
        cashback_by_segment=tuple(
            (s.segment_id, share(s.cashback_percent))
            for s in segments
            if s.cashback_percent is not None
        ),
        discount=_maybe_share(level.discount_percent),
        max_share=_maybe_share(level.max_share_percent),
        max_share_by_segment=tuple(
            (s.segment_id, share(s.max_share_percent))
            for s in segments
            if s.max_share_percent is not None
        ),
        lifetime_days=level.lifetime_days,
        freeze_days=level.freeze_days,
    )


def manual_level_id(*, customer, program: Program, now) -> int | None:
    """The level assigned by hand that is still in force, if any (the latest wins)."""
    assignment = (
        LevelAssignment.objects.filter(customer=customer, level__program=program)
        .filter(Q(until__isnull=True) | Q(until__gt=now))
        .order_by("-created_at", "-id")
        .first()
    )
    return assignment.level_id if assignment else None

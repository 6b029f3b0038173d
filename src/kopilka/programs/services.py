"""Writes of programs: create and change programs and their rules; enrol customers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kopilka.catalog.models import Segment
from kopilka.ledger import locks
from kopilka.ledger import services as ledger
from kopilka.ledger.models import Account, EntryKind
from kopilka.merchants.actors import Actor
from kopilka.merchants.services import audit_record

from .exceptions import InvalidProgram
from .models import (
    FIXED_OR_STEPS,
    AccrualRule,
    AccrualStep,
    Campaign,
    DiscountStep,
    Level,
    LevelAssignment,
    LevelSegment,
    Program,
    SegmentCap,
)


def _validated(obj):
    try:
        obj.full_clean()
    except ValidationError as error:
        raise InvalidProgram(fields=error.message_dict) from error
    return obj


def _segments(program: Program, segments: Iterable[Segment | int]) -> list[int]:
    ids = {s.pk if isinstance(s, Segment) else int(s) for s in segments}
    found = set(
        Segment.objects.filter(merchant_id=program.merchant_id, pk__in=ids).values_list(
            "pk", flat=True
        )
    )
    if found != ids:
        raise InvalidProgram(segments=sorted(ids - found))
    return sorted(ids)


@transaction.atomic
def program_create(
    *, merchant, name: str, actor: Actor, stores: Iterable | None = None, **fields
) -> Program:
    """A program; `stores` limits where it works (none: every store)."""
    program = _validated(Program(merchant=merchant, name=name, **fields))
    program.save()
    if stores:
        program.stores.set(_stores(merchant, stores))
    audit_record(merchant=merchant, actor=actor, action="program.create", obj=program)
    return program


@transaction.atomic
def program_update(
    *, program: Program, actor: Actor, stores: Iterable | None = None, **fields
) -> Program:
    """Change a program's settings; `stores` (None: unchanged) replaces where it works."""
    program = Program.objects.select_for_update().get(pk=program.pk)
    for name, value in fields.items():
        setattr(program, name, value)
    _validated(program).save()  # bumps updated_at: the till's cached configuration changes
    changed = sorted(fields)
    if stores is not None:
        program.stores.set(_stores(program.merchant, stores))
        changed.append("stores")
    audit_record(
        merchant=program.merchant,
        actor=actor,
        action="program.update",
        obj=program,
        data={"fields": changed},
    )
    return program


def _stores(merchant, stores: Iterable) -> list[int]:
    from kopilka.merchants.models import Store

    ids = {s.pk if isinstance(s, Store) else int(s) for s in stores}
    found = set(Store.objects.filter(merchant=merchant, pk__in=ids).values_list("pk", flat=True))
    if found != ids:
        raise InvalidProgram(fields={"stores": [_("Choose stores of this merchant.")]})
    return sorted(ids)


def _touch(program: Program) -> None:
    # Rules live in child rows; bumping updated_at tells readers the configuration changed.
    program.save(update_fields=["updated_at"])


@transaction.atomic
def accrual_rule_set(
    *,
    program: Program,
    steps: Iterable[tuple[int, Decimal | str | int]],
    actor: Actor,
    segments: Iterable[Segment | int] = (),
    name: str = "",
    rule: AccrualRule | None = None,
) -> AccrualRule:
    """Create or replace a rule: steps are (from receipt total in kopecks, percent)."""
    steps = sorted((int(m), Decimal(str(p))) for m, p in steps)
    if not steps:
        raise InvalidProgram(steps="at least one step")
    if len({m for m, _ in steps}) != len(steps):
        raise InvalidProgram(steps="duplicate thresholds")
    if rule is None:
        rule = AccrualRule.objects.create(program=program, name=name)
    else:
        rule = AccrualRule.objects.get(pk=rule.pk, program=program)
        rule.steps.all().delete()
    rule.segments.set(_segments(program, segments))
    for minimum, percent in steps:
        _validated(AccrualStep(rule=rule, min_receipt_total=minimum, percent=percent)).save()
    _touch(program)
    audit_record(
        merchant=program.merchant,
        actor=actor,
        action="program.accrual_rule_set",
        obj=program,
        data={"rule": rule.pk, "steps": [[m, str(p)] for m, p in steps]},
    )
    return rule


@transaction.atomic
def segment_cap_set(
    *, program: Program, segment: Segment, max_share_percent, actor: Actor
) -> SegmentCap:
    _segments(program, [segment])
    cap, _ = SegmentCap.objects.update_or_create(
        program=program,
        segment=segment,
        defaults={"max_share_percent": Decimal(str(max_share_percent))},
    )
    _validated(cap)
    _touch(program)
    audit_record(merchant=program.merchant, actor=actor, action="program.segment_cap", obj=cap)
    return cap


@transaction.atomic
def discount_steps_set(
    *, program: Program, steps: Iterable[tuple[int, Decimal | str | int]], actor: Actor
) -> None:
    steps = list(steps)
    if steps and program.kind == Program.Kind.COMBINED and program.fixed_discount_percent:
        raise InvalidProgram(FIXED_OR_STEPS, field="discount_steps")
    program.discount_steps.all().delete()
    for minimum, percent in sorted(steps):
        _validated(
            DiscountStep(
                program=program, min_purchase_total=int(minimum), percent=Decimal(str(percent))
            )
        ).save()
    _touch(program)
    audit_record(
        merchant=program.merchant, actor=actor, action="program.discount_steps", obj=program
    )


@transaction.atomic
def customer_enrol(*, customer, program: Program, actor: Actor, now=None) -> Account:
    """Open the customer's account in the program and give the welcome bonus once."""
    account = ledger.account_open(customer=customer, program=program, actor=actor)
    if program.welcome_bonus:
        [locked] = locks.lock_accounts([account.pk])
        if not locked.entries.filter(kind=EntryKind.WELCOME).exists():
            ledger.credit(
                account=locked,
                amount=program.welcome_bonus,
                kind=EntryKind.WELCOME,
                actor=actor,
                now=now,
                lifetime_days=program.welcome_lifetime_days,
            )
    return account


@transaction.atomic
def level_create(
    *,
    program: Program,
    name: str,
    priority: int,
    actor: Actor,
    segments: dict | None = None,
    groups: Iterable = (),
    **fields,
) -> Level:
    """A level with its per-segment figures: segments maps a segment to a dict of
    min_spend, cashback_percent, max_share_percent."""
    segments = segments or {}
    segment_spend = sum(int(figures.get("min_spend", 0)) for figures in segments.values())
    if fields.get("min_spend") and segment_spend > fields["min_spend"]:
        # Seed 003: bar and ticket thresholds "must not add up to more than the total".
        raise InvalidProgram(min_spend="segment thresholds exceed the total threshold")
    level = _validated(Level(program=program, name=name, priority=priority, **fields))
    level.save()
    level.groups.set(groups)
    _segments(program, segments.keys())
    for segment, figures in segments.items():
        _validated(LevelSegment(level=level, segment=segment, **figures)).save()
    _touch(program)
    audit_record(merchant=program.merchant, actor=actor, action="level.create", obj=level)
    return level


@transaction.atomic
def level_assign(
    *, customer, level: Level, actor: Actor, reason: str, until=None
) -> LevelAssignment:
    """Give a customer a level by hand until `until` (audited; a reason is required)."""
    if not reason or not reason.strip():
        raise InvalidProgram(reason="required")
    if customer.merchant_id != level.program.merchant_id:
        raise InvalidProgram(level=level.pk)
    assignment = LevelAssignment.objects.create(
        level=level, customer=customer, until=until, reason=reason, actor=str(actor)
    )
    audit_record(
        merchant=level.program.merchant,
        actor=actor,
        action="level.assign",
        obj=customer,
        reason=reason,
        data={"level": level.pk, "until": until.isoformat() if until else None},
    )
    return assignment


@transaction.atomic
def level_assignment_end(
    *, assignment: LevelAssignment, actor: Actor, reason: str, until=None, now=None
) -> LevelAssignment:
    """Move the end of a manual level that is still in force: to `until` (later or earlier,
    not in the past) or, without it, to now, which ends it at once. Audited with the reason;
    the level the customer then has is worked out as usual (the tick records the change)."""
    if not reason or not reason.strip():
        raise InvalidProgram(_("Say why the manual level ends."), field="change_reason")
    now = now or timezone.now()
    assignment = LevelAssignment.objects.select_for_update().get(pk=assignment.pk)
    if assignment.until is not None and assignment.until <= now:
        raise InvalidProgram(_("This manual level has already ended."), field="until")
    until = now if until is None else until
    if until < now:
        raise InvalidProgram(_("The end of a manual level cannot be in the past."), field="until")
    before = assignment.until
    assignment.until = until
    assignment.save(update_fields=["until"])
    audit_record(
        merchant=assignment.level.program.merchant,
        actor=actor,
        action="level.assignment_end",
        obj=assignment.customer,
        reason=reason,
        data={
            "assignment": assignment.pk,
            "level": assignment.level_id,
            "until_before": before.isoformat() if before else None,
            "until": until.isoformat(),
        },
    )
    return assignment


def next_local_midnight(merchant, moment) -> datetime:
    """The start of the day after `moment` in the merchant's time zone."""
    zone = ZoneInfo(merchant.time_zone)
    local = moment.astimezone(zone)
    return datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=zone)


@transaction.atomic
def campaign_create(
    *,
    merchant,
    name: str,
    kind: str,
    actor: Actor,
    program: Program | None = None,
    stores: Iterable = (),
    groups: Iterable = (),
    segment: Segment | None = None,
    starts_next_day: bool = False,
    now=None,
    **fields,
) -> Campaign:
    """A campaign; `starts_next_day` makes it start at the next midnight in the merchant's
    time zone (seed 004: "the campaign starts the next day")."""
    if program is not None and program.merchant_id != merchant.pk:
        raise InvalidProgram(program=program.pk)
    if segment is not None and segment.merchant_id != merchant.pk:
        raise InvalidProgram(segment=segment.pk)
    if starts_next_day:
        tomorrow = next_local_midnight(merchant, now or timezone.now())
        if fields.get("starts_at") is None or fields["starts_at"] < tomorrow:
            fields["starts_at"] = tomorrow
    campaign = _validated(
        Campaign(
            merchant=merchant, program=program, name=name, kind=kind, segment=segment, **fields
        )
    )
    campaign.save()
    campaign.stores.set([s for s in stores if s.merchant_id == merchant.pk])
    campaign.groups.set([g for g in groups if g.merchant_id == merchant.pk])
    audit_record(merchant=merchant, actor=actor, action="campaign.create", obj=campaign)
    return campaign


# --- back-office edits -------------------------------------------------------------------------


@transaction.atomic
def accrual_rule_delete(*, rule: AccrualRule, actor: Actor) -> None:
    """Drop an accrual rule with its steps; receipts already booked keep what they earned."""
    rule = AccrualRule.objects.select_related("program__merchant").get(pk=rule.pk)
    program, rule_id = rule.program, rule.pk
    rule.delete()
    _touch(program)
    audit_record(
        merchant=program.merchant,
        actor=actor,
        action="program.accrual_rule_delete",
        obj=program,
        data={"rule": rule_id},
    )


@transaction.atomic
def segment_cap_remove(*, program: Program, segment: Segment, actor: Actor) -> None:
    """Drop a segment's own cap: the program's (or level's) share applies to it again."""
    removed, _ = SegmentCap.objects.filter(program=program, segment=segment).delete()
    if removed:
        _touch(program)
        audit_record(
            merchant=program.merchant,
            actor=actor,
            action="program.segment_cap_remove",
            obj=program,
            data={"segment": segment.pk},
        )


@transaction.atomic
def level_update(
    *,
    level: Level,
    actor: Actor,
    segments: dict | None = None,
    groups: Iterable | None = None,
    **fields,
) -> Level:
    """Change a level's figures; `segments` (as for level_create) replaces its per-segment
    figures, `groups` its group restriction. None leaves either as it is."""
    level = Level.objects.select_for_update().select_related("program__merchant").get(pk=level.pk)
    program = level.program
    for name, value in fields.items():
        setattr(level, name, value)
    if segments is not None:
        segment_spend = sum(int(figures.get("min_spend", 0)) for figures in segments.values())
        if level.min_spend and segment_spend > level.min_spend:
            raise InvalidProgram(min_spend="segment thresholds exceed the total threshold")
    _validated(level).save()
    if groups is not None:
        level.groups.set([g for g in groups if g.merchant_id == program.merchant_id])
    if segments is not None:
        _segments(program, segments.keys())
        level.segments.all().delete()
        for segment, figures in segments.items():
            _validated(LevelSegment(level=level, segment=segment, **figures)).save()
    _touch(program)
    audit_record(
        merchant=program.merchant,
        actor=actor,
        action="level.update",
        obj=level,
        data={"fields": sorted(fields), "segments": segments is not None},
    )
    return level


@transaction.atomic
def campaign_update(
    *,
    campaign: Campaign,
    actor: Actor,
    stores: Iterable | None = None,
    groups: Iterable | None = None,
    **fields,
) -> Campaign:
    """Change a campaign; `stores` / `groups` (None: unchanged) replace its restrictions."""
    campaign = Campaign.objects.select_for_update().select_related("merchant").get(pk=campaign.pk)
    merchant = campaign.merchant
    program, segment = fields.get("program"), fields.get("segment")
    if program is not None and program.merchant_id != merchant.pk:
        raise InvalidProgram(program=program.pk)
    if segment is not None and segment.merchant_id != merchant.pk:
        raise InvalidProgram(segment=segment.pk)
    for name, value in fields.items():
        setattr(campaign, name, value)
    _validated(campaign).save()
    if stores is not None:
        campaign.stores.set([s for s in stores if s.merchant_id == merchant.pk])
    if groups is not None:
        campaign.groups.set([g for g in groups if g.merchant_id == merchant.pk])
    audit_record(
        merchant=merchant,
        actor=actor,
        action="campaign.update",
        obj=campaign,
        data={"fields": sorted(fields)},
    )
    return campaign

"""Writes of programs: create and change programs and their rules; enrol customers (at the
till and from the back office); balances changed by hand and opening balances imported."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import NamedTuple
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kopilka import bounds
from kopilka.catalog.models import Segment
from kopilka.customers import services as customers
from kopilka.customers import stats
from kopilka.customers.exceptions import CustomerAnonymised
from kopilka.customers.models import Customer
from kopilka.ledger import locks
from kopilka.ledger import services as ledger
from kopilka.ledger.exceptions import InvalidAmount
from kopilka.ledger.models import Account, Entry, EntryKind
from kopilka.limits import safe
from kopilka.limits import services as limits
from kopilka.limits.services import LimitExceeded, record_refusal
from kopilka.merchants.actors import Actor
from kopilka.merchants.models import AuditAction, Role
from kopilka.merchants.services import audit_record

from . import checks
from .exceptions import (
    AdjustLimitExceeded,
    AdjustNotAllowed,
    ArchivedConfiguration,
    ExpiryInPast,
    InvalidLevel,
    InvalidProgram,
    NoAccountToDebit,
    NoProgram,
    OpeningBalanceTooLarge,
)
from .models import (
    FIXED_OR_STEPS,
    AccrualRule,
    AccrualStep,
    Campaign,
    CampaignUse,
    DiscountStep,
    Level,
    LevelAssignment,
    LevelChange,
    LevelSegment,
    Program,
    SegmentCap,
)
from .selectors import program_of_customer

# What removing a switched-off or unwanted row did: history refers to it, so it was archived
# (kept for that history, out of the engine and the pickers), or nothing did and it is gone.
ARCHIVED, DELETED = "archived", "deleted"


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
    checks.check_grant(program.welcome_bonus, field="welcome_bonus")
    program.save()
    if stores:
        program.stores.set(_stores(merchant, stores))
    audit_record(merchant=merchant, actor=actor, action=AuditAction.PROGRAM_CREATE, obj=program)
    return program


@transaction.atomic
def program_update(
    *, program: Program, actor: Actor, stores: Iterable | None = None, **fields
) -> Program:
    """Change a program's settings; `stores` (None: unchanged) replaces where it works."""
    program = Program.objects.select_for_update().get(pk=program.pk)
    for name, value in fields.items():
        setattr(program, name, value)
    _validated(program)
    checks.check_grant(program.welcome_bonus, field="welcome_bonus")
    program.save()  # bumps updated_at: the till's cached configuration changes
    checks.check_program_kind(program)
    changed = sorted(fields)
    if stores is not None:
        program.stores.set(_stores(program.merchant, stores))
        changed.append("stores")
    audit_record(
        merchant=program.merchant,
        actor=actor,
        action=AuditAction.PROGRAM_UPDATE,
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
    checks.check_steps(steps)
    segment_ids = _segments(program, segments)
    if rule is not None:
        rule = AccrualRule.objects.get(pk=rule.pk, program=program)
        if rule.archived_at is not None:
            raise ArchivedConfiguration(field="segments")
    checks.check_accrual_rule_place(program, rule, segment_ids)
    if rule is None:
        rule = AccrualRule.objects.create(program=program, name=name)
    else:
        rule.steps.all().delete()
        if name != rule.name:
            rule.name = name
            rule.save(update_fields=["name"])
    rule.segments.set(segment_ids)
    for minimum, percent in steps:
        _validated(AccrualStep(rule=rule, min_receipt_total=minimum, percent=percent)).save()
    _touch(program)
    audit_record(
        merchant=program.merchant,
        actor=actor,
        action=AuditAction.PROGRAM_ACCRUAL_RULE_SET,
        obj=program,
        data={"rule": rule.pk, "steps": [[m, str(p)] for m, p in steps]},
    )
    return rule


@transaction.atomic
def segment_cap_set(
    *, program: Program, segment: Segment, max_share_percent, actor: Actor
) -> SegmentCap:
    _segments(program, [segment])
    checks.check_bonus_program(program, field="segment_caps")
    checks.check_percent(max_share_percent, field="segment_caps")
    cap, _ = SegmentCap.objects.update_or_create(
        program=program,
        segment=segment,
        defaults={"max_share_percent": Decimal(str(max_share_percent))},
    )
    _validated(cap)
    _touch(program)
    audit_record(
        merchant=program.merchant, actor=actor, action=AuditAction.PROGRAM_SEGMENT_CAP, obj=cap
    )
    return cap


@transaction.atomic
def discount_steps_set(
    *, program: Program, steps: Iterable[tuple[int, Decimal | str | int]], actor: Actor
) -> None:
    steps = sorted((int(m), Decimal(str(p))) for m, p in steps)
    if steps:
        if not checks.gives_discount_steps(program):
            raise InvalidProgram(
                _(
                    "Only an accumulative discount or a combined program gives discounts by "
                    "purchases total."
                ),
                field="discount_steps",
            )
        if program.kind == Program.Kind.COMBINED and program.fixed_discount_percent:
            raise InvalidProgram(FIXED_OR_STEPS, field="discount_steps")
        checks.check_steps(steps, error=InvalidProgram, field="discount_steps")
    program.discount_steps.all().delete()
    for minimum, percent in steps:
        _validated(
            DiscountStep(
                program=program, min_purchase_total=int(minimum), percent=Decimal(str(percent))
            )
        ).save()
    _touch(program)
    audit_record(
        merchant=program.merchant,
        actor=actor,
        action=AuditAction.PROGRAM_DISCOUNT_STEPS,
        obj=program,
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
    # Checked against the program as stored (its kind decides which figures a level may
    # carry), not against whatever copy the caller holds.
    program = Program.objects.select_for_update().get(pk=program.pk)
    segments = segments or {}
    segment_spend = sum(int(figures.get("min_spend", 0)) for figures in segments.values())
    if fields.get("min_spend") and segment_spend > fields["min_spend"]:
        # Seed 003: bar and ticket thresholds "must not add up to more than the total".
        raise InvalidProgram(
            _("The segments' thresholds add up to more than the total threshold."),
            field="min_spend",
        )
    level = _validated(Level(program=program, name=name, priority=priority, **fields))
    checks.check_level(level, segments)
    level.save()
    level.groups.set([g for g in groups if g.merchant_id == program.merchant_id])
    _segments(program, segments.keys())
    for segment, figures in segments.items():
        _validated(LevelSegment(level=level, segment=segment, **figures)).save()
    checks.check_levels_reachable(program)
    _touch(program)
    audit_record(merchant=program.merchant, actor=actor, action=AuditAction.LEVEL_CREATE, obj=level)
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
    if level.archived_at is not None:
        raise ArchivedConfiguration(field="level")
    assignment = LevelAssignment.objects.create(
        level=level, customer=customer, until=until, reason=reason, actor=str(actor)
    )
    audit_record(
        merchant=level.program.merchant,
        actor=actor,
        action=AuditAction.LEVEL_ASSIGN,
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
        action=AuditAction.LEVEL_ASSIGNMENT_END,
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
    campaign = Campaign(
        merchant=merchant, program=program, name=name, kind=kind, segment=segment, **fields
    )
    checks.check_campaign(campaign)
    _validated(campaign)
    campaign.save()
    campaign.stores.set([s for s in stores if s.merchant_id == merchant.pk])
    campaign.groups.set([g for g in groups if g.merchant_id == merchant.pk])
    checks.check_campaign_collisions(campaign)
    audit_record(merchant=merchant, actor=actor, action=AuditAction.CAMPAIGN_CREATE, obj=campaign)
    return campaign


# --- back-office edits -------------------------------------------------------------------------


@transaction.atomic
def segment_cap_remove(*, program: Program, segment: Segment, actor: Actor) -> None:
    """Drop a segment's own cap: the program's (or level's) share applies to it again."""
    removed, _ = SegmentCap.objects.filter(program=program, segment=segment).delete()
    if removed:
        _touch(program)
        audit_record(
            merchant=program.merchant,
            actor=actor,
            action=AuditAction.PROGRAM_SEGMENT_CAP_REMOVE,
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
    if level.archived_at is not None:
        raise ArchivedConfiguration(field="name")
    for name, value in fields.items():
        setattr(level, name, value)
    if segments is not None:
        segment_spend = sum(int(figures.get("min_spend", 0)) for figures in segments.values())
        if level.min_spend and segment_spend > level.min_spend:
            raise InvalidProgram(
                _("The segments' thresholds add up to more than the total threshold."),
                field="min_spend",
            )
    _validated(level)
    checks.check_level(
        level,
        segments
        if segments is not None
        else {
            row.segment_id: {
                "min_spend": row.min_spend,
                "cashback_percent": row.cashback_percent,
                "max_share_percent": row.max_share_percent,
            }
            for row in level.segments.all()
        },
    )
    level.save()
    if groups is not None:
        level.groups.set([g for g in groups if g.merchant_id == program.merchant_id])
    if segments is not None:
        _segments(program, segments.keys())
        level.segments.all().delete()
        for segment, figures in segments.items():
            _validated(LevelSegment(level=level, segment=segment, **figures)).save()
    checks.check_levels_reachable(program)
    _touch(program)
    audit_record(
        merchant=program.merchant,
        actor=actor,
        action=AuditAction.LEVEL_UPDATE,
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
    if campaign.archived_at is not None:
        raise ArchivedConfiguration(field="name")
    for name, value in fields.items():
        setattr(campaign, name, value)
    checks.check_campaign(campaign)
    _validated(campaign)
    campaign.save()
    if stores is not None:
        campaign.stores.set([s for s in stores if s.merchant_id == merchant.pk])
    if groups is not None:
        campaign.groups.set([g for g in groups if g.merchant_id == merchant.pk])
    checks.check_campaign_collisions(campaign)
    audit_record(
        merchant=merchant,
        actor=actor,
        action=AuditAction.CAMPAIGN_UPDATE,
        obj=campaign,
        data={"fields": sorted(fields)},
    )
    return campaign


# --- switching off and removing ----------------------------------------------------------------
#
# Levels, accrual rules and campaigns are switched off by archiving them: the engine and the
# pickers no longer see them, history (level changes, manual levels, campaign uses, receipts)
# still names them, and they can be switched on again. Removing one deletes it only while
# nothing may refer to it; otherwise it is archived. Receipts name the rules, levels and
# campaigns that shaped them in their reasons, so a row of a program (or, for a standalone
# campaign, of a merchant) that has booked receipts since it could apply is kept.


def _has_receipts(obj, *, program: Program | None = None, merchant=None, since=None) -> bool:
    """Whether receipts were booked (in the program, else of the merchant) since `obj` was
    created and since `since`: only those can name it."""
    from kopilka.sales.models import Receipt

    receipts = (
        Receipt.objects.filter(program=program)
        if program
        else Receipt.objects.filter(merchant=merchant)
    )
    moments = [m for m in (obj.created_at, since) if m is not None]
    if moments:
        receipts = receipts.filter(created_at__gte=max(moments))
    return receipts.exists()


def _switch(obj, *, on: bool, actor: Actor, merchant, action: AuditAction, program=None):
    obj.archived_at = None if on else timezone.now()
    obj.save(update_fields=["archived_at"])
    if program is not None:
        _touch(program)
    audit_record(merchant=merchant, actor=actor, action=action, obj=obj)
    return obj


def _removed(
    obj, *, referenced: bool, actor: Actor, merchant, action: AuditAction, program=None
) -> str:
    """Delete `obj`, or archive it when `referenced`; audited either way."""
    data = {"id": obj.pk, "name": str(obj)}
    if referenced:
        if obj.archived_at is None:
            obj.archived_at = timezone.now()
            obj.save(update_fields=["archived_at"])
        outcome = ARCHIVED
    else:
        obj.delete()
        outcome = DELETED
    if program is not None:
        _touch(program)
    audit_record(
        merchant=merchant,
        actor=actor,
        action=action,
        obj=program or merchant,
        data={**data, "outcome": outcome},
    )
    return outcome


def level_history_exists(level: Level) -> bool:
    """Whether history refers to the level: level changes, manual levels, or receipts of its
    program (their reasons and level figures name it)."""
    return (
        LevelChange.objects.filter(Q(from_level=level) | Q(to_level=level)).exists()
        or LevelAssignment.objects.filter(level=level).exists()
        or _has_receipts(level, program=level.program)
    )


@transaction.atomic
def level_switch(*, level: Level, on: bool, actor: Actor) -> Level:
    """Switch a level off (archived: the till no longer gives it; customers holding it move
    to the level they reach without it) or on again (checked like a new level)."""
    level = Level.objects.select_for_update().select_related("program__merchant").get(pk=level.pk)
    program = level.program
    if on and level.archived_at is not None:
        if Level.objects.filter(
            program=program, priority=level.priority, archived_at__isnull=True
        ).exists():
            raise InvalidLevel(
                _("Another level of this program has priority %(priority)s: change one first.")
                % {"priority": level.priority},
                field="priority",
            )
        level.archived_at = None
        level.save(update_fields=["archived_at"])
        checks.check_levels_reachable(program)
    action = AuditAction.LEVEL_SWITCH_ON if on else AuditAction.LEVEL_SWITCH_OFF
    return _switch(
        level, on=on, actor=actor, merchant=program.merchant, action=action, program=program
    )


@transaction.atomic
def level_remove(*, level: Level, actor: Actor) -> str:
    """Delete a level nothing refers to; archive one that history names. ARCHIVED/DELETED."""
    level = Level.objects.select_for_update().select_related("program__merchant").get(pk=level.pk)
    program = level.program
    return _removed(
        level,
        referenced=level_history_exists(level),
        actor=actor,
        merchant=program.merchant,
        action=AuditAction.LEVEL_REMOVE,
        program=program,
    )


def accrual_rule_history_exists(rule: AccrualRule) -> bool:
    """Receipts of the program may name the rule in their reasons."""
    return _has_receipts(rule, program=rule.program)


@transaction.atomic
def accrual_rule_switch(*, rule: AccrualRule, on: bool, actor: Actor) -> AccrualRule:
    rule = (
        AccrualRule.objects.select_for_update().select_related("program__merchant").get(pk=rule.pk)
    )
    program = rule.program
    if on and rule.archived_at is not None:
        checks.check_accrual_rule_place(
            program, rule, set(rule.segments.values_list("pk", flat=True))
        )
    action = (
        AuditAction.PROGRAM_ACCRUAL_RULE_SWITCH_ON
        if on
        else AuditAction.PROGRAM_ACCRUAL_RULE_SWITCH_OFF
    )
    return _switch(
        rule, on=on, actor=actor, merchant=program.merchant, action=action, program=program
    )


@transaction.atomic
def accrual_rule_delete(*, rule: AccrualRule, actor: Actor) -> str:
    """Remove an accrual rule with its steps; receipts already booked keep what they earned.
    Archived instead when receipts of the program may name it. ARCHIVED/DELETED."""
    rule = AccrualRule.objects.select_related("program__merchant").get(pk=rule.pk)
    program = rule.program
    return _removed(
        rule,
        referenced=accrual_rule_history_exists(rule),
        actor=actor,
        merchant=program.merchant,
        action=AuditAction.PROGRAM_ACCRUAL_RULE_DELETE,
        program=program,
    )


def campaign_history_exists(campaign: Campaign) -> bool:
    """Uses of the campaign, or receipts booked where and since it could apply (they name it
    in their reasons and applied campaigns)."""
    return CampaignUse.objects.filter(campaign=campaign).exists() or _has_receipts(
        campaign, program=campaign.program, merchant=campaign.merchant, since=campaign.starts_at
    )


@transaction.atomic
def campaign_switch(*, campaign: Campaign, on: bool, actor: Actor) -> Campaign:
    """Switch a removed (archived) campaign back on, or archive one. Pausing a campaign is
    its enabled flag (campaign_update)."""
    campaign = Campaign.objects.select_for_update().select_related("merchant").get(pk=campaign.pk)
    if on and campaign.archived_at is not None:
        campaign.archived_at = None
        checks.check_campaign(campaign)
        checks.check_campaign_collisions(campaign)
    action = AuditAction.CAMPAIGN_SWITCH_ON if on else AuditAction.CAMPAIGN_SWITCH_OFF
    return _switch(campaign, on=on, actor=actor, merchant=campaign.merchant, action=action)


@transaction.atomic
def campaign_remove(*, campaign: Campaign, actor: Actor) -> str:
    """Delete a campaign nothing refers to; archive one that history names."""
    campaign = (
        Campaign.objects.select_for_update(of=("self",))
        .select_related("merchant", "program")
        .get(pk=campaign.pk)
    )
    return _removed(
        campaign,
        referenced=campaign_history_exists(campaign),
        actor=actor,
        merchant=campaign.merchant,
        action=AuditAction.CAMPAIGN_REMOVE,
    )


# ---- enrolment and balances by hand (the back office) -----------------------------------------


class Enrolment(NamedTuple):
    account: Account
    created: bool  # the account was opened now
    welcome: int  # the welcome bonus given now, in minor units


def adjust_limit() -> int:
    """The most a marketer may credit or debit by hand in one operation, in minor units."""
    return getattr(settings, "KOPILKA_MARKETER_ADJUST_LIMIT", 100000)


@transaction.atomic
def customer_program_enrol(*, customer, actor: Actor, now=None) -> Enrolment | None:
    """Open the customer's account in their program (programs.selectors.program_of_customer)
    the way the till does: an active customer is enrolled with the welcome bonus, once
    (customer_enrol); a pending one gets the account alone and the bonus on confirmation,
    since an unconfirmed contact must not be worth points. Audited when something changed.
    None when the customer has no program (none is enabled)."""
    if customer.anonymised_at is not None:
        raise CustomerAnonymised(customer_id=customer.pk)
    program = program_of_customer(customer=customer, merchant=customer.merchant)
    if program is None:
        return None
    existing = Account.objects.filter(customer=customer, program=program).first()
    welcomed_before = _welcome_total(existing)
    if customer.status == Customer.Status.ACTIVE:
        account = customer_enrol(customer=customer, program=program, actor=actor, now=now)
    else:
        account = ledger.account_open(customer=customer, program=program, actor=actor)
    done = Enrolment(account, existing is None, _welcome_total(account) - welcomed_before)
    if done.created or done.welcome:
        audit_record(
            merchant=customer.merchant,
            actor=actor,
            action=AuditAction.ACCOUNT_OPEN if done.created else AuditAction.ACCOUNT_WELCOME,
            obj=account,
            data={"customer_id": customer.pk, "program_id": program.pk, "welcome": done.welcome},
        )
        stats.refresh_customer_balances([customer.pk], now=now or timezone.now())
    return done


def _welcome_total(account: Account | None) -> int:
    if account is None:
        return 0
    entries = Entry.objects.filter(account=account, kind=EntryKind.WELCOME)
    return entries.aggregate(total=Sum("amount"))["total"] or 0


@transaction.atomic
def customer_register_and_enrol(*, merchant, actor: Actor, **profile) -> Customer:
    """A customer added in the back office: registered (customers.services.customer_register)
    and, when active, enrolled in their program with the welcome bonus, as one registered at
    the till; account and welcome bonus with the customer or not at all."""
    customer = customers.customer_register(merchant=merchant, actor=actor, **profile)
    if customer.status == Customer.Status.ACTIVE:
        customer_program_enrol(customer=customer, actor=actor)
    return customer


@transaction.atomic
def customer_program_account_open(*, customer, actor: Actor, now=None) -> Enrolment:
    """The "Open a bonus account" button of the customer card: customer_program_enrol,
    refused (NoProgram) when the customer has no program."""
    done = customer_program_enrol(customer=customer, actor=actor, now=now)
    if done is None:
        raise NoProgram()
    return done


@transaction.atomic
def customer_activate(*, customer, actor: Actor, now=None) -> Enrolment | None:
    """Confirm a pending customer by hand (staff checked the contact) with what the till's
    confirmation by one-time code brings (sales.desk.customer_confirm_with_code): the status
    becomes active and the customer is enrolled with the welcome bonus. Confirming an active
    customer again changes nothing; a blocked one is refused by customer_confirm."""
    if customer.status == Customer.Status.ACTIVE:
        return None
    customer = customers.customer_confirm(customer=customer, actor=actor)
    return customer_program_enrol(customer=customer, actor=actor, now=now)


def balance_adjust(
    *, amount: int, reason: str, role: str, actor: Actor, account=None, customer=None, now=None
) -> list[Entry]:
    """Manual credit (amount > 0) or debit (< 0) by a staff member, within the limit of the
    role (auditors and cashiers none, marketers up to KOPILKA_MARKETER_ADJUST_LIMIT per
    operation) and the merchant's safe operations (per operation, per card and per staff
    member a day; a refusal is kept as an alert). Audited by ledger.manual_adjust; the
    list's balance snapshot follows.

    With `customer` instead of `account`: their account in their program, which a credit
    opens first (customer_program_enrol, welcome bonus included, outside the role's limit: it
    is the program's); a debit of an account that is not there is refused."""
    now = now or timezone.now()
    try:
        return _balance_adjust(
            amount=amount,
            reason=reason,
            role=role,
            actor=actor,
            account=account,
            customer=customer,
            now=now,
        )
    except LimitExceeded as refused:
        record_refusal(refused, now=now)
        raise


@transaction.atomic
def _balance_adjust(*, amount, reason, role, actor, account, customer, now) -> list[Entry]:
    if role not in (Role.OWNER, Role.ADMIN, Role.MARKETER):
        raise AdjustNotAllowed()
    if role == Role.MARKETER and abs(amount) > adjust_limit():
        raise AdjustLimitExceeded(limit=adjust_limit(), amount=amount)
    if account is None:
        program = program_of_customer(customer=customer, merchant=customer.merchant)
        if program is None:
            raise NoProgram()
        account = Account.objects.filter(customer=customer, program=program).first()
        if account is None and amount < 0:
            raise NoAccountToDebit()
        if account is None:
            account = customer_program_enrol(customer=customer, actor=actor, now=now).account
    [locked] = locks.lock_accounts([account.pk])
    if 0 < abs(amount) <= bounds.MAX_MANUAL_ADJUSTMENT:  # larger: the ledger refuses it
        staff_id = actor.id if actor.kind == "user" else None
        limits.enforce(
            merchant=account.customer.merchant,
            uses=safe.adjustment_uses(
                amount=amount, customer_id=account.customer_id, staff_id=staff_id
            ),
            who=limits.Who(customer_id=account.customer_id, staff_id=staff_id),
            now=now,
        )
    # Points added by hand burn like earned ones: after the program's bonus lifetime.
    lifetime = Program.objects.values_list("lifetime_days", flat=True).get(pk=locked.program_id)
    entries = ledger.manual_adjust(
        account=locked, amount=amount, actor=actor, reason=reason, now=now, lifetime_days=lifetime
    )
    stats.refresh_customer_balances([account.customer_id], now=now)
    return entries


def balance_import_expiry(*, merchant, expires_on: date | None, lifetime_days: int | None, now):
    """When an imported opening balance burns: at the end of `expires_on` (the merchant's
    day), else `lifetime_days` (the program's bonus lifetime) after `now`, the import; None:
    never. ExpiryInPast for a day before the merchant's today."""
    if expires_on is None:
        return now + timedelta(days=lifetime_days) if lifetime_days else None
    if expires_on < now.astimezone(ZoneInfo(merchant.time_zone)).date():
        raise ExpiryInPast.of(expires_on)
    zone = ZoneInfo(merchant.time_zone)
    return next_local_midnight(merchant, datetime.combine(expires_on, time(12), tzinfo=zone))


@transaction.atomic
def balance_import(
    *, customer, amount: int, actor: Actor, expires_on: date | None = None, now=None
) -> Entry:
    """An opening balance carried over from another system (the customer import): a
    `manual_credit` lot ("opening balance (import)") in the account of the customer's program,
    opened without the welcome bonus (the customer had their balance there, not a new
    enrolment). It burns at the end of `expires_on`, or, without one, after the program's
    bonus lifetime counted from the import. At most kopilka.bounds.MAX_OPENING_BALANCE;
    audited (ledger.balance_import). The caller refreshes the customers' balance figures."""
    if not isinstance(amount, int) or amount <= 0:
        raise InvalidAmount(field="opening_balance", value=str(amount))
    if amount > bounds.MAX_OPENING_BALANCE:
        raise OpeningBalanceTooLarge.of(amount)
    if customer.anonymised_at is not None:
        raise CustomerAnonymised(customer_id=customer.pk)
    now = now or timezone.now()
    program = program_of_customer(customer=customer, merchant=customer.merchant, now=now)
    if program is None:
        raise NoProgram(gettext("The merchant has no program for an opening balance."))
    expires_at = balance_import_expiry(
        merchant=customer.merchant,
        expires_on=expires_on,
        lifetime_days=program.lifetime_days,
        now=now,
    )
    account = ledger.account_open_locked(customer=customer, program=program, actor=actor)
    entry = ledger.credit(
        account=account,
        amount=amount,
        kind=EntryKind.MANUAL_CREDIT,
        reason=gettext("opening balance (import)"),
        actor=actor,
        now=now,
        available_from=now,
        expires_at=expires_at,
    )
    audit_record(
        merchant=customer.merchant,
        actor=actor,
        action=AuditAction.LEDGER_BALANCE_IMPORT,
        obj=account,
        reason=entry.reason,
        data={
            "customer_id": customer.pk,
            "program_id": program.pk,
            "amount": amount,
            "expires_at": expires_at.isoformat() if expires_at else None,
            "transfer_id": str(entry.transfer_id),
        },
    )
    return entry

"""Reads of programs, and `to_rules`: a program as the engine's plain configuration."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from django.db.models import BooleanField, Count, ExpressionWrapper, Q, prefetch_related_objects
from django.utils import timezone

from kopilka import rules
from kopilka.customers.models import Card

from . import sql
from .exceptions import ProgramNotFound
from .models import CampaignUse, Level, Program


def share(percent: Decimal) -> Fraction:
    return Fraction(percent) / 100


def program_get(*, merchant, pk) -> Program:
    program = (
        Program.objects.filter(merchant=merchant, pk=pk).first() if str(pk).isdigit() else None
    )
    if program is None:
        raise ProgramNotFound(program=pk)
    return program


def program_for_receipts(*, merchant, now=None) -> Program | None:
    """The merchant's default program (for customers without a typed card, and anonymous
    receipts): the oldest enabled program whose period includes `now`; when none does, the
    oldest enabled one (which then gives nothing, as outside its period). So a program that
    ended yesterday gives way to the one that started today."""
    now = now or timezone.now()
    in_period = (Q(active_from__isnull=True) | Q(active_from__lte=now)) & (
        Q(active_to__isnull=True) | Q(active_to__gt=now)
    )
    return (
        Program.objects.filter(merchant=merchant, enabled=True)
        .annotate(current=ExpressionWrapper(in_period, output_field=BooleanField()))
        .order_by("-current", "id")
        .first()
    )


# A card decides its customer's program while it is the customer's card: active or blocked
# (blocking a card must not move anyone between programs), not once reported lost.
CARD_STATUSES_WITH_PROGRAM = (Card.Status.ACTIVE, Card.Status.BLOCKED)


def program_of_customer(
    *, customer, merchant, card: Card | None = None, now=None
) -> Program | None:
    """The program a customer earns and spends in.

    With `card` (the card the till scanned, of this customer): that card's type decides, when
    it has one. Otherwise the newest of the customer's cards that has a type and is not lost
    decides. A customer without typed cards is in the merchant's default program
    (`program_for_receipts`). A type's program counts even when disabled: the engine then
    gives nothing, as for any disabled program. One query.
    """
    if card is not None and card.card_type_id is not None and card.customer_id == customer.pk:
        return card.card_type.program
    return sql.program_of_customer(
        merchant_id=merchant.pk,
        customer_id=customer.pk,
        statuses=CARD_STATUSES_WITH_PROGRAM,
        now=now or timezone.now(),
    )


def programs_of_customers(*, merchant, customer_ids, default: int | None = None) -> dict:
    """{customer id: program id} by the rule of `program_of_customer` (without a scanned
    card) for many customers in one query; those without a typed card get `default`."""
    result = dict.fromkeys(customer_ids, default)
    rows = (
        Card.objects.filter(
            merchant=merchant,
            customer_id__in=list(result),
            card_type__isnull=False,
            status__in=CARD_STATUSES_WITH_PROGRAM,
        )
        .order_by("customer_id", "-issued_at", "-id")
        .values_list("customer_id", "card_type__program_id")
    )
    seen = set()
    for customer_id, program_id in rows:
        if customer_id not in seen:
            seen.add(customer_id)
            result[customer_id] = program_id
    return result


# Built configurations by (program id, updated_at). Every change of a program's rules, steps,
# caps, levels or stores bumps `updated_at` (the services, and `signals` for any ORM save or
# delete, the shell's and the admin's included), so a changed program gets a new key on every
# process: the till reads the program row anyway. The engine's inputs are frozen, so sharing
# them between requests is safe. Campaigns are read on every quote, not cached.
_CONFIGS: dict[tuple[int, object], rules.ProgramConfig] = {}
_CONFIGS_MAX = 256


def to_rules(program: Program) -> rules.ProgramConfig:
    """The program and its rules as the engine's frozen configuration (cached per version)."""
    key = (program.pk, program.updated_at)
    config = _CONFIGS.get(key)
    if config is None:
        if len(_CONFIGS) >= _CONFIGS_MAX:
            _CONFIGS.clear()
        config = _CONFIGS[key] = _build_rules(program)
    return config


def level_configs(program: Program) -> tuple[rules.LevelConfig, ...]:
    """The program's levels as the engine sees them (from the cached configuration)."""
    return to_rules(program).levels


def _build_rules(program: Program) -> rules.ProgramConfig:
    accrual_rules = tuple(
        rules.AccrualRule(
            id=rule.pk,
            steps=tuple(
                rules.AccrualStep(step.min_receipt_total, share(step.percent))
                for step in rule.steps.all()
            ),
            segment_ids=frozenset(segment.pk for segment in rule.segments.all()),
        )
        for rule in program.accrual_rules.filter(archived_at__isnull=True)
        .prefetch_related("steps", "segments")
        .order_by("id")
    )
    return rules.ProgramConfig(
        id=program.pk,
        kind=program.kind,
        enabled=program.enabled,
        active_from=program.active_from,
        active_to=program.active_to,
        store_ids=frozenset(program.stores.values_list("pk", flat=True)) or None,
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
        lifetime_from_accrual=program.lifetime_from_accrual,
        levels=tuple(_level(level) for level in levels_of(program)),
    )


def levels_of(program: Program):
    """The program's levels in force (not switched off), lowest first."""
    return (
        program.levels.filter(archived_at__isnull=True)
        .prefetch_related("segments", "groups")
        .order_by("priority")
    )


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


def campaigns_for(*, merchant, program: Program | None, customer=None) -> tuple:
    """The merchant's enabled till campaigns for this program (and the standalone ones), as
    the engine's configuration, with the customer's remaining uses (one query when there are
    none, up to four)."""
    from kopilka.rules.campaigns import Campaign as RuleCampaign

    campaigns = sql.till_campaigns(
        merchant_id=merchant.pk, program_id=program.pk if program else None
    )
    if not campaigns:
        return ()
    prefetch_related_objects(campaigns, "stores", "groups")
    used: dict[int, int] = {}
    limited = [c.pk for c in campaigns if c.usage_limit is not None]
    if customer is not None and limited:
        used = dict(
            CampaignUse.objects.filter(customer=customer, campaign_id__in=limited)
            .values("campaign_id")
            .annotate(n=Count("id"))
            .values_list("campaign_id", "n")
        )
    return tuple(
        RuleCampaign(
            id=c.pk,
            kind=c.kind,
            priority=c.priority,
            exclusive=c.exclusive,
            starts_at=c.starts_at,
            ends_at=c.ends_at,
            store_ids=frozenset(s.pk for s in c.stores.all()),
            segment_ids=frozenset({c.segment_id}) if c.segment_id else frozenset(),
            group_ids=frozenset(g.pk for g in c.groups.all()),
            uses_left=None if c.usage_limit is None else max(0, c.usage_limit - used.get(c.pk, 0)),
            n=c.n,
            set_skus=tuple((str(i.get("sku", "")), int(i.get("qty", 0))) for i in c.set_items),
            gift_sku=c.gift_sku,
            multiplier=Fraction(c.multiplier),
            extra_percent=share(c.extra_percent),
            fixed_bonus=c.bonus,
            min_qualifying_amount=c.min_amount,
        )
        for c in campaigns
    )

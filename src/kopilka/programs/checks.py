"""What the engine would ignore or fail on, refused before it is saved.

A setting that silently does nothing is worse than an error: every service that creates or
changes accrual rules, levels, caps, discount steps or campaigns calls these checks, and each
refusal is a typed error naming the field it is about (the back office shows it on the form,
the API in its problem document). What the engine does with each setting is in
`kopilka.rules` (engine.py, levels.py, campaigns.py); the checks follow it:

* accrual rules: a receipt line earns by one rule only (a segment rule covering it, else the
  program's one whole-receipt rule), so a second whole-receipt rule, or a segment in two
  rules, would be ignored; accrual, caps and per-level bonus figures only work in bonus
  programs, level discounts only in accumulative-discount programs;
* levels: a level without thresholds and groups is held by everyone, so no level below it
  could be reached;
* campaigns: see `check_campaign` and `check_campaign_collisions`.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Q
from django.utils.text import format_lazy
from django.utils.translation import gettext as _

from kopilka import bounds
from kopilka.rules.model import GIVES_BONUSES, GIVES_DISCOUNT_STEPS, GIVES_LEVEL_DISCOUNT

from .exceptions import (
    CampaignsCollide,
    InvalidAccrualRule,
    InvalidCampaign,
    InvalidLevel,
    InvalidProgram,
)
from .models import AccrualRule, Campaign, Level, Program


def gives_bonuses(program: Program) -> bool:
    """The engine accrues and takes payment by bonuses in bonus and combined programs (the
    engine's own rule: `rules.model.GIVES_BONUSES`)."""
    return program.kind in GIVES_BONUSES


def gives_level_discounts(program: Program) -> bool:
    """A level's discount replaces the program's discount in accumulative and combined
    programs; a fixed-discount program gives its fixed percent whatever the level."""
    return program.kind in GIVES_LEVEL_DISCOUNT


def gives_discount_steps(program: Program) -> bool:
    return program.kind in GIVES_DISCOUNT_STEPS


def check_percent(value, *, field: str, error=InvalidProgram) -> None:
    if value is not None and not Decimal(0) <= Decimal(str(value)) <= Decimal(100):
        raise error(_("A percent is between 0 and 100."), field=field)


def check_grant(value, *, field: str, error=InvalidProgram) -> None:
    """A bonus given at once (welcome, birthday, a campaign's fixed bonus): at most
    `bounds.MAX_BONUS_GRANT`, so no grant reaches the ledger's own limit."""
    if value is not None and int(value) > bounds.MAX_BONUS_GRANT:
        raise error(
            format_lazy(
                _("A bonus given at once is at most {maximum} bonuses."),
                maximum=bounds.MAX_BONUS_GRANT // 100,
            ),
            field=field,
        )


def check_threshold(value, *, field: str, error=InvalidProgram) -> None:
    if value is not None and int(value) < 0:
        raise error(_("A threshold cannot be negative."), field=field)


# --- accrual rules, caps, discount steps ---------------------------------------------------------


def check_bonus_program(program: Program, *, error=InvalidProgram, field: str = "program") -> None:
    if not gives_bonuses(program):
        raise error(
            _(
                "Only a bonus program accrues bonuses and takes payment by bonuses: in this "
                "program it would do nothing."
            ),
            field=field,
        )


def check_steps(steps, *, error=InvalidAccrualRule, field: str = "steps") -> None:
    """Steps are (threshold in kopecks, percent): at least one, thresholds distinct and not
    negative, percents 0 to 100."""
    if not steps:
        raise error(_("Give at least one step."), field=field)
    for minimum, percent in steps:
        check_threshold(minimum, field=field, error=error)
        check_percent(percent, field=field, error=error)
    if len({minimum for minimum, _percent in steps}) != len(steps):
        raise error(
            _("Two steps start at the same total: only one of them could count."), field=field
        )


def check_accrual_rule_place(program: Program, rule: AccrualRule | None, segment_ids) -> None:
    """A line earns by one rule: the program has at most one whole-receipt rule, and a
    segment belongs to one rule at most (rules switched off do not count)."""
    check_bonus_program(program, error=InvalidAccrualRule)
    others = AccrualRule.objects.filter(program=program, archived_at__isnull=True)
    if rule is not None:
        others = others.exclude(pk=rule.pk)
    segment_ids = set(segment_ids)
    for other in others.prefetch_related("segments").order_by("id"):
        theirs = {segment.pk: segment for segment in other.segments.all()}
        if not segment_ids and not theirs:
            raise InvalidAccrualRule(
                _(
                    "Rule “%(other)s” already covers the whole receipt: only one such rule "
                    "counts. Change that one, or choose segments for this one."
                )
                % {"other": other},
                field="segments",
            )
        shared = sorted(segment_ids & theirs.keys())
        if shared:
            raise InvalidAccrualRule(
                _(
                    "Segment “%(segment)s” is already in rule “%(other)s”: a line earns by one "
                    "rule only, so one of them would be ignored."
                )
                % {"segment": theirs[shared[0]], "other": other},
                field="segments",
            )


def check_program_kind(program: Program) -> None:
    """A program that stops giving bonuses must not keep rules and caps it would ignore."""
    if gives_bonuses(program) or not program.pk:
        return
    if (
        program.accrual_rules.filter(archived_at__isnull=True).exists()
        or program.segment_caps.exists()
    ):
        raise InvalidProgram(
            _(
                "This program has accrual rules or caps for segments, which only a bonus "
                "program uses: remove them or switch them off first."
            ),
            field="kind",
        )


# --- levels ------------------------------------------------------------------------------------

BONUS_LEVEL_FIGURES = ("cashback_percent", "max_share_percent", "lifetime_days", "freeze_days")


def check_level(level: Level, segments: dict | None) -> None:
    """A level's own figures, and its per-segment ones (segment -> dict of figures)."""
    program = level.program
    check_threshold(level.min_spend, field="min_spend", error=InvalidLevel)
    for name in ("cashback_percent", "discount_percent", "max_share_percent"):
        check_percent(getattr(level, name), field=name, error=InvalidLevel)
    if not gives_bonuses(program):
        for name in BONUS_LEVEL_FIGURES:
            if getattr(level, name) is not None:
                raise InvalidLevel(
                    _(
                        "Levels of a discount program give a discount: cashback, caps on "
                        "payment by bonuses, bonus lifetime and freeze would do nothing."
                    ),
                    field=name,
                )
    if level.discount_percent is not None and not gives_level_discounts(program):
        raise InvalidLevel(
            _("Only levels of an accumulative discount program give their own discount."),
            field="discount_percent",
        )
    for figures in (segments or {}).values():
        check_threshold(figures.get("min_spend"), field="segments", error=InvalidLevel)
        for name in ("cashback_percent", "max_share_percent"):
            check_percent(figures.get(name), field="segments", error=InvalidLevel)
            if figures.get(name) is not None and not gives_bonuses(program):
                raise InvalidLevel(
                    _(
                        "Levels of a discount program give a discount: cashback and caps "
                        "for segments would do nothing."
                    ),
                    field="segments",
                )


def _has_threshold(level: Level) -> bool:
    return bool(
        level.min_spend
        or level.min_visits
        or any(figures.min_spend for figures in level.segments.all())
    )


def check_levels_reachable(program: Program) -> None:
    """A level without thresholds and groups is held by every customer: no level below it
    could ever be reached (levels switched off do not count)."""
    levels = list(
        Level.objects.filter(program=program, archived_at__isnull=True)
        .prefetch_related("segments", "groups")
        .order_by("priority")
    )
    for top in levels:
        if _has_threshold(top) or top.groups.all():
            continue
        below = [level for level in levels if level.priority < top.priority]
        if below:
            raise InvalidLevel(
                _(
                    "Level “%(open)s” has no threshold and no groups, so every customer "
                    "holds it, and level “%(below)s” below it could never be reached. Give "
                    "it a threshold, or make it the lowest level."
                )
                % {"open": top, "below": below[-1]},
                field="priority",
            )


# --- campaigns ---------------------------------------------------------------------------------

K = Campaign.Kind
# The reward figures each kind uses; the engine ignores the others.
OWN_FIGURES = {
    K.NTH_FREE: {"n"},
    K.GIFT: {"set_items", "gift_sku"},
    K.MULTIPLIER: {"multiplier"},
    K.EXTRA_PERCENT: {"extra_percent"},
    # A fixed bonus on a receipt burns with the receipt's accrual (the program's or the
    # level's lifetime): a lifetime of its own would be ignored, so it is refused.
    K.FIXED_BONUS: {"bonus", "min_amount"},
    K.BIRTHDAY: {"bonus", "bonus_lifetime_days", "days_around"},
}
UNSET = {
    "n": 0,
    "set_items": [],
    "gift_sku": "",
    "multiplier": 1,
    "extra_percent": 0,
    "bonus": 0,
    "min_amount": 0,
    "bonus_lifetime_days": None,
    "days_around": 0,
}
ACCRUAL_KINDS = {K.MULTIPLIER, K.EXTRA_PERCENT, K.FIXED_BONUS, K.BIRTHDAY}


def check_campaign(campaign: Campaign) -> None:
    """The campaign's own settings (the collisions with others need its stores: see
    check_campaign_collisions)."""
    kind = campaign.kind
    own = OWN_FIGURES.get(kind, set())
    for name, unset in UNSET.items():
        value = getattr(campaign, name)
        if name not in own and value != unset and not (unset == [] and not value):
            label = Campaign._meta.get_field(name).verbose_name
            raise InvalidCampaign(
                _("“%(label)s” does nothing in a campaign of this kind: clear it.")
                % {"label": label},
                field=name,
            )
    if kind == K.NTH_FREE and (campaign.n or 0) < 2:
        raise InvalidCampaign(
            _("Every N-th item free needs N of 2 or more (2: every second item)."), field="n"
        )
    if kind == K.GIFT:
        _check_gift(campaign)
    if kind == K.MULTIPLIER:
        multiplier = Decimal(str(campaign.multiplier))
        if multiplier <= 0:
            raise InvalidCampaign(_("A multiplier must be above 0."), field="multiplier")
        if multiplier == 1:
            raise InvalidCampaign(
                _("A multiplier of 1 changes nothing: give another one."), field="multiplier"
            )
        if multiplier > bounds.MAX_CAMPAIGN_MULTIPLIER:
            raise InvalidCampaign(
                format_lazy(
                    _("A multiplier is at most {maximum}."), maximum=bounds.MAX_CAMPAIGN_MULTIPLIER
                ),
                field="multiplier",
            )
    if kind == K.EXTRA_PERCENT:
        extra = Decimal(str(campaign.extra_percent))
        if not Decimal(0) < extra <= Decimal(100):
            raise InvalidCampaign(
                _("The extra percent is above 0 and at most 100."), field="extra_percent"
            )
    if kind in (K.FIXED_BONUS, K.BIRTHDAY) and campaign.bonus <= 0:
        raise InvalidCampaign(_("Give the bonus, above 0."), field="bonus")
    check_grant(campaign.bonus, field="bonus", error=InvalidCampaign)
    check_threshold(campaign.min_amount, field="min_amount", error=InvalidCampaign)
    if campaign.usage_limit is not None and campaign.usage_limit < 1:
        raise InvalidCampaign(
            _("A limit of 0 uses means the campaign never applies: leave it empty for no limit."),
            field="usage_limit",
        )
    if campaign.starts_at and campaign.ends_at and campaign.ends_at <= campaign.starts_at:
        raise InvalidCampaign(_("The campaign must end after it starts."), field="ends_at")
    if kind in ACCRUAL_KINDS and campaign.program is not None:
        check_bonus_program(campaign.program, error=InvalidCampaign)


def _check_gift(campaign: Campaign) -> None:
    from kopilka.catalog.models import Product

    items = campaign.set_items
    well_formed = (
        isinstance(items, list)
        and items
        and all(
            isinstance(item, dict)
            and isinstance(item.get("sku"), str)
            and item["sku"].strip()
            and isinstance(item.get("qty"), int)
            and not isinstance(item.get("qty"), bool)
            and item["qty"] >= 1
            for item in items
        )
    )
    if not well_formed:
        raise InvalidCampaign(
            _(
                'List the set to buy as [{"sku": "A", "qty": 2}, …]: each item a product\'s '
                "SKU and a whole quantity of 1 or more."
            ),
            field="set_items",
        )
    if not campaign.gift_sku.strip():
        raise InvalidCampaign(_("Give the SKU of the gift."), field="gift_sku")
    wanted = {item["sku"] for item in items}
    known = set(
        Product.objects.filter(
            merchant_id=campaign.merchant_id, sku__in=[*wanted, campaign.gift_sku]
        ).values_list("sku", flat=True)
    )
    if campaign.gift_sku not in known:
        raise InvalidCampaign(
            _("No product has SKU “%(sku)s”.") % {"sku": campaign.gift_sku}, field="gift_sku"
        )
    unknown = sorted(wanted - known)
    if unknown:
        raise InvalidCampaign(
            _("No product has SKU “%(sku)s”.") % {"sku": unknown[0]}, field="set_items"
        )


def check_campaign_collisions(campaign: Campaign) -> None:
    """The engine orders the running campaigns by priority (higher first) and, at equal
    priority, by id; an exclusive campaign at the top shuts out the others, and below the top
    it is left out. So an exclusive campaign sharing its priority with another campaign
    that may run on the same receipt is decided by the order they were created in, which
    nobody chose. Two campaigns may run on the same receipt ("overlap") when both are
    enabled and not switched off, their programs meet (a standalone campaign joins every
    program's receipts), their periods intersect and their stores do (no stores: every
    store). Groups and segments do not separate them: a customer can be in several groups,
    and exclusivity is decided before the engine looks at the lines."""
    if not campaign.enabled or campaign.archived_at is not None or campaign.kind == K.BIRTHDAY:
        return
    others = (
        Campaign.objects.filter(
            merchant_id=campaign.merchant_id,
            enabled=True,
            archived_at__isnull=True,
            priority=campaign.priority,
        )
        .exclude(pk=campaign.pk)
        .exclude(kind=K.BIRTHDAY)
    )
    if not campaign.exclusive:
        others = others.filter(exclusive=True)
    if campaign.program_id is not None:
        others = others.filter(Q(program__isnull=True) | Q(program_id=campaign.program_id))
    if campaign.ends_at is not None:
        others = others.filter(Q(starts_at__isnull=True) | Q(starts_at__lt=campaign.ends_at))
    if campaign.starts_at is not None:
        others = others.filter(Q(ends_at__isnull=True) | Q(ends_at__gt=campaign.starts_at))
    mine = set(campaign.stores.values_list("pk", flat=True))
    for other in others.prefetch_related("stores").order_by("id"):
        theirs = {store.pk for store in other.stores.all()}
        if not mine or not theirs or mine & theirs:
            raise CampaignsCollide(
                _(
                    "Campaign “%(other)s” has the same priority and may run on the same "
                    "receipts, and one of the two is exclusive: which one wins would be left "
                    "to chance. Give them different priorities (higher wins), or separate "
                    "their periods or stores."
                )
                % {"other": other},
                field="priority",
            )

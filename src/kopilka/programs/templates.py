"""Programs to start from: the seeds' programs as data, and the one service that makes a
merchant's program from one of them.

Each template is what a seed describes, ready to adjust: a Kontur.Market-style bonus program
(seed 001), EvoBonus's frozen and burning bonuses with an "every 3rd item free" campaign
(seed 002), the cinema's levels over the bar and tickets (seed 003), the pharmacy's steps by
the receipt total (seed 004), an accumulative and a fixed discount (seed 001).
`program_from_template` builds it through the programs services (so `programs.checks` holds
it to what the engine honours), in one transaction, with one audit row naming the template.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kopilka.catalog import services as catalog
from kopilka.catalog.models import Segment
from kopilka.merchants.actors import Actor
from kopilka.merchants.models import AuditAction
from kopilka.merchants.services import audit_record

from . import services
from .exceptions import InvalidProgram
from .models import Campaign, Program

# The segments a template refers to, by key: the name each is found or created under.
SEGMENT_NAMES = {
    "bar": _("Bar"),
    "tickets": _("Tickets"),
}


@dataclass(frozen=True)
class LevelSpec:
    name: Promise
    priority: int
    fields: dict = field(default_factory=dict)
    # segment key -> figures (min_spend, cashback_percent, max_share_percent)
    segments: dict = field(default_factory=dict)


@dataclass(frozen=True)
class CampaignSpec:
    name: Promise
    kind: str
    fields: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ProgramTemplate:
    key: str
    name: Promise  # the program's name unless another is given
    source: Promise  # which seed it comes from
    summary: Promise  # what it does, with the seed's worked example
    program: dict = field(default_factory=dict)  # programs.services.program_create fields
    accrual_steps: tuple = ()  # whole receipt: (from receipt total in kopecks, percent)
    discount_steps: tuple = ()  # (from purchases total in kopecks, percent)
    segments: tuple = ()  # segment keys the program works with (found or made empty)
    segment_caps: tuple = ()  # (segment key, max share percent)
    levels: tuple[LevelSpec, ...] = ()
    campaigns: tuple[CampaignSpec, ...] = ()

    @property
    def segment_keys(self) -> list[str]:
        keys = [*self.segments, *(key for key, _share in self.segment_caps)]
        for level in self.levels:
            keys.extend(level.segments)
        return list(dict.fromkeys(keys))


TEMPLATES: tuple[ProgramTemplate, ...] = (
    ProgramTemplate(
        key="bonus",
        name=_("Bonus program"),
        source=_("Kontur.Market"),
        summary=_(
            "5 % back as bonuses on every purchase; bonuses pay up to 30 %: a receipt of "
            "1 000 ₽ earns 50 bonuses, and up to 300 ₽ of it can be paid with bonuses."
        ),
        program={"kind": Program.Kind.BONUS, "max_share_percent": Decimal(30)},
        accrual_steps=((0, Decimal(5)),),
    ),
    ProgramTemplate(
        key="frozen_burning",
        name=_("Frozen and burning bonuses"),
        source=_("EvoBonus"),
        summary=_(
            "5 % back as bonuses, usable 14 days after the purchase and burning 90 days "
            "after it; the campaign “Every 3rd item free”. A purchase on 1 March earns "
            "bonuses spendable from 15 March until 30 May."
        ),
        program={
            "kind": Program.Kind.BONUS,
            "freeze_days": 14,
            "lifetime_days": 90,
            "lifetime_start": Program.LifetimeStart.ACCRUAL,
        },
        accrual_steps=((0, Decimal(5)),),
        campaigns=(CampaignSpec(_("Every 3rd item free"), Campaign.Kind.NTH_FREE, {"n": 3}),),
    ),
    ProgramTemplate(
        key="cinema_levels",
        name=_("Cinema levels"),
        source=_("cinema and bar"),
        summary=_(
            "Levels by visits: “Guest” gets 5 % back, “Cinema lover” (20 visits in 30 "
            "days) 10 %; bonuses burn after 90 days; bonuses pay up to 10 % per ticket: "
            "a ticket of 100 ₽ is up to 10 bonuses + 90 ₽. Put your categories into the "
            "segments “Bar” and “Tickets”."
        ),
        program={"kind": Program.Kind.BONUS, "lifetime_days": 90},
        segments=("bar", "tickets"),
        segment_caps=(("tickets", Decimal(10)),),
        levels=(
            LevelSpec(_("Guest"), 1, {"cashback_percent": Decimal(5)}),
            LevelSpec(
                _("Cinema lover"),
                2,
                {"window_days": 30, "min_visits": 20, "cashback_percent": Decimal(10)},
            ),
        ),
    ),
    ProgramTemplate(
        key="pharmacy_steps",
        name=_("Steps by receipt total"),
        source=_("pharmacy"),
        summary=_(
            "2 % back below 5 000 ₽ in the receipt, 5 % back from 5 000 ₽: 4 900 ₽ earns 98 "
            "bonuses, 5 000 ₽ earns 250. Bonuses burn a year after the accrual."
        ),
        program={"kind": Program.Kind.BONUS, "lifetime_days": 365},
        accrual_steps=((0, Decimal(2)), (500000, Decimal(5))),
    ),
    ProgramTemplate(
        key="accumulative_discount",
        name=_("Accumulative discount"),
        source=_("Kontur.Market"),
        summary=_(
            "The discount grows with the customer's purchases: 10 000 ₽ bought, 3 %; "
            "30 000 ₽, 5 %; 50 000 ₽, 7 %. With 30 000 ₽ bought before, a purchase of "
            "1 000 ₽ costs 950 ₽."
        ),
        program={"kind": Program.Kind.ACCUMULATIVE_DISCOUNT},
        discount_steps=(
            (1000000, Decimal(3)),
            (3000000, Decimal(5)),
            (5000000, Decimal(7)),
        ),
    ),
    ProgramTemplate(
        key="fixed_discount",
        name=_("Fixed discount"),
        source=_("Kontur.Market"),
        summary=_("Every card holder gets a discount of 5 %: a purchase of 1 000 ₽ costs 950 ₽."),
        program={"kind": Program.Kind.FIXED_DISCOUNT, "fixed_discount_percent": Decimal(5)},
    ),
)

BY_KEY = {template.key: template for template in TEMPLATES}


def template_get(key: str) -> ProgramTemplate:
    try:
        return BY_KEY[key]
    except KeyError:
        raise InvalidProgram(
            _("There is no such template: choose one of the list."), field="template"
        ) from None


def _segment(merchant, key: str, actor: Actor) -> Segment:
    """The merchant's segment of that name, made (empty) when missing."""
    name = str(SEGMENT_NAMES[key])
    found = Segment.objects.filter(merchant=merchant, name=name).first()
    return found or catalog.segment_create(merchant=merchant, name=name, actor=actor)


@transaction.atomic
def program_from_template(
    *, merchant, template: ProgramTemplate | str, actor: Actor, name: str | None = None
) -> Program:
    """A new program of the merchant as the template describes it, with its accrual steps,
    caps, discount steps, levels and campaigns, each made by the programs services; segments
    it needs are found by name or made empty. All or nothing; audited."""
    if isinstance(template, str):
        template = template_get(template)
    name = (name or "").strip() or str(template.name)
    program = services.program_create(merchant=merchant, name=name, actor=actor, **template.program)
    segments = {key: _segment(merchant, key, actor) for key in template.segment_keys}
    if template.accrual_steps:
        services.accrual_rule_set(
            program=program,
            steps=template.accrual_steps,
            name=gettext("Whole receipt"),
            actor=actor,
        )
    for key, share in template.segment_caps:
        services.segment_cap_set(
            program=program, segment=segments[key], max_share_percent=share, actor=actor
        )
    if template.discount_steps:
        services.discount_steps_set(program=program, steps=template.discount_steps, actor=actor)
    for level in template.levels:
        services.level_create(
            program=program,
            name=str(level.name),
            priority=level.priority,
            segments={segments[key]: figures for key, figures in level.segments.items()},
            actor=actor,
            **level.fields,
        )
    for campaign in template.campaigns:
        services.campaign_create(
            merchant=merchant,
            program=program,
            name=str(campaign.name),
            kind=campaign.kind,
            actor=actor,
            **campaign.fields,
        )
    program.refresh_from_db()
    audit_record(
        merchant=merchant,
        actor=actor,
        action=AuditAction.PROGRAM_FROM_TEMPLATE,
        obj=program,
        data={"template": template.key},
    )
    return program

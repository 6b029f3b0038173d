"""Birthday bonuses: granted once a year on the birthday, or within N days around it, in the
merchant's time zone. Run by `kopilka tick`; safe to run twice or in parallel."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import reduce
from operator import or_
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from kopilka.customers.models import Customer
from kopilka.ledger import locks
from kopilka.ledger import services as ledger
from kopilka.ledger.models import EntryKind
from kopilka.merchants.actors import Actor

from .models import Campaign, CampaignUse
from .selectors import program_for_receipts

ACTOR = Actor.system("tick.birthdays")


def _occurrence(birthday: date, year: int) -> date:
    try:
        return birthday.replace(year=year)
    except ValueError:  # 29 February in a common year: celebrated on the 28th
        return date(year, 2, 28)


def birthdays_due(campaign: Campaign, today: date):
    """Customers whose birthday falls within the campaign's window around `today`, each with
    the year of that birthday (a window may straddle New Year)."""
    days = [
        today + timedelta(days=k) for k in range(-campaign.days_around, campaign.days_around + 1)
    ]
    matches = reduce(or_, (Q(birthday__month=d.month, birthday__day=d.day) for d in days))
    if any(d.month == 2 and d.day == 28 for d in days):
        matches |= Q(birthday__month=2, birthday__day=29)
    customers = Customer.objects.filter(
        matches,
        merchant_id=campaign.merchant_id,
        status=Customer.Status.ACTIVE,
        anonymised_at__isnull=True,
        birthday__isnull=False,
    )
    if campaign.groups.exists():
        customers = customers.filter(groups__in=campaign.groups.all()).distinct()
    for customer in customers.iterator():
        for year in {d.year for d in days}:
            if _occurrence(customer.birthday, year) in days:
                yield customer, year


def grant_birthday_bonuses(*, now: datetime | None = None) -> int:
    """Credit every due birthday bonus not granted yet this year. Returns how many."""
    now = now or timezone.now()
    granted = 0
    campaigns = Campaign.objects.filter(
        kind=Campaign.Kind.BIRTHDAY, enabled=True, bonus__gt=0, archived_at__isnull=True
    ).select_related("merchant", "program")
    for campaign in campaigns:
        if (campaign.starts_at and now < campaign.starts_at) or (
            campaign.ends_at and now >= campaign.ends_at
        ):
            continue
        program = campaign.program or program_for_receipts(merchant=campaign.merchant)
        if program is None:
            continue
        today = now.astimezone(ZoneInfo(campaign.merchant.time_zone)).date()
        for customer, year in birthdays_due(campaign, today):
            granted += _grant(campaign, program, customer, year, now)
    return granted


def _grant(campaign, program, customer, year, now) -> int:
    try:
        with transaction.atomic():
            # The use row first: its unique (campaign, customer, year) makes a parallel tick
            # fail here instead of granting twice.
            CampaignUse.objects.create(campaign=campaign, customer=customer, year=year)
            account = ledger.account_open(customer=customer, program=program, actor=ACTOR)
            [locked] = locks.lock_accounts([account.pk])
            ledger.credit(
                account=locked,
                amount=campaign.bonus,
                kind=EntryKind.BIRTHDAY,
                actor=ACTOR,
                reason=campaign.name,
                now=now,
                # The campaign's own lifetime, else the program's: a birthday bonus burns like
                # any other unless the campaign says otherwise.
                lifetime_days=campaign.bonus_lifetime_days
                if campaign.bonus_lifetime_days is not None
                else program.lifetime_days,
            )
    except IntegrityError:
        return 0
    return 1

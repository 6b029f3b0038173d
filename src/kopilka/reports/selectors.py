"""The reports' figures: read from the daily rollups (fast over years of receipts), except the
few that are about the present (bonuses at risk, levels), read from the raw rows by index.

Periods are merchant-local days, `start` and `end` inclusive, grouped into buckets of a day,
an ISO week (from Monday) or a calendar month. Store filters apply to sales and to bonus
movements of receipts; the outstanding balance belongs to no store and ignores them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, Max, Min, Q, Sum
from django.utils import timezone

from kopilka.customers.models import Card
from kopilka.ledger.selectors import lots_expiring
from kopilka.merchants.models import Merchant
from kopilka.programs.models import CampaignUse, LevelChange
from kopilka.sales.models import Receipt

from . import figures, rollups

BUCKETS = ("day", "week", "month")


def bucket_of(day: date, bucket: str) -> date:
    """The first day of the bucket holding `day`."""
    if bucket == "day":
        return day
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    if bucket == "month":
        return day.replace(day=1)
    raise ValueError(f"unknown bucket {bucket!r}; one of {BUCKETS}")


def bucket_starts(start: date, end: date, bucket: str) -> list[date]:
    """Every bucket of the period in order, empty ones included (a chart needs its gaps)."""
    starts, day = [], bucket_of(start, bucket)
    while day <= end:
        starts.append(day)
        if bucket == "day":
            day += timedelta(days=1)
        elif bucket == "week":
            day += timedelta(days=7)
        else:
            day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return starts


def _stores(queryset, store_ids: Iterable[int] | None):
    return queryset if store_ids is None else queryset.filter(store_id__in=list(store_ids))


# ---- customers: new / loyal / other (seed 001) ------------------------------------------------


@dataclass(frozen=True)
class Group:
    receipts: int = 0
    revenue: int = 0

    @property
    def average(self) -> int:
        """Average receipt in kopecks, rounded down."""
        return self.revenue // self.receipts if self.receipts else 0


@dataclass(frozen=True)
class MixRow:
    bucket: date
    new_customers: int
    new: Group
    loyal: Group
    other: Group

    @property
    def receipts(self) -> int:
        return self.new.receipts + self.loyal.receipts + self.other.receipts

    @property
    def revenue(self) -> int:
        return self.new.revenue + self.loyal.revenue + self.other.revenue

    def share(self, group: str) -> float:
        """The group's share of receipts, 0..1."""
        total = self.receipts
        return getattr(self, group).receipts / total if total else 0.0


def customer_mix(
    *,
    merchant: Merchant,
    start: date,
    end: date,
    bucket: str = "day",
    store_ids: Iterable[int] | None = None,
    now: datetime | None = None,
) -> list[MixRow]:
    """Receipts and revenue of new customers (on the day of their first purchase), loyal ones
    (returning customers with a card) and other receipts (no card), per bucket."""
    days = figures.sales_days(
        merchant=merchant, start=start, end=end, now=now or timezone.now(), store_ids=store_ids
    )
    sums: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for day, values in days.items():
        target = sums[bucket_of(day, bucket)]
        for name, value in values.items():
            target[name] += value
    result = []
    for first in bucket_starts(start, end, bucket):
        f = sums[first]
        result.append(
            MixRow(
                bucket=first,
                new_customers=f["new_customers"],
                new=Group(f["new_receipts"], f["new_revenue"]),
                loyal=Group(
                    f["card_receipts"] - f["new_receipts"], f["card_revenue"] - f["new_revenue"]
                ),
                other=Group(f["receipts"] - f["card_receipts"], f["revenue"] - f["card_revenue"]),
            )
        )
    return result


# ---- bonuses ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class BonusRow:
    bucket: date
    amounts: dict[str, int]  # by BONUS_GROUPS name (spent, expired, clawed_back as positive)
    outstanding: int  # available + pending (frozen) + held at the end of the bucket
    payments: int = 0  # receipts paid (partly) with bonuses

    def __getattr__(self, name: str) -> int:
        if name in figures.BONUS_GROUPS:
            return self.amounts.get(name, 0)
        raise AttributeError(name)


@dataclass(frozen=True)
class BonusReport:
    rows: list[BonusRow]
    totals: dict[str, int] = field(default_factory=dict)
    outstanding: int = 0
    payments: int = 0

    @property
    def breakage(self) -> float:
        """Expired / accrued over the period (0..1; 0 when nothing was accrued)."""
        accrued = self.totals.get("accrued", 0) + self.totals.get("gifts", 0)
        return self.totals.get("expired", 0) / accrued if accrued else 0.0


def bonus_flow(
    *,
    merchant: Merchant,
    start: date,
    end: date,
    bucket: str = "day",
    store_ids: Iterable[int] | None = None,
    program_id: int | None = None,
    now: datetime | None = None,
) -> BonusReport:
    """Bonuses accrued, given, spent, expired, returned, clawed back and adjusted by hand per
    bucket, with the outstanding balance at the end of each bucket (`reports.figures`)."""
    now = now or timezone.now()
    open_ = rollups.open_days(merchant, now)  # read once for both figures below
    days = figures.bonus_days(
        merchant=merchant,
        start=start,
        end=end,
        now=now,
        store_ids=store_ids,
        program_id=program_id,
        open_=open_,
    )
    by_bucket: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    payments: dict[date, int] = defaultdict(int)
    net_by_bucket: dict[date, int] = defaultdict(int)
    for day in days:
        first = bucket_of(day.day, bucket)
        for group, value in day.amounts.items():
            by_bucket[first][group] += value
        payments[first] += day.payments
        net_by_bucket[first] += day.net
    # The balance is every entry ever made: all stores, all kinds.
    outstanding = figures.outstanding_before(
        merchant=merchant, day=start, now=now, program_id=program_id, open_=open_
    )
    rows, totals = [], defaultdict(int)
    for first in bucket_starts(start, end, bucket):
        outstanding += net_by_bucket.get(first, 0)
        amounts = {group: value for group, value in by_bucket.get(first, {}).items() if value}
        for group, value in amounts.items():
            totals[group] += value
        rows.append(
            BonusRow(
                bucket=first,
                amounts=amounts,
                outstanding=outstanding,
                payments=payments.get(first, 0),
            )
        )
    return BonusReport(
        rows=rows,
        totals=dict(totals),
        outstanding=outstanding,
        payments=sum(payments.values()),
    )


# ---- bonuses at risk (seed 004) ---------------------------------------------------------------


@dataclass(frozen=True)
class AtRisk:
    customer_id: int
    program_id: int
    amount: int
    first_expiry: datetime
    last_expiry: datetime


def bonuses_at_risk(
    *, merchant: Merchant, now: datetime, within_days: int, program_id: int | None = None
) -> list[AtRisk]:
    """Bonus accounts (a customer in a program) whose bonuses expire within `within_days`
    days, the soonest first; one program's only when `program_id` is given."""
    # The same lots the customer card lists as expiring soon.
    lots = lots_expiring(merchant=merchant, now=now, within_days=within_days).order_by()
    if program_id is not None:
        lots = lots.filter(account__program_id=program_id)
    rows = (
        lots.values("account__customer_id", "account__program_id")
        .annotate(amount=Sum("remaining"), first=Min("expires_at"), last=Max("expires_at"))
        .order_by("first", "account__customer_id", "account__program_id")
    )
    return [
        AtRisk(
            r["account__customer_id"], r["account__program_id"], r["amount"], r["first"], r["last"]
        )
        for r in rows
    ]


def cards_of(customer_ids) -> dict[int, Card]:
    """Each customer's card a cashier would scan: the newest of those not reported lost
    (active before blocked), with its type."""
    cards: dict[int, Card] = {}
    found = (
        Card.objects.filter(customer_id__in=list(customer_ids))
        .exclude(status=Card.Status.LOST)
        .select_related("card_type")
        # "active" sorts before "blocked": each customer's first row is the one wanted.
        .order_by("customer_id", "status", "-issued_at", "-id")
    )
    for card in found:
        cards.setdefault(card.customer_id, card)
    return cards


# ---- levels -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LevelReport:
    customers_by_level: dict[int | None, int]  # level id (None: no level) -> customers
    ups: int
    downs: int


def levels_summary(*, program, start: datetime, end: datetime) -> LevelReport:
    """Customers per level as last recorded by `kopilka tick`, and the moves up and down
    recorded in [start, end)."""
    latest: dict[int, int | None] = {}
    changes = (
        LevelChange.objects.filter(program=program)
        .order_by("customer_id", "changed_at", "pk")
        .values_list("customer_id", "to_level_id")
    )
    for customer_id, level_id in changes.iterator(chunk_size=5000):
        latest[customer_id] = level_id
    counts: dict[int | None, int] = defaultdict(int)
    for level_id in latest.values():
        counts[level_id] += 1
    priority = dict(program.levels.values_list("pk", "priority"))
    ups = downs = 0
    moves = LevelChange.objects.filter(
        program=program, changed_at__gte=start, changed_at__lt=end, from_level__isnull=False
    ).values_list("from_level_id", "to_level_id")
    for from_id, to_id in moves:
        if to_id is not None and priority.get(to_id, 0) > priority.get(from_id, 0):
            ups += 1
        else:
            downs += 1
    return LevelReport(customers_by_level=dict(counts), ups=ups, downs=downs)


# ---- campaigns --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignRow:
    campaign_id: int
    name: str
    receipts: int
    revenue: int
    discount: int  # all discounts on the touched receipts
    bonuses: int  # campaign (fixed) bonuses granted on them


@dataclass(frozen=True)
class CampaignReport:
    rows: list[CampaignRow]
    others: Group  # the period's sale receipts that no campaign touched


def campaign_results(*, merchant: Merchant, start: datetime, end: datetime) -> CampaignReport:
    """Per campaign: the receipts it touched in [start, end), their revenue, discounts and the
    campaign bonuses granted; against the receipts no campaign touched."""
    uses = CampaignUse.objects.filter(
        campaign__merchant=merchant,
        receipt__occurred_at__gte=start,
        receipt__occurred_at__lt=end,
        receipt__status=Receipt.Status.CONFIRMED,
    )
    rows = [
        CampaignRow(
            campaign_id=r["campaign_id"],
            name=r["campaign__name"],
            receipts=r["receipts"],
            revenue=r["revenue"] or 0,
            discount=r["discount"] or 0,
            bonuses=r["bonuses"] or 0,
        )
        for r in uses.values("campaign_id", "campaign__name")
        .annotate(
            receipts=Count("receipt_id", distinct=True),
            revenue=Sum("receipt__subtotal"),
            discount=Sum("receipt__discount"),
            bonuses=Sum("receipt__campaign_bonus"),
        )
        .order_by("campaign_id")
    ]
    others = (
        Receipt.objects.filter(
            merchant=merchant,
            kind=Receipt.Kind.SALE,
            status=Receipt.Status.CONFIRMED,
            occurred_at__gte=start,
            occurred_at__lt=end,
        )
        .exclude(Q(pk__in=uses.values("receipt_id")))
        .aggregate(receipts=Count("pk"), revenue=Sum("subtotal"))
    )
    return CampaignReport(rows=rows, others=Group(others["receipts"], others["revenue"] or 0))

"""The back office's front page: a merchant's customers, receipts and points over a period,
as a handful of set-based aggregate queries (unfold's DASHBOARD_CALLBACK)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import pgettext

from kopilka.customers.models import Customer
from kopilka.ledger.models import Entry, EntryKind, Lot
from kopilka.merchants.models import Merchant
from kopilka.pos.models import Receipt

from .formatting import money
from .scoping import request_merchant

PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30

# Points a customer got, net of what refunds clawed back (moves between programs excluded:
# they create no points).
ACCRUED_KINDS = (
    EntryKind.ACCRUAL,
    EntryKind.WELCOME,
    EntryKind.BIRTHDAY,
    EntryKind.CAMPAIGN,
    EntryKind.MANUAL_CREDIT,
    EntryKind.REFUND_CLAWBACK,
)
# Points that left balances by paying or by hand, net of what refunds gave back.
SPENT_KINDS = (EntryKind.SPEND, EntryKind.CAPTURE, EntryKind.MANUAL_DEBIT, EntryKind.REFUND_RETURN)


@dataclass(frozen=True)
class DayPoints:
    day: date
    accrued: int
    spent: int


@dataclass(frozen=True)
class Figures:
    start: datetime
    end: datetime
    customers_total: int
    customers_new: int
    receipts_with_card: int
    receipts_without_card: int
    accrued: int
    spent: int
    expired: int
    outstanding: int
    pending: int
    days: list[DayPoints]


def period_start(merchant: Merchant, days: int, now: datetime) -> datetime:
    """Midnight, in the merchant's time zone, `days - 1` days before today: the period is
    today and the days before it."""
    zone = ZoneInfo(merchant.time_zone)
    today = now.astimezone(zone).date()
    return datetime.combine(today - timedelta(days=days - 1), time(0), tzinfo=zone)


def dashboard_figures(*, merchant: Merchant, days: int, now: datetime) -> Figures:
    start = period_start(merchant, days, now)
    zone = ZoneInfo(merchant.time_zone)
    in_period = Q(created_at__gte=start, created_at__lte=now)

    customers = Customer.objects.filter(merchant=merchant).aggregate(
        total=Count("pk"), new=Count("pk", filter=in_period)
    )
    receipts = Receipt.objects.filter(
        merchant=merchant,
        kind=Receipt.Kind.SALE,
        status=Receipt.Status.CONFIRMED,
        occurred_at__gte=start,
        occurred_at__lte=now,
    ).aggregate(
        with_card=Count("pk", filter=Q(customer__isnull=False)),
        without_card=Count("pk", filter=Q(customer__isnull=True)),
    )
    entries = Entry.objects.filter(merchant=merchant).filter(in_period)
    points = entries.aggregate(
        accrued=Sum("amount", filter=Q(kind__in=ACCRUED_KINDS), default=0),
        spent=Sum("amount", filter=Q(kind__in=SPENT_KINDS), default=0),
        written_off=Sum("amount", filter=Q(kind=EntryKind.EXPIRY), default=0),
    )
    # Expired is what expiry entries wrote off plus what lies in lots past their expiry that
    # no job has written off yet, so the figure never waits for `kopilka tick`.
    unexpired = Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    lots = Lot.objects.filter(merchant=merchant).aggregate(
        not_written_off=Sum(
            "remaining",
            filter=Q(expires_at__gte=start, expires_at__lte=now, remaining__gt=0),
            default=0,
        ),
        outstanding=Sum("remaining", filter=unexpired, default=0),
        held=Sum("held", filter=unexpired, default=0),
        pending=Sum("remaining", filter=unexpired & Q(available_from__gt=now), default=0),
    )
    by_day = {
        row["day"]: row
        for row in entries.annotate(day=TruncDate("created_at", tzinfo=zone))
        .values("day")
        .annotate(
            accrued=Sum("amount", filter=Q(kind__in=ACCRUED_KINDS), default=0),
            spent=Sum("amount", filter=Q(kind__in=SPENT_KINDS), default=0),
        )
        .order_by("day")
    }
    first_day = start.date()
    days_list = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        row = by_day.get(day, {"accrued": 0, "spent": 0})
        days_list.append(DayPoints(day=day, accrued=row["accrued"], spent=-row["spent"]))
    return Figures(
        start=start,
        end=now,
        customers_total=customers["total"],
        customers_new=customers["new"],
        receipts_with_card=receipts["with_card"],
        receipts_without_card=receipts["without_card"],
        accrued=points["accrued"],
        spent=-points["spent"],
        expired=-points["written_off"] + lots["not_written_off"],
        outstanding=lots["outstanding"] + lots["held"],
        pending=lots["pending"],
        days=days_list,
    )


def chosen_period(request) -> int:
    value = request.GET.get("period", "")
    return int(value) if value.isdigit() and int(value) in PERIODS else DEFAULT_PERIOD


def chart_data(figures: Figures) -> dict:
    """The day series for Chart.js, amounts in currency units."""
    return {
        "labels": [day.day.isoformat() for day in figures.days],
        "datasets": [
            {
                "label": pgettext("dashboard", "accrued"),
                "data": [day.accrued / 100 for day in figures.days],
            },
            {
                "label": pgettext("dashboard", "spent"),
                "data": [day.spent / 100 for day in figures.days],
            },
        ],
    }


def dashboard_callback(request, context: dict) -> dict:
    """unfold's DASHBOARD_CALLBACK: adds the figures of the staff user's merchant (none for a
    platform operator, who has no merchant of their own)."""
    merchant = request_merchant(request)
    period = chosen_period(request)
    context.update({"periods": PERIODS, "period": period, "merchant": merchant})
    if merchant is None:
        return context
    figures = dashboard_figures(merchant=merchant, days=period, now=timezone.now())
    context.update(
        {
            "figures": figures,
            "money": {
                name: money(getattr(figures, name))
                for name in ("accrued", "spent", "expired", "outstanding", "pending")
            },
            "chart_data": chart_data(figures),
        }
    )
    return context

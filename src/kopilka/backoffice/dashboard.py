"""The back office's front page: a merchant's customers, receipts and points over a period,
each figure from `reports.figures` (unfold's DASHBOARD_CALLBACK)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import pgettext

from kopilka.limits import services as limits
from kopilka.merchants.models import Merchant
from kopilka.reports import figures, rollups

from .formatting import points
from .scoping import request_merchant

PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30


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
    customers_registered: int  # joined in the period
    customers_new: int  # made their first purchase in the period
    receipts_with_card: int
    receipts_without_card: int
    accrued: int
    gifts: int
    spent: int
    expired: int
    outstanding: int
    pending: int
    days: list[DayPoints]
    alerts: limits.AlertCounts  # safe operations' alerts raised in the period


def period_start(merchant: Merchant, days: int, now: datetime) -> datetime:
    """Midnight, in the merchant's time zone, `days - 1` days before today: the period is
    today and the days before it."""
    zone = ZoneInfo(merchant.time_zone)
    today = now.astimezone(zone).date()
    return datetime.combine(today - timedelta(days=days - 1), time(0), tzinfo=zone)


def dashboard_figures(*, merchant: Merchant, days: int, now: datetime) -> Figures:
    """The front page's figures over the last `days` local days, each from `reports.figures`
    (the same functions as the reports: the two pages never disagree)."""
    start = period_start(merchant, days, now)
    first, today = start.date(), now.astimezone(ZoneInfo(merchant.time_zone)).date()
    open_ = rollups.open_days(merchant, now)
    sales = figures.sales_days(merchant=merchant, start=first, end=today, now=now, open_=open_)
    bonuses = figures.bonus_days(merchant=merchant, start=first, end=today, now=now, open_=open_)
    opening = figures.outstanding_before(merchant=merchant, day=first, now=now, open_=open_)

    def total(name: str) -> int:
        return sum(day[name] for day in sales.values())

    def moved(group: str) -> int:
        return sum(day.amounts.get(group, 0) for day in bonuses)

    return Figures(
        start=start,
        end=now,
        customers_total=figures.customers_total(merchant=merchant),
        customers_registered=figures.customers_registered(merchant=merchant, start=start, end=now),
        customers_new=total("new_customers"),
        receipts_with_card=total("card_receipts"),
        receipts_without_card=total("receipts") - total("card_receipts"),
        accrued=moved("accrued"),
        gifts=moved("gifts"),
        spent=moved("spent"),
        expired=moved("expired"),
        outstanding=opening + sum(day.net for day in bonuses),
        pending=figures.pending_now(merchant=merchant, now=now),
        alerts=limits.alert_counts(merchant=merchant, start=start, end=now),
        days=[
            DayPoints(
                day=day.day,
                accrued=day.amounts.get("accrued", 0),
                spent=day.amounts.get("spent", 0),
            )
            for day in bonuses
        ],
    )


def chosen_period(request) -> int:
    value = request.GET.get("period", "")
    return int(value) if value.isdigit() and int(value) in PERIODS else DEFAULT_PERIOD


def chart_data(figures: Figures) -> dict:
    """The day series for Chart.js, amounts in currency units."""
    return {
        "labels": [date_format(day.day, "SHORT_DATE_FORMAT") for day in figures.days],
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
                name: points(getattr(figures, name))
                for name in ("accrued", "gifts", "spent", "expired", "outstanding", "pending")
            },
            "chart_data": chart_data(figures),
            "alerts_url": reverse("admin:limits_limitalert_changelist"),
        }
    )
    return context

"""Filters of the back-office customer list; each one is a range or equality on an indexed
column of Customer (see customers.stats), so none of them reads receipts or lots."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Q, Subquery
from django.http import Http404
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from django.views import View
from unfold.contrib.filters.admin import (
    DropdownFilter,
    RangeDateFilter,
    RangeNumericListFilter,
    TextFilter,
)

from kopilka.customers.models import Group
from kopilka.numfmt import NotANumber, parse_number
from kopilka.programs.models import Level, LevelChange

from .scoping import request_merchant

MAX_DAYS = 3660
MONTHS = (
    _("January"),
    _("February"),
    _("March"),
    _("April"),
    _("May"),
    _("June"),
    _("July"),
    _("August"),
    _("September"),
    _("October"),
    _("November"),
    _("December"),
)


class ListAsFilteredView(View):
    """A page that acts on the customer list as filtered and searched (the same query string,
    as for the export): `self.customers` is its QuerySet, never evaluated here, so a million
    customers reach the service as a subquery. Subclasses say who may use it."""

    admin = None

    def allowed(self, request) -> bool:
        raise NotImplementedError

    def dispatch(self, request, *args, **kwargs):
        self.merchant = request_merchant(request)
        if self.merchant is None or not self.allowed(request):
            raise PermissionDenied
        try:
            changelist = self.admin.get_changelist_instance(request)
        except IncorrectLookupParameters:
            raise Http404 from None
        self.customers = changelist.get_queryset(request)
        return super().dispatch(request, *args, **kwargs)

    def back(self) -> str:
        """The list as it was."""
        return f"{reverse('admin:customers_customer_changelist')}?{self.request.GET.urlencode()}"


def _days(value) -> int | None:
    try:
        days = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return days if 0 <= days <= MAX_DAYS else None


def parse_day(text: str) -> datetime.date | None:
    """A date typed in the active language's format (what the date widget shows) or ISO."""
    for fmt in (*formats.get_format("DATE_INPUT_FORMATS"), "%Y-%m-%d"):
        try:
            return datetime.datetime.strptime((text or "").strip(), fmt).date()
        except ValueError:
            continue
    return None


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


HUGE = Decimal(10**30)


# A number in exponent notation ("1e400"): not how amounts are written, but a number all the
# same; a filter or a manual change given one says it is too large rather than not a number.
EXPONENT = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?[eE][+-]?[0-9]{1,9}")


def minor_units(value) -> int | None:
    """Amount typed in bonuses or roubles ("500", "12,50", "5 000,00 ₽": what the back office
    prints, read by `numfmt.parse_number`) as kopecks; None when not a number. Beyond 10^30
    every number is taken as 10^30 (with its sign): larger than any figure kept, and
    "1e999999" would not even survive the multiplication by 100."""
    text = str(value).strip()
    try:
        amount = parse_number(text)
    except NotANumber:
        if not EXPONENT.fullmatch(text):
            return None
        amount = Decimal(text)
    if abs(amount) > HUGE:
        amount = HUGE.copy_sign(amount)
    return int((amount * 100).to_integral_value())


# A range's ends as the database compares them: a column of kopecks is a bigint.
BIGINT = 2**63 - 1


class LastPurchaseRangeFilter(RangeDateFilter):
    """Last purchase between two dates, both days included (in the local time zone)."""

    title = _("last purchase")

    def queryset(self, request, queryset):
        start = parse_day(self.used_parameters.get(f"{self.parameter_name}_from") or "")
        end = parse_day(self.used_parameters.get(f"{self.parameter_name}_to") or "")
        if start is not None:
            queryset = queryset.filter(last_purchase_at__gte=_start_of(start))
        if end is not None:
            end = _start_of(end + datetime.timedelta(days=1))
            queryset = queryset.filter(last_purchase_at__lt=end)
        return queryset


class NotSeenForDaysFilter(TextFilter):
    """Customers whose last purchase is more than N days ago (those who never bought have no
    last purchase and are not listed: filter by visits 0 for them)."""

    title = _("no purchase for, days")
    parameter_name = "not_seen_days"

    def queryset(self, request, queryset):
        days = _days(self.value())
        if days is None:
            return queryset
        return queryset.filter(last_purchase_at__lt=timezone.now() - datetime.timedelta(days))


class BirthdayMonthFilter(DropdownFilter):
    title = _("birthday month")
    parameter_name = "birthday_month"

    def lookups(self, request, model_admin):
        return [(str(n), name) for n, name in enumerate(MONTHS, start=1)]

    def queryset(self, request, queryset):
        if self.value() not in {str(n) for n in range(1, 13)}:
            return queryset
        month = int(self.value())
        return queryset.filter(birthday_md__gte=month * 100 + 1, birthday_md__lte=month * 100 + 31)


def _md(day: datetime.date) -> int:
    return day.month * 100 + day.day


def birthday_within(days: int, today: datetime.date) -> Q:
    """Birthdays from today to `days` days ahead, wrapping over the new year."""
    if days >= 365:
        return Q(birthday_md__isnull=False)
    end = today + datetime.timedelta(days=days)
    if end.year == today.year:
        return Q(birthday_md__gte=_md(today), birthday_md__lte=_md(end))
    return Q(birthday_md__gte=_md(today)) | Q(birthday_md__lte=_md(end))


class BirthdaySoonFilter(TextFilter):
    title = _("birthday within the next, days")
    parameter_name = "birthday_within"

    def queryset(self, request, queryset):
        days = _days(self.value())
        if days is None:
            return queryset
        return queryset.filter(birthday_within(days, timezone.localdate()))


class MoneyRangeFilter(RangeNumericListFilter):
    """A range typed in bonuses (or roubles) on a column of kopecks."""

    field_name = ""

    def queryset(self, request, queryset):
        low = minor_units(self.used_parameters.get(f"{self.parameter_name}_from") or "x")
        high = minor_units(self.used_parameters.get(f"{self.parameter_name}_to") or "x")
        if low is not None:
            low = max(-BIGINT, min(low, BIGINT))
            queryset = queryset.filter(**{f"{self.field_name}__gte": low})
        if high is not None:
            high = max(-BIGINT, min(high, BIGINT))
            queryset = queryset.filter(**{f"{self.field_name}__lte": high})
        return queryset


class BalanceFilter(MoneyRangeFilter):
    title = _("bonus balance")
    parameter_name = "balance"
    field_name = "balance"


class SpentFilter(MoneyRangeFilter):
    title = _("total spent")
    parameter_name = "spent"
    field_name = "purchases_total"


class VisitsFilter(RangeNumericListFilter):
    title = _("visits")
    parameter_name = "visits"

    def queryset(self, request, queryset):
        low = _days(self.used_parameters.get("visits_from"))
        high = _days(self.used_parameters.get("visits_to"))
        if low is not None:
            queryset = queryset.filter(visits__gte=low)
        if high is not None:
            queryset = queryset.filter(visits__lte=high)
        return queryset


class GroupFilter(DropdownFilter):
    title = _("group")
    parameter_name = "group"

    def lookups(self, request, model_admin):
        groups = Group.objects.filter(merchant=request_merchant(request)).order_by("name")
        return [(str(group.pk), group.name) for group in groups]

    def queryset(self, request, queryset):
        if not (self.value() or "").isdigit():
            return queryset
        return queryset.filter(groups__pk=int(self.value()))


class LevelFilter(DropdownFilter):
    """The level recorded by `kopilka tick` (levels are computed at the till, not stored)."""

    title = _("level")
    parameter_name = "level"

    def lookups(self, request, model_admin):
        levels = Level.objects.filter(
            program__merchant=request_merchant(request), archived_at__isnull=True
        ).select_related("program")
        return [
            (str(level.pk), f"{level.program.name}: {level.name}")
            for level in levels.order_by("program_id", "priority")
        ]

    def queryset(self, request, queryset):
        if not (self.value() or "").isdigit():
            return queryset
        latest = LevelChange.objects.filter(
            customer_id=OuterRef("customer_id"), program_id=OuterRef("program_id")
        ).order_by("-changed_at", "-id")
        holders = LevelChange.objects.filter(
            to_level_id=int(self.value()), id=Subquery(latest.values("id")[:1])
        ).values("customer_id")
        return queryset.filter(pk__in=holders)


class ConsentFilter(admin.SimpleListFilter):
    title = _("marketing consent")
    parameter_name = "consent"

    def lookups(self, request, model_admin):
        return [("1", _("yes")), ("0", _("no"))]

    def queryset(self, request, queryset):
        if self.value() in {"0", "1"}:
            return queryset.filter(marketing_consent=self.value() == "1")
        return queryset


# RFM segments: recency (days since the last purchase), frequency (visits) and monetary value
# (total spent). Disjoint, checked in this order; thresholds suit a shop visited weekly or so.
RFM_SEGMENTS = (
    ("champions", _("Champions: bought in 30 days, 5+ visits")),
    ("loyal", _("Loyal: bought in 90 days, 3+ visits")),
    ("big_spenders", _("Big spenders: spent 3x the average")),
    ("new", _("New: one visit in the last 30 days")),
    ("at_risk", _("At risk: 3+ visits, not seen for 91-180 days")),
    ("lost", _("Lost: not seen for over 180 days")),
)


def rfm_condition(segment: str, *, now: datetime.datetime, average_spent: int) -> Q:
    days = {n: now - datetime.timedelta(days=n) for n in (30, 90, 180)}
    champions = Q(last_purchase_at__gte=days[30], visits__gte=5)
    loyal = Q(last_purchase_at__gte=days[90], visits__gte=3) & ~champions
    big = Q(purchases_total__gte=3 * average_spent, visits__gte=1) & ~champions & ~loyal
    earlier = champions | loyal | big
    conditions = {
        "champions": champions,
        "loyal": loyal,
        "big_spenders": big,
        "new": Q(visits=1, last_purchase_at__gte=days[30]) & ~earlier,
        "at_risk": Q(visits__gte=3, last_purchase_at__lt=days[90], last_purchase_at__gte=days[180])
        & ~earlier,
        "lost": Q(last_purchase_at__lt=days[180]) & ~earlier,
    }
    return conditions[segment]


class RFMFilter(DropdownFilter):
    title = _("RFM segment")
    parameter_name = "rfm"

    def lookups(self, request, model_admin):
        return RFM_SEGMENTS

    def queryset(self, request, queryset):
        if self.value() not in dict(RFM_SEGMENTS):
            return queryset
        from django.db.models import Avg

        merchant = request_merchant(request)
        average = (
            queryset.model.objects.filter(merchant=merchant, visits__gt=0).aggregate(
                a=Avg("purchases_total")
            )["a"]
            or 0
        )
        condition = rfm_condition(self.value(), now=timezone.now(), average_spent=int(average))
        return queryset.filter(condition)

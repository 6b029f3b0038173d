"""The report pages of the back office (customers mix, bonuses, bonuses at risk, levels,
campaigns): a period form, a chart, a table, and the same table as CSV or XLSX. Figures come
from `kopilka.reports.selectors`; these views only shape them for people."""

from __future__ import annotations

import functools
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.widgets import (
    UnfoldAdminDateWidget,
    UnfoldAdminIntegerFieldWidget,
    UnfoldAdminSelectWidget,
)

from kopilka.customers.models import Customer
from kopilka.merchants.models import Role, Store
from kopilka.programs.models import Level, Program
from kopilka.reports import figures, rollups, selectors
from kopilka.reports.rollups import day_bounds

from .exports import FORMATS, table_response
from .formatting import Money, Percent, Points, count, percent, points
from .scoping import staff_member

HUNDRED = Decimal(100)


def _units(minor: int) -> Decimal:
    return Decimal(minor) / HUNDRED


def _money(minor: int) -> Money:
    """A table cell of money: shown "1 234,50", exported as the number 1234.50."""
    return Money(_units(minor))


def _points(minor: int) -> Points:
    return Points(_units(minor))


def _percent(value) -> Percent:
    """A percent (in percent units: 30 for 30 %) as a table cell, two decimals at most."""
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    return Percent(str(round(Decimal(str(value)), 2)))


def report_view(view):
    """An admin page for the staff of a merchant, every role but the cashier's."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        member = staff_member(request)
        if member is None or member.role == Role.CASHIER:
            raise PermissionDenied(_("Reports are for the staff of a merchant."))
        return view(request, member.merchant, *args, **kwargs)

    return admin.site.admin_view(wrapper)


def _today(merchant) -> date:
    return timezone.now().astimezone(ZoneInfo(merchant.time_zone)).date()


def _with_defaults(data, defaults: dict):
    """The query string with defaults for what it leaves out: a report opens filled in."""
    merged = data.copy()
    for name, value in defaults.items():
        if not merged.get(name):
            merged[name] = value
    return merged


class PeriodForm(forms.Form):
    start = forms.DateField(label=_("from"), widget=UnfoldAdminDateWidget)
    end = forms.DateField(label=_("to"), widget=UnfoldAdminDateWidget)
    bucket = forms.ChoiceField(
        label=_("grouped by"),
        choices=[("day", _("day")), ("week", _("week")), ("month", _("month"))],
        initial="day",
    )
    stores = forms.ModelMultipleChoiceField(
        label=_("stores"), queryset=Store.objects.none(), required=False
    )

    def __init__(self, data, *, merchant, days: int = 30):
        today = _today(merchant)
        defaults = {"start": today - timedelta(days=days - 1), "end": today, "bucket": "day"}
        super().__init__(_with_defaults(data, defaults))
        self.fields["stores"].queryset = Store.objects.filter(merchant=merchant).order_by("name")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            raise forms.ValidationError(_("The period ends before it starts."))
        if start and end and (end - start).days > 3 * 366:
            raise forms.ValidationError(_("Choose a period of at most three years."))
        return cleaned

    def store_ids(self):
        stores = self.cleaned_data.get("stores")
        return [s.pk for s in stores] if stores else None

    @property
    def chosen_bucket(self) -> str:
        return self.cleaned_data.get("bucket", "day") if self.is_valid() else "day"

    def period(self) -> dict:
        """The selectors' period arguments: start, end, bucket and stores."""
        data = self.cleaned_data
        return {
            "start": data["start"],
            "end": data["end"],
            "bucket": data["bucket"],
            "store_ids": self.store_ids(),
        }


def _page(request, template: str, title, **context):
    return render(
        request,
        template,
        {
            **admin.site.each_context(request),
            "title": title,
            "formats": FORMATS,
            "hide_fields": (),
            **context,
        },
    )


def _moments(merchant, form) -> tuple[datetime, datetime]:
    """The form's local days as moments: [the first one's start, the last one's end)."""
    tz = ZoneInfo(merchant.time_zone)
    first, _first_end = day_bounds(form.cleaned_data["start"], tz)
    _last_start, last = day_bounds(form.cleaned_data["end"], tz)
    return first, last


def _export_format(request) -> str | None:
    fmt = request.GET.get("export")
    return fmt if fmt in FORMATS else None


def _label(day: date, bucket: str) -> str:
    if bucket == "month":
        return date_format(day, "YEAR_MONTH_FORMAT")
    return date_format(day, "SHORT_DATE_FORMAT")


@report_view
def index(request, merchant):
    return _page(request, "backoffice/reports/index.html", _("Reports"), reports=REPORT_LINKS)


@report_view
def customers_report(request, merchant):
    form = PeriodForm(request.GET, merchant=merchant)
    rows = []
    if form.is_valid():
        rows = selectors.customer_mix(merchant=merchant, **form.period())
    bucket = form.chosen_bucket
    headers = [
        _("period"),
        _("new customers"),
        _("receipts of new customers"),
        _("revenue of new customers"),
        _("receipts of loyal customers"),
        _("revenue of loyal customers"),
        _("other receipts"),
        _("other revenue"),
        _("average receipt"),
        _("share of receipts with a card, %"),
    ]
    table = [
        [
            _label(r.bucket, bucket),
            r.new_customers,
            r.new.receipts,
            _money(r.new.revenue),
            r.loyal.receipts,
            _money(r.loyal.revenue),
            r.other.receipts,
            _money(r.other.revenue),
            _money(r.revenue // r.receipts if r.receipts else 0),
            _percent(100 * (1 - r.share("other"))) if r.receipts else Percent(0),
        ]
        for r in rows
    ]
    if fmt := _export_format(request):
        return table_response("customers-new-loyal-other", fmt, headers, table)
    chart = {
        "type": "bar",
        "unit": "count",
        "stacked": True,
        "labels": [row[0] for row in table],
        "datasets": [
            {"label": str(_("new")), "data": [r.new.receipts for r in rows]},
            {"label": str(_("loyal")), "data": [r.loyal.receipts for r in rows]},
            {"label": str(_("other")), "data": [r.other.receipts for r in rows]},
        ],
    }
    return _page(
        request,
        "backoffice/reports/table.html",
        _("Customers: new, loyal and other"),
        form=form,
        headers=headers,
        table=table,
        chart=chart,
        note=format_lazy(
            "{} {}",
            _(
                "New: receipts of customers on the day of their first purchase. Loyal: other "
                "receipts with a card. Other: receipts without a card."
            ),
            _as_of(merchant),
        ),
    )


@report_view
def bonuses_report(request, merchant):
    form = PeriodForm(request.GET, merchant=merchant)
    report = None
    if form.is_valid():
        report = selectors.bonus_flow(merchant=merchant, **form.period())
    bucket = form.chosen_bucket
    groups = list(figures.BONUS_GROUPS)
    names = {
        "accrued": _("bonuses accrued"),
        "gifts": _("welcome and birthday"),
        "spent": _("bonuses spent"),
        "expired": _("bonuses expired"),
        "returned": _("returned on refunds"),
        "clawed_back": _("clawed back on refunds"),
        "manual": _("manual changes"),
    }
    headers = [
        _("period"),
        *[names[g] for g in groups],
        _("outstanding at the end"),
        _("purchases paid with bonuses"),
    ]
    rows = report.rows if report else []
    table = [
        [
            _label(r.bucket, bucket),
            *[_points(r.amounts.get(g, 0)) for g in groups],
            _points(r.outstanding),
            r.payments,
        ]
        for r in rows
    ]
    if fmt := _export_format(request):
        return table_response("bonuses", fmt, headers, table)
    chart = {
        "type": "line",
        "unit": "points",
        "labels": [row[0] for row in table],
        "datasets": [
            {"label": str(names["accrued"]), "data": [float(_units(r.accrued)) for r in rows]},
            {"label": str(names["spent"]), "data": [float(_units(r.spent)) for r in rows]},
            {"label": str(names["expired"]), "data": [float(_units(r.expired)) for r in rows]},
        ],
    }
    summary = []
    if report:
        summary = [
            (names["accrued"], points(report.totals.get("accrued", 0))),
            (names["spent"], points(report.totals.get("spent", 0))),
            (names["expired"], points(report.totals.get("expired", 0))),
            (_("outstanding (available and pending)"), points(report.outstanding)),
            (_("breakage (expired / accrued)"), percent(Decimal(str(report.breakage)) * 100, 1)),
            (_("purchases paid with bonuses"), count(report.payments)),
        ]
    return _page(
        request,
        "backoffice/reports/table.html",
        _("Bonuses"),
        form=form,
        headers=headers,
        table=table,
        chart=chart,
        summary=summary,
        note=format_lazy(
            _(
                "Figures as of {moment}: settled days from the daily summaries, the rest "
                "straight from the ledger. The outstanding balance covers every store."
            ),
            moment=_local_moment(merchant),
        ),
    )


class AtRiskForm(forms.Form):
    days = forms.IntegerField(
        label=_("expiring within, days"),
        min_value=1,
        max_value=365,
        initial=14,
        widget=UnfoldAdminIntegerFieldWidget,
    )
    program = forms.ModelChoiceField(
        label=_("program"),
        queryset=Program.objects.none(),
        required=False,
        empty_label=_("all programs"),
        widget=UnfoldAdminSelectWidget,
    )

    def __init__(self, data, *, merchant):
        super().__init__(_with_defaults(data, {"days": 14}))
        self.fields["program"].queryset = Program.objects.filter(merchant=merchant).order_by("pk")


def _local_minute(moment: datetime, tz: ZoneInfo) -> datetime:
    """A table cell of a moment: the merchant's wall-clock time to the minute, without a time
    zone (spreadsheets keep none), shown on the page as the language writes it (numfmt.cell)
    and exported as a date cell."""
    return moment.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0)


# The page shows this many cards; the export has them all.
AT_RISK_ON_SCREEN = 500


@report_view
def at_risk_report(request, merchant):
    form = AtRiskForm(request.GET, merchant=merchant)
    rows = []
    if form.is_valid():
        program = form.cleaned_data["program"]
        rows = selectors.bonuses_at_risk(
            merchant=merchant,
            now=timezone.now(),
            within_days=form.cleaned_data["days"],
            program_id=program.pk if program else None,
        )
    exporting = _export_format(request)
    shown = rows if exporting else rows[:AT_RISK_ON_SCREEN]
    ids = {r.customer_id for r in shown}
    customers = Customer.objects.in_bulk(ids)
    cards = selectors.cards_of(ids)
    programs = dict(Program.objects.filter(merchant=merchant).values_list("pk", "name"))
    tz = ZoneInfo(merchant.time_zone)
    headers = [
        _("card"),
        _("card type"),
        _("program"),
        _("customer"),
        _("phone"),
        _("e-mail"),
        _("marketing consent"),
        _("bonuses expiring"),
        _("first expiry"),
        _("last expiry"),
    ]
    table = []
    for r in shown:
        c, card = customers.get(r.customer_id), cards.get(r.customer_id)
        table.append(
            [
                card.number if card else "",
                card.card_type.name if card and card.card_type else "",
                programs.get(r.program_id, ""),
                str(c) if c else r.customer_id,
                c.phone if c else "",
                c.email if c else "",
                _("yes") if c and c.marketing_consent else _("no"),
                _points(r.amount),
                _local_minute(r.first_expiry, tz),
                _local_minute(r.last_expiry, tz),
            ]
        )
    if exporting:
        return table_response("bonuses-at-risk", exporting, headers, table)
    note = gettext("Cards whose bonuses burn soon: export them for a reminder mailing.")
    if len(rows) > len(shown):
        shown_of = gettext("The first %(shown)d of %(count)d are shown; the export has them all.")
        note = f"{note} {shown_of % {'shown': len(shown), 'count': len(rows)}}"
    return _page(
        request,
        "backoffice/reports/table.html",
        _("Cards with bonuses at risk"),
        form=form,
        headers=headers,
        table=table,
        note=note,
    )


class LevelsForm(forms.Form):
    program = forms.ModelChoiceField(label=_("program"), queryset=Program.objects.none())
    start = forms.DateField(label=_("moves from"), widget=UnfoldAdminDateWidget)
    end = forms.DateField(label=_("to"), widget=UnfoldAdminDateWidget)

    def __init__(self, data, *, merchant):
        today = _today(merchant)
        programs = Program.objects.filter(merchant=merchant).order_by("pk")
        defaults = {"start": today - timedelta(days=29), "end": today}
        if programs:
            defaults["program"] = programs[0].pk
        super().__init__(_with_defaults(data, defaults))
        self.fields["program"].queryset = programs


@report_view
def levels_report(request, merchant):
    form = LevelsForm(request.GET, merchant=merchant)
    table, summary = [], []
    if form.is_valid():
        program = form.cleaned_data["program"]
        start, end = _moments(merchant, form)
        report = selectors.levels_summary(program=program, start=start, end=end)
        levels = list(Level.objects.filter(program=program).order_by("priority"))
        table = [[lv.name, report.customers_by_level.get(lv.pk, 0)] for lv in levels]
        table.append([_("no level"), report.customers_by_level.get(None, 0)])
        summary = [(_("moves up"), count(report.ups)), (_("moves down"), count(report.downs))]
    headers = [_("level"), _("customers")]
    if fmt := _export_format(request):
        return table_response("levels", fmt, headers, table)
    chart = {
        "type": "bar",
        "unit": "count",
        "labels": [str(row[0]) for row in table],
        "datasets": [{"label": str(_("customers")), "data": [row[1] for row in table]}],
    }
    return _page(
        request,
        "backoffice/reports/table.html",
        _("Levels"),
        form=form,
        headers=headers,
        table=table,
        chart=chart if table else None,
        summary=summary,
        note=_levels_note(merchant),
    )


def _local_moment(merchant, moment=None) -> str:
    """A moment as the merchant's staff read it: in the merchant's time zone."""
    local = timezone.localtime(moment or timezone.now(), ZoneInfo(merchant.time_zone))
    return date_format(local, "SHORT_DATETIME_FORMAT")


def _as_of(merchant) -> str:
    """Report figures are current (open days are read from the raw rows): say as of when."""
    return gettext("Figures as of %(moment)s.") % {"moment": _local_moment(merchant)}


def _levels_note(merchant):
    last = rollups.last_run(merchant)
    if last is None:
        return _(
            "Levels are brought up to date automatically every few minutes; the first update "
            "has not happened yet. Moves in the chosen period."
        )
    return format_lazy(
        _(
            "Levels as of the last automatic update, at {moment} (they are brought up to "
            "date every few minutes); moves in the chosen period."
        ),
        moment=_local_moment(merchant, last),
    )


@report_view
def campaigns_report(request, merchant):
    form = PeriodForm(request.GET, merchant=merchant)
    table = []
    if form.is_valid():
        start, end = _moments(merchant, form)
        report = selectors.campaign_results(merchant=merchant, start=start, end=end)
        table = [
            [
                r.name,
                r.receipts,
                _money(r.revenue),
                _money(r.revenue // r.receipts if r.receipts else 0),
                _money(r.discount),
                _points(r.bonuses),
            ]
            for r in report.rows
        ]
        others = report.others
        table.append(
            [
                _("receipts without a campaign"),
                others.receipts,
                _money(others.revenue),
                _money(others.average),
                "",
                "",
            ]
        )
    headers = [
        _("campaign"),
        _("receipts"),
        _("revenue"),
        _("average receipt"),
        _("discounts on these receipts"),
        _("campaign bonuses"),
    ]
    if fmt := _export_format(request):
        return table_response("campaigns", fmt, headers, table)
    return _page(
        request,
        "backoffice/reports/table.html",
        _("Campaign results"),
        form=form,
        headers=headers,
        table=table,
        hide_fields=("bucket", "stores"),
    )


class SimulatorForm(forms.Form):
    """The period to replay and the alternatives to compare with the current program; an
    alternative left blank is skipped."""

    start = forms.DateField(label=_("from"), widget=UnfoldAdminDateWidget)
    end = forms.DateField(label=_("to"), widget=UnfoldAdminDateWidget)
    program = forms.ModelChoiceField(
        label=_("current program"), queryset=Program.objects.none(), required=False
    )
    bonus_percent = forms.DecimalField(
        label=_("bonuses, %"), min_value=0, max_value=100, decimal_places=3, required=False
    )
    bonus_max_share = forms.DecimalField(
        label=_("payable by bonuses, share of a receipt, %"),
        min_value=0,
        max_value=100,
        decimal_places=3,
        required=False,
    )
    bonus_lifetime = forms.IntegerField(
        label=_("bonus lifetime, days"), min_value=1, max_value=3650, required=False
    )
    discount_percent = forms.DecimalField(
        label=_("fixed discount, %"), min_value=0, max_value=100, decimal_places=3, required=False
    )
    combined_discount_percent = forms.DecimalField(
        label=_("combined: discount, % (with the bonuses above)"),
        min_value=0,
        max_value=100,
        decimal_places=3,
        required=False,
    )

    def __init__(self, data, *, merchant):
        today = _today(merchant)
        programs = Program.objects.filter(merchant=merchant).order_by("pk")
        defaults = {
            "start": today - timedelta(days=89),
            "end": today,
            "bonus_percent": 5,
            "bonus_max_share": 30,
            "bonus_lifetime": 90,
            "discount_percent": 3,
        }
        if programs:
            defaults["program"] = programs[0].pk
        super().__init__(_with_defaults(data, defaults))
        self.fields["program"].queryset = programs

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            raise forms.ValidationError(_("The period ends before it starts."))
        if start and end and (end - start).days >= SIMULATOR_MAX_DAYS:
            raise forms.ValidationError(
                _("Replay at most %(days)s days at a time.") % {"days": SIMULATOR_MAX_DAYS}
            )
        return cleaned

    def scenarios(self) -> list:
        from kopilka.reports import simulator

        data, found = self.cleaned_data, []
        if data.get("program") is not None:
            found.append(simulator.current_scenario(data["program"]))
        if data.get("bonus_percent") is not None:
            found.append(
                simulator.bonus_scenario(
                    percent=data["bonus_percent"],
                    max_share_percent=data.get("bonus_max_share") or 100,
                    lifetime_days=data.get("bonus_lifetime"),
                )
            )
        if data.get("discount_percent") is not None:
            found.append(simulator.fixed_discount_scenario(percent=data["discount_percent"]))
        if data.get("combined_discount_percent") is not None:
            found.append(
                simulator.combined_scenario(
                    discount_percent=data["combined_discount_percent"],
                    percent=data.get("bonus_percent") or 0,
                    max_share_percent=data.get("bonus_max_share") or 100,
                    lifetime_days=data.get("bonus_lifetime"),
                )
            )
        return found


# A page replays in the web request; longer periods belong to a quieter tool.
SIMULATOR_MAX_DAYS = 366
SIMULATOR_ROWS = (
    ("receipts", _("receipts replayed"), int),
    ("revenue", _("revenue"), _money),
    ("discount", _("discounts given"), _money),
    ("issued", _("bonuses issued"), _points),
    ("spent_net", _("bonuses spent"), _points),
    ("expired", _("bonuses expired"), _points),
    ("outstanding", _("outstanding at the end"), _points),
    ("cost", _("cost: discounts and bonuses spent"), _money),
)


@report_view
def simulator_report(request, merchant):
    from kopilka.reports import simulator

    form = SimulatorForm(request.GET, merchant=merchant)
    results, table, chart, scenarios = [], [], None, []
    if form.is_valid():
        scenarios = form.scenarios()
        if not scenarios:
            form.add_error(None, _("Choose the current program or an alternative to replay."))
    if form.is_valid() and scenarios:
        start, end = _moments(merchant, form)
        report = simulator.simulate(merchant=merchant, start=start, end=end, scenarios=scenarios)
        results = list(report.results)
        for attribute, label, kind in SIMULATOR_ROWS:
            values = [getattr(r, attribute) for r in results]
            table.append([label, *[kind(v) for v in values]])
        table.append(
            [
                _("cost as a share of revenue, %"),
                *[
                    _percent(r.cost_share * 100) if r.cost_share is not None else ""
                    for r in results
                ],
            ]
        )
        table.append(
            [
                _("cost with every issued bonus as a share of revenue, %"),
                *[
                    _percent(r.cost_with_liability_share * 100)
                    if r.cost_with_liability_share is not None
                    else ""
                    for r in results
                ],
            ]
        )
        names = sorted({name for r in results for name, _count in r.levels})
        for level in names:
            table.append(
                [
                    _("customers at level %(level)s") % {"level": level},
                    *[dict(r.levels).get(level, 0) for r in results],
                ]
            )
        chart = {
            "type": "bar",
            "unit": "percent",
            "labels": [r.name for r in results],
            "datasets": [
                {
                    "label": str(_("cost as a share of revenue, %")),
                    "data": [float(r.cost_share or 0) * 100 for r in results],
                }
            ],
        }
    headers = [_("figure"), *[r.name for r in results]]
    if fmt := _export_format(request):
        return table_response("simulation", fmt, headers, table)
    return _page(
        request,
        "backoffice/reports/table.html",
        _("Program simulator"),
        form=form,
        headers=headers,
        table=table,
        chart=chart,
        note=_(
            "Every receipt of the period replayed through the rules engine under each "
            "program; customers spend what they really spent, as far as the simulated balance "
            "allows. Nothing is written: the real ledger stays as it is."
        ),
    )


REPORT_LINKS = [
    (
        "customers",
        _("Customers: new, loyal and other"),
        _("Who buys: first-timers, regulars, no card."),
    ),
    ("bonuses", _("Bonuses"), _("Accrued, spent, expired, outstanding; breakage.")),
    (
        "at-risk",
        _("Cards with bonuses at risk"),
        _("Cards whose bonuses expire soon, for a mailing."),
    ),
    ("levels", _("Levels"), _("Customers per level and moves up and down.")),
    ("campaigns", _("Campaign results"), _("Receipts, revenue and bonuses per campaign.")),
    (
        "simulator",
        _("Program simulator"),
        _("Your real receipts replayed under other programs: what would they cost?"),
    ),
]

urlpatterns = [
    path("", index, name="reports"),
    path("customers/", customers_report, name="reports-customers"),
    path("bonuses/", bonuses_report, name="reports-bonuses"),
    path("at-risk/", at_risk_report, name="reports-at-risk"),
    path("levels/", levels_report, name="reports-levels"),
    path("campaigns/", campaigns_report, name="reports-campaigns"),
    path("simulator/", simulator_report, name="reports-simulator"),
]

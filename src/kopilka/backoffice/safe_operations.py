"""Safe operations in the back office: the owner's settings page (each limit's soft and hard
threshold, the patterns of abuse) and the alerts list, with the receipts and people behind
each alert. The rules and the counting are `limits.safe` and `limits.services`."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kopilka.limits import safe
from kopilka.limits import services as limits
from kopilka.limits.models import LimitAlert

from .formatting import MoneyField, money
from .scoping import ReadOnlyAdmin, Refusal, request_actor, staff_member
from .start import SETTING_UP

SCOPE_HELP = {
    safe.Scope.OPERATION: _("one receipt or one manual change"),
    safe.Scope.CARD: _("everything of one customer in a day"),
    safe.Scope.REGISTER: _("everything at one till in a day"),
    safe.Scope.CASHIER: _("everything one cashier rang up in a day, at any till"),
    safe.Scope.STAFF: _("everything one back-office user changed by hand in a day"),
}


def _field(operation, scope, which: str) -> str:
    return f"{operation}__{scope}__{which}"


class SafeOperationsForm(forms.Form):
    """Every offered limit's two thresholds (money, empty = none) and the patterns' numbers."""

    stores = forms.IntegerField(
        label=_("stores"),
        min_value=0,
        max_value=100,
        help_text=_("0 switches the check off"),
    )
    stores_minutes = forms.IntegerField(label=_("minutes"), min_value=1, max_value=1440)
    anonymous = forms.IntegerField(
        label=_("anonymous receipts"),
        min_value=0,
        max_value=1000,
        help_text=_("0 switches the check off"),
    )
    anonymous_minutes = forms.IntegerField(label=_("minutes"), min_value=1, max_value=1440)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for operation, scope in safe.OFFERED:
            for which, label in (("soft", _("flag above")), ("hard", _("refuse above"))):
                self.fields[_field(operation, scope, which)] = MoneyField(
                    label=label, required=False, max_value=Decimal(safe.MAX_THRESHOLD) / 100
                )

    @classmethod
    def initial_for(cls, settings: safe.Settings) -> dict:
        initial = dict(settings.patterns._asdict())
        for limit in settings.limits:
            initial[_field(limit.operation, limit.scope, "soft")] = limit.soft
            initial[_field(limit.operation, limit.scope, "hard")] = limit.hard
        return initial

    def clean(self):
        data = super().clean()
        for operation, scope in safe.OFFERED:
            soft = data.get(_field(operation, scope, "soft"))
            hard = data.get(_field(operation, scope, "hard"))
            if soft == 0 or hard == 0:
                self.add_error(
                    _field(operation, scope, "soft" if soft == 0 else "hard"),
                    gettext("Leave it empty for no threshold; zero would flag everything."),
                )
            elif safe.problems(soft, hard) == "order":
                self.add_error(
                    _field(operation, scope, "hard"),
                    gettext("The refusal threshold must be above the flag threshold."),
                )
        return data

    def chosen(self) -> tuple[dict, safe.Patterns]:
        data = self.cleaned_data
        limits_chosen = {
            (operation, scope): (
                data.get(_field(operation, scope, "soft")),
                data.get(_field(operation, scope, "hard")),
            )
            for operation, scope in safe.OFFERED
        }
        patterns = safe.Patterns(**{name: data[name] for name in safe.Patterns._fields})
        return limits_chosen, patterns

    def rows(self):
        """(operation label, [(scope label, scope help, soft field, hard field), ...])."""
        grouped = {}
        for operation, scope in safe.OFFERED:
            grouped.setdefault(operation, []).append(
                (
                    limits.SCOPE_LABELS[scope],
                    SCOPE_HELP[scope],
                    self[_field(operation, scope, "soft")],
                    self[_field(operation, scope, "hard")],
                )
            )
        return [(limits.OPERATION_LABELS[op], rows) for op, rows in grouped.items()]


def settings_page(request):
    """The merchant's safe operations: owners and administrators change them, others read."""
    member = staff_member(request)
    if member is None:
        raise Refusal(
            _("Safe operations are set per merchant."),
            _("Sign in as a staff member of the merchant."),
        )
    merchant = member.merchant
    may_change = member.role in SETTING_UP
    current = safe.settings_of(merchant.safe_operations)
    form = SafeOperationsForm(
        request.POST if request.method == "POST" else None,
        initial=SafeOperationsForm.initial_for(current),
    )
    if request.method == "POST":
        if not may_change:
            raise Refusal(
                _("Only the owner or an administrator changes the safe operations."),
                _("Ask them to change a limit."),
            )
        if form.is_valid():
            chosen, patterns = form.chosen()
            limits.safe_operations_set(
                merchant=merchant, limits=chosen, patterns=patterns, actor=request_actor(request)
            )
            messages.success(request, gettext("The safe operations are saved."))
            return redirect("safe_operations")
    if not may_change:
        for field in form.fields.values():
            field.disabled = True
    context = {
        **admin.site.each_context(request),
        "title": _("Safe operations"),
        "form": form,
        "rows": form.rows(),
        "may_change": may_change,
        "alerts_url": reverse("admin:limits_limitalert_changelist"),
    }
    return TemplateResponse(request, "backoffice/safe_operations.html", context)


@admin.register(LimitAlert)
class LimitAlertAdmin(ReadOnlyAdmin):
    """The alerts report: what crossed a threshold, was refused or looked like abuse, with
    the receipt and the people behind it."""

    list_display = [
        "created_at",
        "kind",
        "rule_shown",
        "subject_shown",
        "amount_shown",
        "total_shown",
        "threshold_shown",
        "receipt_link",
        "customer_link",
    ]
    list_filter = ["kind", "rule"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    list_select_related = ["receipt", "customer", "register", "register__store", "staff"]
    search_fields = ["cashier", "subject", "receipt__external_number"]
    actions = None

    @admin.display(description=_("limit or pattern"), ordering="rule")
    def rule_shown(self, alert):
        return limits.rule_label(alert.rule)

    @admin.display(description=_("who"))
    def subject_shown(self, alert):
        """The people and till behind the movement."""
        parts = []
        if alert.register_id:
            parts.append(
                gettext("%(register)s (%(store)s)")
                % {"register": alert.register.name, "store": alert.register.store.name}
            )
        if alert.cashier:
            parts.append(gettext("cashier %(name)s") % {"name": alert.cashier})
        if alert.staff_id:
            name = alert.staff.get_full_name() or alert.staff.get_username()
            parts.append(gettext("staff member %(name)s") % {"name": name})
        return "; ".join(parts) or "—"

    @admin.display(description=_("amount"), ordering="amount")
    def amount_shown(self, alert):
        return money(alert.amount) if alert.amount is not None else "—"

    @admin.display(description=_("day's total"), ordering="total")
    def total_shown(self, alert):
        return money(alert.total) if alert.total is not None else "—"

    @admin.display(description=_("threshold"), ordering="threshold")
    def threshold_shown(self, alert):
        return money(alert.threshold) if alert.threshold is not None else "—"

    @admin.display(description=_("receipt"))
    def receipt_link(self, alert):
        if alert.receipt_id is None:
            return gettext("not booked") if alert.kind == LimitAlert.Kind.REFUSED else "—"
        url = reverse("admin:sales_receipt_change", args=[alert.receipt_id])
        return format_html('<a href="{}">{}</a>', url, alert.receipt.external_number)

    @admin.display(description=_("customer"))
    def customer_link(self, alert):
        if alert.customer_id is None:
            return "—"
        url = reverse("admin:customers_customer_change", args=[alert.customer_id])
        return format_html('<a href="{}">{}</a>', url, alert.customer)

"""Admin of the pos app (scoped to the staff user's merchant): receipts and their lines as
the tills booked them, read-only (corrections are refunds, made at the till)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from unfold.admin import TabularInline
from unfold.paginator import InfinitePaginator

from kopilka.sales.models import Receipt, ReceiptLine

from .formatting import money_column
from .scoping import ReadOnlyAdmin


class ReceiptLineInline(TabularInline):
    model = ReceiptLine
    fk_name = "receipt"
    fields = [
        "line_no",
        "sku",
        "name",
        "qty",
        money_column("unit_price", _("unit price")),
        money_column("amount", _("amount")),
        money_column("discount", _("discount")),
        money_column("bonus_spent", _("paid with bonuses")),
        money_column("accrued", _("bonuses accrued")),
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class CustomerPresence(admin.SimpleListFilter):
    title = _("customer")
    parameter_name = "with_card"

    def lookups(self, request, model_admin):
        return [("yes", _("with a card")), ("no", _("anonymous"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(customer__isnull=self.value() == "no")
        return queryset


@admin.register(Receipt)
class ReceiptAdmin(ReadOnlyAdmin):
    list_display = [
        "occurred_at",
        "external_number",
        "kind",
        "status",
        "store",
        "customer",
        money_column("subtotal", _("purchase sum")),
        money_column("bonus_spent", _("paid with bonuses")),
        money_column("accrued", _("bonuses accrued")),
    ]
    list_filter = [
        "kind",
        "status",
        "channel",
        CustomerPresence,
        ("store", admin.RelatedOnlyFieldListFilter),
    ]
    list_select_related = ["store", "customer"]
    search_fields = ["external_number", "customer__phone"]
    # The whole purchase history of a merchant runs to millions of rows: no COUNT(*) per page.
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    paginator = InfinitePaginator
    fields = [
        "external_number",
        "kind",
        "status",
        "channel",
        "occurred_at",
        "offline",
        "store",
        "register",
        "customer",
        "program",
        "refund_of",
        money_column("subtotal", _("purchase sum")),
        money_column("discount", _("discount")),
        money_column("bonus_spent", _("paid with bonuses")),
        money_column("to_pay", _("paid with money")),
        money_column("accrued", _("bonuses accrued")),
        money_column("campaign_bonus", _("campaign bonus")),
        money_column("clawed_back", _("bonuses clawed back")),
        money_column("returned", _("spent bonuses returned")),
    ]
    readonly_fields = fields
    date_hierarchy = "occurred_at"
    ordering = ["-occurred_at", "-id"]
    inlines = [ReceiptLineInline]
    actions = None

"""Admin of the ledger app (scoped to the staff user's merchant): accounts, lots, entries and
holds, read-only for everyone; points change only through the audited ledger services."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kopilka.ledger.models import Account, Entry, Hold, Lot

from .actor_columns import ShowsActors
from .formatting import money, money_column
from .scoping import ReadOnlyAdmin


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["customer", "program", "points_left", "created_at"]
    list_filter = [("program", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["customer", "program"]
    search_fields = ["customer__phone", "customer__email", "customer__name_search"]
    ordering = ["-created_at"]
    actions = None

    def get_queryset(self, request):
        # Points left in unexpired lots (available and frozen alike), in the same query.
        now = timezone.now()
        unexpired = Q(lots__expires_at__isnull=True) | Q(lots__expires_at__gt=now)
        return (
            super()
            .get_queryset(request)
            .annotate(left=Sum("lots__remaining", filter=unexpired, default=0))
        )

    @admin.display(description=_("points left"), ordering="left")
    def points_left(self, obj):
        return money(obj.left)


@admin.register(Lot)
class LotAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "account",
        "kind",
        money_column("amount", _("amount")),
        money_column("remaining", _("remaining")),
        money_column("held", _("held")),
        "available_from",
        "expires_at",
    ]
    list_filter = ["kind"]
    list_select_related = ["account__customer", "account__program"]
    search_fields = ["account__customer__phone", "account__customer__name_search"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    actions = None


@admin.register(Entry)
class EntryAdmin(ShowsActors, ReadOnlyAdmin):
    list_display = [
        "created_at",
        "account",
        "kind",
        money_column("amount", _("amount")),
        "receipt",
        "actor",
        "reason",
    ]
    list_filter = ["kind"]
    list_select_related = ["account__customer", "account__program", "receipt"]
    search_fields = [
        "account__customer__phone",
        "account__customer__name_search",
        "receipt__external_number",
        "actor",
        "reason",
    ]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    actions = None


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "account",
        money_column("amount", _("amount")),
        money_column("captured_amount", _("captured amount")),
        "status",
        "expires_at",
    ]
    list_filter = ["status"]
    list_select_related = ["account__customer", "account__program"]
    ordering = ["-created_at", "-id"]
    actions = None

"""The back office's sidebar: the models grouped by area, each shown only to those who may
see it (unfold's SIDEBAR navigation callback)."""

from __future__ import annotations

from django.apps import apps
from django.contrib import admin
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .scoping import staff_member
from .start import SETTING_UP

# (group title, [(app label, model name, material icon[, title]), ...]); an item's title is
# the model's plural name unless given.
AREAS = [
    (
        _("Customers"),
        [
            ("customers", "customer", "person"),
            ("customers", "card", "credit_card"),
            ("customers", "group", "groups"),
        ],
    ),
    (
        _("Catalogue"),
        [
            ("catalog", "product", "inventory_2"),
            ("catalog", "category", "account_tree"),
            ("catalog", "segment", "category"),
        ],
    ),
    (
        _("Programs and campaigns"),
        [
            ("programs", "program", "loyalty"),
            ("programs", "level", "military_tech"),
            ("programs", "levelassignment", "how_to_reg"),
            ("programs", "campaign", "campaign"),
            ("customers", "cardtype", "style"),
        ],
    ),
    (
        _("Receipts and ledger"),
        [
            ("sales", "receipt", "receipt_long"),
            ("ledger", "account", "account_balance_wallet"),
            ("ledger", "entry", "list_alt"),
            ("ledger", "lot", "stacks"),
            ("ledger", "hold", "lock_clock"),
            ("programs", "campaignuse", "redeem", _("Campaign uses")),
            ("programs", "levelchange", "trending_up"),
            ("merchants", "auditevent", "history"),
            ("limits", "limitalert", "gpp_maybe"),
        ],
    ),
    (
        _("Stores and staff"),
        [
            ("merchants", "merchant", "storefront"),
            ("merchants", "store", "store"),
            ("merchants", "register", "point_of_sale"),
            ("merchants", "staffmember", "badge"),
        ],
    ),
]


def sidebar(request) -> list[dict]:
    top = [{"title": _("Dashboard"), "icon": "dashboard", "link": reverse("admin:index")}]
    member = staff_member(request)
    if member is not None:  # reports are about one merchant
        top.append({"title": _("Reports"), "icon": "monitoring", "link": reverse("reports")})
    if member is not None and member.role in SETTING_UP:
        top.append({"title": _("Getting started"), "icon": "flag", "link": reverse("start")})
    if member is not None:
        top.append(
            {"title": _("Safe operations"), "icon": "shield", "link": reverse("safe_operations")}
        )
    groups = [{"items": top}]
    for title, models in AREAS:
        items = [item for item in (_item(request, *model) for model in models) if item]
        if items:
            groups.append({"title": title, "collapsible": True, "items": items})
    return groups


def _item(request, app_label: str, model_name: str, icon: str, title=None) -> dict | None:
    model = apps.get_model(app_label, model_name)
    model_admin = admin.site._registry.get(model)
    if model_admin is None or not model_admin.has_view_or_change_permission(request):
        return None
    return {
        "title": title or model._meta.verbose_name_plural.capitalize(),
        "icon": icon,
        "link": reverse(f"admin:{app_label}_{model_name}_changelist"),
    }

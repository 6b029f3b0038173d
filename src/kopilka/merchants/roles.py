"""The role matrix: which Django permissions each staff role's group holds.

Groups are created by a migration; their permissions are synced after every migrate, because
models added later bring new permissions.
"""

from django.contrib.auth.models import Group, Permission

from .models import Role

KOPILKA_APPS = ("merchants", "customers", "catalog", "programs", "ledger", "pos")
# Ledger rows change only through audited services; nobody edits them in the admin.
READ_ONLY_MODELS = {"entry", "lot", "hold", "holdallocation", "auditevent"}
MARKETER_MODELS = {"customer", "card", "group", "product", "category", "segment"}
OWNER_ONLY = {"merchant"}


def permissions_for(role: str) -> list[Permission]:
    perms = Permission.objects.filter(content_type__app_label__in=KOPILKA_APPS).select_related(
        "content_type"
    )
    chosen = []
    for perm in perms:
        model = perm.content_type.model
        action = perm.codename.split("_", 1)[0]
        if role == Role.CASHIER:
            continue
        if role == Role.AUDITOR or model in READ_ONLY_MODELS:
            allowed = action == "view"
        elif role == Role.OWNER:
            allowed = True
        elif role == Role.ADMIN:
            allowed = model not in OWNER_ONLY or action == "view"
        elif role == Role.MARKETER:
            allowed = model in MARKETER_MODELS or action == "view"
        else:
            allowed = False
        if allowed:
            chosen.append(perm)
    return chosen


def sync_role_groups(**_kwargs) -> None:
    for role in Role.values:
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(permissions_for(role))

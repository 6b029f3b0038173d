"""The role matrix: which Django permissions each staff role's group holds (docs/roles.md).

Groups are created by a migration; their permissions are synced after every migrate, because
models added later bring new permissions. Rules finer than a model (plan fields of a merchant,
who may appoint an owner) live in the back-office admin classes.
"""

from django.contrib.auth.models import Group, Permission

from .models import Role

KOPILKA_APPS = ("merchants", "customers", "catalog", "programs", "ledger", "sales", "limits")
# Rows written only by the till, the ledger, jobs or the audit trail: everybody may at most
# look at them, points change only through audited services.
READ_ONLY_MODELS = {
    "account",
    "lot",
    "entry",
    "hold",
    "holdallocation",
    "auditevent",
    "outboxevent",
    "receipt",
    "receiptline",
    "idempotencyrecord",
    "onetimecode",
    "ratecounter",
    "campaignuse",
    "levelchange",
    "limitusage",
    "limitalert",
}
# A marketer's daily work: the customer base, campaigns, and the catalogue's exclusions.
MARKETER_MODELS = {
    "customer",
    "card",
    "group",
    "campaign",
    "product",
    "category",
    "segment",
}


def role_allows(role: str, model: str, action: str) -> bool:
    """Whether `role` may perform `action` (add / change / delete / view) on `model`."""
    if role == Role.CASHIER:
        return False
    if role == Role.AUDITOR or model in READ_ONLY_MODELS:
        return action == "view"
    if role in (Role.OWNER, Role.ADMIN):
        # The differences between them are finer than a model: only an owner appoints or
        # changes owners (back-office staff admin); the plan is the platform's (merchant admin).
        return True
    if role == Role.MARKETER:
        return model in MARKETER_MODELS or action == "view"
    return False


def permissions_for(role: str) -> list[Permission]:
    perms = Permission.objects.filter(content_type__app_label__in=KOPILKA_APPS).select_related(
        "content_type"
    )
    return [
        perm
        for perm in perms
        if role_allows(role, perm.content_type.model, perm.codename.split("_", 1)[0])
    ]


def sync_role_groups(**_kwargs) -> None:
    for role in Role.values:
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(permissions_for(role))

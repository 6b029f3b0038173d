"""Writes of tenancy: merchants, stores, registers and their API keys, staff, audit events."""

from __future__ import annotations

import hashlib
import secrets
from zoneinfo import available_timezones

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kopilka.errors import Conflict, ValidationFailed

from . import sql
from .actors import Actor
from .models import AuditAction, AuditEvent, Merchant, Register, Role, StaffMember, Store

KEY_PREFIX_LENGTH = 8


def audit_record(
    *, merchant: Merchant, actor: Actor, action: AuditAction, obj, reason: str = "", data=None
) -> AuditEvent:
    """One row of the audit trail, in the caller's transaction. `action` is an AuditAction:
    a free-form string is refused (ValueError), so the trail's vocabulary stays one enum."""
    return AuditEvent.objects.create(
        merchant=merchant,
        actor=str(actor),
        action=AuditAction(action),
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        reason=reason,
        data=data or {},
    )


@transaction.atomic
def merchant_create(*, name: str, actor: Actor, **fields) -> Merchant:
    merchant = Merchant.objects.create(name=name, **fields)
    audit_record(merchant=merchant, actor=actor, action=AuditAction.MERCHANT_CREATE, obj=merchant)
    return merchant


@transaction.atomic
def store_create(*, merchant: Merchant, name: str, actor: Actor, **fields) -> Store:
    store = Store.objects.create(merchant=merchant, name=name, **fields)
    audit_record(merchant=merchant, actor=actor, action=AuditAction.STORE_CREATE, obj=store)
    return store


@transaction.atomic
def register_create(*, store: Store, name: str, actor: Actor) -> Register:
    register = Register.objects.create(merchant_id=store.merchant_id, store=store, name=name)
    audit_record(
        merchant=store.merchant, actor=actor, action=AuditAction.REGISTER_CREATE, obj=register
    )
    return register


def _hash_key(key: str) -> str:
    # API keys carry 256 bits of randomness, so a fast hash is enough (unlike passwords).
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def register_key_issue(*, register: Register, actor: Actor, key: str | None = None) -> str:
    """Issue a new API key (replacing any old one) and return it: the only time it is visible.

    `key` lets the demo data use known keys; real keys are always generated.
    """
    key = key or "kp_" + secrets.token_urlsafe(32)
    register.key_prefix = key[:KEY_PREFIX_LENGTH]
    register.key_hash = _hash_key(key)
    register.key_issued_at = timezone.now()
    register.is_active = True
    register.save(update_fields=["key_prefix", "key_hash", "key_issued_at", "is_active"])
    audit_record(
        merchant=register.merchant, actor=actor, action=AuditAction.REGISTER_KEY_ISSUE, obj=register
    )
    return key


@transaction.atomic
def register_key_revoke(*, register: Register, actor: Actor) -> None:
    register.key_prefix = ""
    register.key_hash = ""
    register.save(update_fields=["key_prefix", "key_hash"])
    audit_record(
        merchant=register.merchant,
        actor=actor,
        action=AuditAction.REGISTER_KEY_REVOKE,
        obj=register,
    )


def register_authenticate(key: str) -> Register | None:
    """The active register whose key this is (with its merchant and store), or None."""
    if not key or len(key) < KEY_PREFIX_LENGTH:
        return None
    digest = _hash_key(key)
    for register in sql.active_registers_by_key_prefix(key[:KEY_PREFIX_LENGTH]):
        if secrets.compare_digest(register.key_hash, digest):
            return register
    return None


@transaction.atomic
def staff_create(
    *, merchant: Merchant, username: str, password: str, role: str, actor: Actor, **user_fields
) -> StaffMember:
    """A staff user of one merchant. Cashiers get no back-office access (is_staff off)."""
    role = Role(role)
    user = get_user_model().objects.create_user(
        username=username,
        password=password,
        is_staff=role != Role.CASHIER,
        **user_fields,
    )
    user.groups.add(Group.objects.get(name=role.value))
    member = StaffMember.objects.create(user=user, merchant=merchant, role=role.value)
    audit_record(
        merchant=merchant,
        actor=actor,
        action=AuditAction.STAFF_CREATE,
        obj=member,
        data={"role": role},
    )
    return member


# --- back-office edits -------------------------------------------------------------------------

MERCHANT_FIELDS = {
    "name",
    "expiry_reminders",
    "currency",
    "time_zone",
    "phone_region",
    "language",
    "plan_name",
    "customer_limit",
}
STORE_FIELDS = {"name", "address", "accepts_bonus_payment", "is_active"}
REGISTER_FIELDS = {"name", "is_active"}


def _apply(obj, fields: dict, allowed: set[str]) -> list[str]:
    """Set the allowed fields that differ, validate the row, and return the changed names."""
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"unexpected fields: {sorted(unknown)}")
    changed = sorted(name for name, value in fields.items() if getattr(obj, name) != value)
    for name in changed:
        setattr(obj, name, fields[name])
    try:
        obj.full_clean(exclude=["merchant", "store", "user"])
    except ValidationError as error:
        raise ValidationFailed(_("The data is not valid."), fields=error.message_dict) from error
    return changed


def _save_unique(obj, update_fields: list[str]) -> None:
    try:
        with transaction.atomic():
            obj.save(update_fields=update_fields)
    except IntegrityError as exc:
        raise Conflict(_("A record with this name already exists.")) from exc


@transaction.atomic
def merchant_update(*, merchant: Merchant, actor: Actor, **fields) -> Merchant:
    """Change the merchant's settings (plan and customer limit included: callers decide who
    may touch those)."""
    merchant = Merchant.objects.select_for_update().get(pk=merchant.pk)
    if "time_zone" in fields and fields["time_zone"] not in available_timezones():
        raise ValidationFailed(
            _("Unknown time zone."), fields={"time_zone": [_("Unknown time zone.")]}
        )
    changed = _apply(merchant, fields, MERCHANT_FIELDS)
    if changed:
        merchant.save(update_fields=changed)
        audit_record(
            merchant=merchant,
            actor=actor,
            action=AuditAction.MERCHANT_UPDATE,
            obj=merchant,
            data={"fields": changed},
        )
    return merchant


@transaction.atomic
def store_update(*, store: Store, actor: Actor, **fields) -> Store:
    store = Store.objects.select_for_update().select_related("merchant").get(pk=store.pk)
    changed = _apply(store, fields, STORE_FIELDS)
    if changed:
        _save_unique(store, changed)
        audit_record(
            merchant=store.merchant,
            actor=actor,
            action=AuditAction.STORE_UPDATE,
            obj=store,
            data={"fields": changed},
        )
    return store


@transaction.atomic
def register_update(*, register: Register, actor: Actor, **fields) -> Register:
    """Rename or (de)activate a till; an inactive till's key stops working at once."""
    register = Register.objects.select_for_update().select_related("merchant").get(pk=register.pk)
    changed = _apply(register, fields, REGISTER_FIELDS)
    if changed:
        _save_unique(register, changed)
        audit_record(
            merchant=register.merchant,
            actor=actor,
            action=AuditAction.REGISTER_UPDATE,
            obj=register,
            data={"fields": changed},
        )
    return register


@transaction.atomic
def staff_update(
    *, member: StaffMember, actor: Actor, role: str | None = None, is_active: bool | None = None
) -> StaffMember:
    """Change a staff member's role (group and back-office access follow) or lock them out."""
    member = (
        StaffMember.objects.select_for_update().select_related("user", "merchant").get(pk=member.pk)
    )
    user = member.user
    data = {}
    if role is not None and Role(role) != member.role:
        role = Role(role)
        data["role"] = [member.role, role.value]
        user.groups.remove(*Group.objects.filter(name__in=Role.values))
        user.groups.add(Group.objects.get(name=role.value))
        user.is_staff = role != Role.CASHIER
        member.role = role.value
        member.save(update_fields=["role"])
    if is_active is not None and is_active != user.is_active:
        data["is_active"] = is_active
        user.is_active = is_active
    if data:
        user.save(update_fields=["is_staff", "is_active"])
        audit_record(
            merchant=member.merchant,
            actor=actor,
            action=AuditAction.STAFF_UPDATE,
            obj=member,
            data=data,
        )
    return member

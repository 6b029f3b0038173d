"""Writes of tenancy: merchants, stores, registers and their API keys, staff, audit events."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from .actors import Actor
from .models import AuditEvent, Merchant, Register, Role, StaffMember, Store

KEY_PREFIX_LENGTH = 8


def audit_record(
    *, merchant: Merchant, actor: Actor, action: str, obj, reason: str = "", data=None
) -> AuditEvent:
    return AuditEvent.objects.create(
        merchant=merchant,
        actor=str(actor),
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        reason=reason,
        data=data or {},
    )


@transaction.atomic
def merchant_create(*, name: str, actor: Actor, **fields) -> Merchant:
    merchant = Merchant.objects.create(name=name, **fields)
    audit_record(merchant=merchant, actor=actor, action="merchant.create", obj=merchant)
    return merchant


@transaction.atomic
def store_create(*, merchant: Merchant, name: str, actor: Actor, **fields) -> Store:
    store = Store.objects.create(merchant=merchant, name=name, **fields)
    audit_record(merchant=merchant, actor=actor, action="store.create", obj=store)
    return store


@transaction.atomic
def register_create(*, store: Store, name: str, actor: Actor) -> Register:
    register = Register.objects.create(merchant_id=store.merchant_id, store=store, name=name)
    audit_record(merchant=store.merchant, actor=actor, action="register.create", obj=register)
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
    audit_record(merchant=register.merchant, actor=actor, action="register.key_issue", obj=register)
    return key


@transaction.atomic
def register_key_revoke(*, register: Register, actor: Actor) -> None:
    register.key_prefix = ""
    register.key_hash = ""
    register.save(update_fields=["key_prefix", "key_hash"])
    audit_record(
        merchant=register.merchant, actor=actor, action="register.key_revoke", obj=register
    )


def register_authenticate(key: str) -> Register | None:
    """The active register whose key this is, or None."""
    if not key or len(key) < KEY_PREFIX_LENGTH:
        return None
    digest = _hash_key(key)
    for register in Register.objects.select_related("merchant", "store").filter(
        key_prefix=key[:KEY_PREFIX_LENGTH], is_active=True
    ):
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
        merchant=merchant, actor=actor, action="staff.create", obj=member, data={"role": role}
    )
    return member

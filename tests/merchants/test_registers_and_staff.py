"""Registers authenticate with keys that are stored hashed; staff roles are Django groups."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from kopilka.merchants import services
from kopilka.merchants.models import AuditEvent, Register, Role, StaffMember


def test_a_register_key_is_shown_once_and_stored_only_as_a_hash(register, actor):
    key = services.register_key_issue(register=register, actor=actor)
    stored = Register.objects.get(pk=register.pk)
    assert key not in (stored.key_hash, stored.key_prefix)
    assert len(stored.key_hash) == 64
    assert services.register_authenticate(key) == register


def test_a_wrong_or_revoked_key_authenticates_nobody(register, actor):
    key = services.register_key_issue(register=register, actor=actor)
    assert services.register_authenticate(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert services.register_authenticate("") is None
    services.register_key_revoke(register=register, actor=actor)
    assert services.register_authenticate(key) is None


def test_issuing_a_new_key_retires_the_old_one(register, actor):
    old = services.register_key_issue(register=register, actor=actor)
    new = services.register_key_issue(register=register, actor=actor)
    assert services.register_authenticate(old) is None
    assert services.register_authenticate(new) == register
    actions = list(
        AuditEvent.objects.filter(
            object_id=str(register.pk), action__startswith="register.key"
        ).values_list("action", flat=True)
    )
    assert actions == ["register.key_issue", "register.key_issue"]


def test_the_register_key_command_issues_and_revokes(register, capsys):
    call_command("register_key", "issue", str(register.pk))
    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert services.register_authenticate(key) == register
    call_command("register_key", "revoke", str(register.pk))
    assert services.register_authenticate(key) is None


def test_every_role_has_its_group(db):
    assert set(Group.objects.values_list("name", flat=True)) >= set(Role.values)


@pytest.mark.parametrize(
    ("role", "can", "cannot"),
    [
        ("owner", ["merchants.change_merchant", "customers.change_customer"], []),
        (
            "admin",
            ["customers.change_customer", "catalog.change_product", "merchants.change_merchant"],
            ["ledger.change_entry", "sales.change_receipt"],
        ),
        (
            "marketer",
            ["customers.add_customer", "catalog.view_product"],
            ["programs.change_program", "merchants.change_register"],
        ),
        (
            "auditor",
            ["customers.view_customer", "ledger.view_entry"],
            ["customers.change_customer", "catalog.change_product"],
        ),
        ("cashier", [], ["customers.view_customer"]),
    ],
)
def test_roles_grant_what_the_matrix_says(merchant, actor, role, can, cannot):
    member = services.staff_create(
        merchant=merchant, username=f"u-{role}", password="pw-12345678", role=role, actor=actor
    )
    user = member.user
    assert all(user.has_perm(p) for p in can), can
    assert not any(user.has_perm(p) for p in cannot), cannot
    assert not user.has_perm("ledger.change_entry")  # nobody edits the journal by hand
    assert user.is_staff == (role != "cashier")


def test_a_staff_user_belongs_to_one_merchant(merchant, actor):
    member = services.staff_create(
        merchant=merchant, username="anna", password="pw-12345678", role="marketer", actor=actor
    )
    assert StaffMember.objects.get(user=member.user).merchant == merchant

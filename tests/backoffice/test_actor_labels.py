"""Issue 16: the audit trail and the ledger say who did it as people read it: the staff
member's name, «Касса 1» (Главный), "Система (демо)", not the stored "user:5",
"register:1", "system:demo" (merchants.actors.actor_labels, the one renderer). The stored
value stays as it was; another merchant's staff and registers are never named."""

import html

import pytest
from django.db import transaction
from django.utils import translation

from kopilka.ledger import locks
from kopilka.ledger import services as ledger
from kopilka.merchants import services as merchants
from kopilka.merchants.actors import Actor, actor_label, actor_labels
from kopilka.merchants.models import Role
from kopilka.programs import services as programs
from tests.conftest import SYSTEM

from .admin_client import staff_user


@pytest.fixture
def anna(merchant):
    user = staff_user(merchant, Role.ADMIN, username="anna")
    user.first_name, user.last_name = "Анна", "Петрова"
    user.save()
    return user


def test_each_kind_of_actor_reads_as_people_read_it(merchant, register, anna, other_merchant):
    bob = staff_user(merchant, Role.MARKETER, username="bob")  # no name: the user name
    stranger = staff_user(other_merchant, Role.OWNER, username="stranger")
    elsewhere = merchants.register_create(
        store=merchants.store_create(merchant=other_merchant, name="Чужой", actor=SYSTEM),
        name="Чужая касса",
        actor=SYSTEM,
    )
    values = [
        f"user:{anna.pk}",
        f"user:{bob.pk}",
        f"user:{stranger.pk}",
        f"register:{register.pk}",
        f"register:{elsewhere.pk}",
        "system:demo",
        "system:system",
        "system:tick",
        "legacy text",
    ]
    with translation.override("ru"):
        labels = actor_labels(values, merchant)
    assert labels == {
        f"user:{anna.pk}": "Анна Петрова",
        f"user:{bob.pk}": "bob",
        f"user:{stranger.pk}": f"Сотрудник №{stranger.pk}",
        f"register:{register.pk}": "Касса «Касса 1» (Главный)",
        f"register:{elsewhere.pk}": f"Касса №{elsewhere.pk}",
        "system:demo": "Система (демо)",
        "system:system": "Система",
        "system:tick": "Система (ежедневная обработка)",
        "legacy text": "legacy text",
    }
    with translation.override("uk"):
        assert actor_label(str(Actor.register(register)), merchant) == "Каса «Касса 1» (Главный)"
        assert actor_label("system:demo", merchant) == "Система (демо)"
    with translation.override("en"):
        assert actor_label(str(Actor.register(register)), merchant) == (
            "Register «Касса 1» (Главный)"
        )


def test_the_audit_trail_list_and_page_name_the_register_not_its_id(
    client, merchant, register, anna
):
    event = merchants.audit_record(
        merchant=merchant,
        actor=Actor.register(register),
        action="register.update",
        obj=register,
    )
    client.force_login(staff_user(merchant, Role.OWNER))
    listing = html.unescape(client.get("/admin/merchants/auditevent/").content.decode())
    assert "Касса «Касса 1» (Главный)" in listing
    assert f"register:{register.pk}" not in listing
    detail = client.get(f"/admin/merchants/auditevent/{event.pk}/change/")
    page = html.unescape(detail.content.decode())
    assert detail.status_code == 200
    assert "Касса «Касса 1» (Главный)" in page and f"register:{register.pk}" not in page
    event.refresh_from_db()
    assert event.actor == f"register:{register.pk}"  # stored as it was


def test_ledger_entries_name_the_staff_member_and_the_system(
    client, merchant, program, make_customer, anna
):
    customer = make_customer()
    account = programs.customer_enrol(customer=customer, program=program, actor=SYSTEM)
    with transaction.atomic():
        [locked] = locks.lock_accounts([account.pk])
        ledger.credit(account=locked, amount=5000, actor=Actor.user(anna))
        ledger.credit(account=locked, amount=700, actor=Actor.system("demo"))
    client.force_login(staff_user(merchant, Role.OWNER))
    listing = html.unescape(client.get("/admin/ledger/entry/").content.decode())
    assert "Анна Петрова" in listing and "Система (демо)" in listing
    assert f"user:{anna.pk}" not in listing and "system:demo" not in listing
    card = client.get(f"/admin/customers/customer/{customer.pk}/card/")
    page = html.unescape(card.content.decode())
    assert "Анна Петрова" in page and "Система (демо)" in page
    assert "system:demo" not in page

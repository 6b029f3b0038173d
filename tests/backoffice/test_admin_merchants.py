"""The merchant's settings, stores, registers with their API keys, and the audit trail in the
back office."""

import re

import pytest

from kopilka.merchants import services
from kopilka.merchants.models import AuditEvent, Register, Role, Store

from .admin_client import page_form_data, staff_user


@pytest.fixture
def owner(client, merchant):
    client.force_login(staff_user(merchant, Role.OWNER))
    return client


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_an_owner_sees_only_their_own_merchant(owner, merchant, other_merchant):
    listed = owner.get("/admin/merchants/merchant/").context["cl"].result_list
    assert list(listed) == [merchant]
    assert owner.get(f"/admin/merchants/merchant/{other_merchant.pk}/change/").status_code == 302


def test_an_unknown_time_zone_is_a_form_error(owner, merchant):
    url = f"/admin/merchants/merchant/{merchant.pk}/change/"
    data = page_form_data(owner.get(url))
    data.update(time_zone="Mars/Olympus", _save="1")
    response = owner.post(url, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["time_zone"]
    merchant.refresh_from_db()
    assert merchant.time_zone == "Europe/Moscow"


def test_a_store_is_added_and_a_duplicate_name_is_refused_without_a_crash(owner, merchant, store):
    data = {"name": "Второй", "address": "ул. Ленина, 1", "is_active": "on", "_save": "1"}
    assert owner.post("/admin/merchants/store/add/", data).status_code == 302
    assert Store.objects.get(name="Второй").merchant == merchant

    data["name"] = store.name
    response = owner.post("/admin/merchants/store/add/", data)
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors()
    assert Store.objects.filter(merchant=merchant).count() == 2


def test_a_new_register_key_is_shown_once_and_works_until_revoked(owner, store):
    response = owner.post(
        "/admin/merchants/register/add/", {"store": store.pk, "name": "Касса 2", "_save": "1"}
    )
    assert response.status_code == 302
    register = Register.objects.get(name="Касса 2")

    issued = owner.post(
        "/admin/merchants/register/",
        {"action": "issue_key", "_selected_action": [register.pk]},
        follow=True,
    )
    [key] = re.findall(r"kp_[\w-]+", " ".join(messages_of(issued)))
    assert services.register_authenticate(key) == register
    assert key not in owner.get(f"/admin/merchants/register/{register.pk}/change/").content.decode()

    owner.post(
        "/admin/merchants/register/", {"action": "revoke_key", "_selected_action": [register.pk]}
    )
    assert services.register_authenticate(key) is None
    assert AuditEvent.objects.filter(action="register.key_revoke").count() == 1


def test_a_marketer_cannot_issue_register_keys(client, merchant, register):
    client.force_login(staff_user(merchant, Role.MARKETER))
    client.post(
        "/admin/merchants/register/", {"action": "issue_key", "_selected_action": [register.pk]}
    )
    register.refresh_from_db()
    assert register.key_hash == ""


def test_the_audit_trail_lists_the_merchants_events_only(owner, merchant, other_merchant):
    page = owner.get("/admin/merchants/auditevent/")
    events = list(page.context["cl"].result_list)
    assert events and all(event.merchant_id == merchant.pk for event in events)
    assert AuditEvent.objects.filter(merchant=other_merchant).exists()
    assert (
        b'name="_save"'
        not in owner.get(f"/admin/merchants/auditevent/{events[0].pk}/change/").content
    )


def test_form_labels_start_with_a_capital_as_django_writes_them(owner, merchant):
    """The cashier's form and a program's money fields said "имя пользователя", "пароль",
    "приветственный бонус" beside "Роль" and "Название"."""
    from kopilka.programs.models import Program

    page = owner.get(
        "/admin/merchants/staffmember/add/", headers={"Accept-Language": "ru"}
    ).content.decode()
    for label in ("Имя пользователя", "Пароль", "Имя", "Фамилия", "E-mail", "Роль"):
        assert re.search(rf">\s*{label}\s*<", page), label
    program = Program.objects.create(merchant=merchant, name="Бонусы")
    page = owner.get(
        f"/admin/programs/program/{program.pk}/change/", headers={"Accept-Language": "ru"}
    ).content.decode()
    assert re.search(r">\s*Приветственный бонус\s*<", page)
    assert not re.search(r">\s*приветственный бонус\s*<", page)

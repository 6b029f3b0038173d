"""Password guessing at the staff sign-in pages (back office and till) is cut short: failures
are counted per user name and per client address, and past the limit a sign-in is refused
until the window ends, right password or not."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from kopilka.limits import ratelimit
from kopilka.merchants.models import Role
from kopilka.merchants.sign_in import client_address

from .admin_client import staff_user

PASSWORD = "a-long-test-password"
REFUSED = "Слишком много неудачных попыток входа"


@pytest.fixture
def limits(settings):
    settings.KOPILKA_RATE_LIMITS = {"sign_in": (3, 900), "sign_in_address": (5, 900)}


@pytest.fixture
def admin(merchant):
    return staff_user(merchant, Role.ADMIN)


def sign_in(client, path, username, password):
    return client.post(path, {"username": username, "password": password})


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_right_password_is_refused_once_a_name_has_failed_too_often(client, admin, limits):
    for _ in range(3):
        answer = sign_in(client, "/admin/login/", admin.username, "wrong")
        assert answer.status_code == 200 and REFUSED not in answer.content.decode()

    answer = sign_in(client, "/admin/login/", admin.username, PASSWORD)
    [minutes] = re.findall(r"Повторите попытку через (\d+) минут", answer.content.decode())
    assert 1 <= int(minutes) <= 15  # the rest of the 15-minute window
    assert not signed_in(client)


def test_failures_below_the_limit_and_successes_lock_nobody_out(client, admin, limits):
    for _ in range(2):
        sign_in(client, "/admin/login/", admin.username, "wrong")
    assert sign_in(client, "/admin/login/", admin.username, PASSWORD).status_code == 302
    client.logout()
    for _ in range(5):  # successes are not failures
        assert sign_in(client, "/admin/login/", admin.username, PASSWORD).status_code == 302
        client.logout()


def test_the_lock_ends_with_its_window(client, admin, limits, monkeypatch):
    for _ in range(3):
        sign_in(client, "/admin/login/", admin.username, "wrong")
    assert not signed_in(client)

    later = timezone.now() + timedelta(minutes=15)
    monkeypatch.setattr(ratelimit.timezone, "now", lambda: later)
    assert sign_in(client, "/admin/login/", admin.username, PASSWORD).status_code == 302


def test_another_staff_member_is_not_locked_out_by_someone_elses_failures(merchant, limits):
    target, colleague = staff_user(merchant, Role.ADMIN), staff_user(merchant, Role.MARKETER)
    for _ in range(3):
        sign_in(Client(), "/admin/login/", target.username, "wrong")
    assert REFUSED in sign_in(Client(), "/admin/login/", target.username, PASSWORD).content.decode()
    assert sign_in(Client(), "/admin/login/", colleague.username, PASSWORD).status_code == 302


def test_one_address_trying_many_names_is_stopped(merchant, admin, limits):
    for number in range(5):
        sign_in(Client(), "/admin/login/", f"guess-{number}", "wrong")
    refused = sign_in(Client(), "/admin/login/", admin.username, PASSWORD)
    assert REFUSED in refused.content.decode()

    elsewhere = Client(REMOTE_ADDR="192.0.2.10")
    assert sign_in(elsewhere, "/admin/login/", admin.username, PASSWORD).status_code == 302


def test_the_till_sign_in_counts_failures_too(client, merchant, limits):
    cashier = staff_user(merchant, Role.CASHIER)
    for _ in range(3):
        sign_in(client, "/cashier/login/", cashier.username, "wrong")
    refused = sign_in(client, "/cashier/login/", cashier.username, PASSWORD)
    assert REFUSED in refused.content.decode()
    assert not signed_in(client)


def test_the_default_limits_allow_ten_failures_per_name(client, admin):
    for _ in range(10):
        assert REFUSED not in sign_in(client, "/admin/login/", admin.username, "x").content.decode()
    assert REFUSED in sign_in(client, "/admin/login/", admin.username, PASSWORD).content.decode()


class Request:
    def __init__(self, **meta):
        self.META = meta


def test_behind_a_tls_proxy_the_address_is_the_hop_the_proxy_added(settings):
    forged = Request(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.7")
    settings.SECURE_PROXY_SSL_HEADER = None
    assert client_address(forged) == "10.0.0.1"
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert client_address(forged) == "198.51.100.7"
    assert client_address(Request(REMOTE_ADDR="10.0.0.1")) == "10.0.0.1"

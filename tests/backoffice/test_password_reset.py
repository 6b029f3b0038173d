"""Staff who forgot their password set a new one through a link sent by e-mail."""

import os
import re
import subprocess
import sys

import pytest
from django.contrib.auth import authenticate
from django.core import mail

from kopilka.merchants.models import Role

from .admin_client import staff_user


@pytest.fixture
def marketer(merchant):
    user = staff_user(merchant, Role.MARKETER)
    user.email = "marketer@example.com"
    user.save(update_fields=["email"])
    return user


def reset_link(letter) -> str:
    [link] = re.findall(r"https?://[^/\s]+(/admin/reset/\S+/)", letter.body)
    return link


def test_the_sign_in_pages_offer_a_password_reset(client):
    page = client.get("/admin/login/").content.decode()
    assert 'href="/admin/password_reset/"' in page
    assert "Вернуться на сайт" in page  # unfold's own header, in our catalogue
    assert 'href="/admin/password_reset/"' in client.get("/cashier/login/").content.decode()


def test_a_staff_member_sets_a_new_password_from_the_letter(client, marketer):
    page = client.get("/admin/password_reset/")
    assert page.status_code == 200
    assert "Восстановление пароля" in page.content.decode()  # Russian by default

    sent = client.post("/admin/password_reset/", {"email": "Marketer@example.com"})

    assert sent.status_code == 302 and sent["Location"] == "/admin/password_reset/done/"
    [letter] = mail.outbox
    assert letter.to == ["marketer@example.com"]
    form = client.get(reset_link(letter), follow=True)
    assert form.status_code == 200 and "new_password1" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "brand-new-pass-7391", "new_password2": "brand-new-pass-7391"},
        follow=True,
    )
    assert done.redirect_chain[-1][0] == "/admin/reset/done/"
    assert 'href="/admin/login/"' in done.content.decode()
    assert authenticate(username=marketer.username, password="brand-new-pass-7391") == marketer
    assert authenticate(username=marketer.username, password="a-long-test-password") is None
    # The link worked once.
    again = client.get(reset_link(letter), follow=True)
    assert "new_password1" not in again.content.decode()


def test_a_cashier_is_sent_back_to_the_till_to_sign_in(client, merchant):
    cashier = staff_user(merchant, Role.CASHIER)
    cashier.email = "till@example.com"
    cashier.save(update_fields=["email"])
    client.post("/admin/password_reset/", {"email": "till@example.com"})
    [letter] = mail.outbox
    form = client.get(reset_link(letter), follow=True)
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "brand-new-pass-7391", "new_password2": "brand-new-pass-7391"},
        follow=True,
    )
    assert 'href="/cashier/login/"' in done.content.decode()
    assert authenticate(username=cashier.username, password="brand-new-pass-7391") == cashier


def test_an_unknown_address_gets_the_same_answer_and_no_letter(client, marketer):
    sent = client.post("/admin/password_reset/", {"email": "nobody@example.com"})
    assert sent.status_code == 302 and sent["Location"] == "/admin/password_reset/done/"
    assert mail.outbox == []


def test_a_weak_or_mismatched_password_is_refused_and_the_old_one_kept(client, marketer):
    client.post("/admin/password_reset/", {"email": "marketer@example.com"})
    form = client.get(reset_link(mail.outbox[0]), follow=True)
    url = form.redirect_chain[-1][0]
    for first, second in (("12345678", "12345678"), ("brand-new-pass-7391", "other-pass-7391")):
        response = client.post(url, {"new_password1": first, "new_password2": second})
        assert response.status_code == 200
        assert response.context["form"].errors
    assert authenticate(username=marketer.username, password="a-long-test-password") == marketer


def test_behind_a_tls_proxy_the_link_is_https(client, marketer, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    client.post(
        "/admin/password_reset/",
        {"email": "marketer@example.com"},
        headers={"X-Forwarded-Proto": "https"},
    )
    [letter] = mail.outbox
    assert re.search(r"https://[^/\s]+/admin/reset/\S+/", letter.body)


@pytest.mark.parametrize("value, header", [("1", "HTTP_X_FORWARDED_PROTO"), ("0", None)])
def test_kopilka_tls_proxy_decides_whether_forwarded_proto_is_trusted(value, header):
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; import django; django.setup(); "
            "print((getattr(settings, 'SECURE_PROXY_SSL_HEADER', None) or [None])[0])",
        ],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "kopilka.settings",
            "KOPILKA_TLS_PROXY": value,
        },
        capture_output=True,
        text=True,
        check=True,
    )
    assert shown.stdout.strip() == str(header)


def test_a_few_letters_an_hour_per_address_then_the_same_answer_without_one(
    client, marketer, merchant
):
    for _ in range(5):
        sent = client.post("/admin/password_reset/", {"email": "marketer@example.com"})
        assert sent.status_code == 302 and sent["Location"] == "/admin/password_reset/done/"
    assert len(mail.outbox) == 3
    owner = staff_user(merchant, Role.OWNER)
    owner.email = "owner@example.com"
    owner.save(update_fields=["email"])
    client.post("/admin/password_reset/", {"email": "owner@example.com"})
    assert len(mail.outbox) == 4  # another address has its own count

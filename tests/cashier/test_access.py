"""Who may use the cashier screen, and at which register."""

import pytest
from django.test import Client

from kopilka.merchants import services as merchants

from .conftest import PASSWORD


def test_a_visitor_who_is_not_signed_in_is_sent_to_the_cashier_sign_in(db):
    response = Client().get("/cashier/")
    assert response.status_code == 302
    assert response["Location"].startswith("/cashier/login/")


def test_an_htmx_request_without_a_session_is_redirected_by_header(db):
    response = Client().post("/cashier/identify/", {"q": "x"}, headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith("/cashier/login/")


def test_a_cashier_signs_in_and_with_one_register_goes_straight_to_the_till(
    merchant, register, actor
):
    merchants.staff_create(
        merchant=merchant, username="kassa", password=PASSWORD, role="cashier", actor=actor
    )
    client = Client()
    response = client.post(
        "/cashier/login/", {"username": "kassa", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/cashier/"
    page = response.content.decode()
    assert register.store.name in page and register.name in page
    assert 'id="identify"' in page


def test_a_wrong_password_is_refused_on_the_sign_in_page(merchant, actor):
    merchants.staff_create(
        merchant=merchant, username="kassa", password=PASSWORD, role="cashier", actor=actor
    )
    response = Client().post("/cashier/login/", {"username": "kassa", "password": "wrong"})
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert "_auth_user_id" not in response.wsgi_request.session


def test_with_several_registers_the_cashier_chooses_one_and_it_is_kept(
    staff_client, register, actor
):
    second = merchants.register_create(store=register.store, name="Касса 2", actor=actor)
    client = staff_client("cashier")
    assert client.get("/cashier/").url == "/cashier/register/"
    page = client.get("/cashier/register/").content.decode()
    assert "Касса 1" in page and "Касса 2" in page
    assert client.post("/cashier/register/", {"register": second.pk}).url == "/cashier/"
    assert "Касса 2" in client.get("/cashier/").content.decode()


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owners_and_administrators_may_cover_a_till(staff_client, register, role):
    client = staff_client(role)
    response = client.get("/cashier/", follow=True)
    assert response.status_code == 200
    assert 'id="identify"' in response.content.decode()


@pytest.mark.parametrize("role", ["marketer", "auditor"])
def test_marketers_and_auditors_are_refused_with_a_clear_message(staff_client, register, role):
    client = staff_client(role)
    response = client.get("/cashier/")
    assert response.status_code == 403
    assert "The cashier screen is for cashiers, administrators and owners" in (
        response.content.decode()
    )
    assert client.post("/cashier/identify/", {"q": "+79161234567"}).status_code == 403


def test_a_cashier_cannot_choose_a_register_of_another_merchant(
    staff_client, register, other_merchant, actor
):
    other_store = merchants.store_create(merchant=other_merchant, name="Чужой", actor=actor)
    foreign = merchants.register_create(store=other_store, name="Чужая касса", actor=actor)
    merchants.register_create(store=register.store, name="Касса 2", actor=actor)
    client = staff_client("cashier")
    response = client.post("/cashier/register/", {"register": foreign.pk})
    assert response.status_code == 422
    assert "Чужая касса" not in response.content.decode()
    assert client.get("/cashier/").url == "/cashier/register/"


def test_a_register_switched_off_meanwhile_sends_the_cashier_back_to_the_choice(cashier, register):
    register.is_active = False
    register.save()
    assert cashier.get("/cashier/").url == "/cashier/register/"


def test_signing_out_ends_the_till_session(cashier):
    response = cashier.post("/cashier/logout/")
    assert response.url == "/cashier/login/"
    assert cashier.get("/cashier/").status_code == 302

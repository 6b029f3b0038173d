"""Issue 16: Django's own 404 and CSRF-failure pages are the back office's, in the reader's
language, saying what to do: a missing page points home; a form sent from a page that is
out of date ("страница устарела") says nothing was saved and to reload and send again.
Signed-in staff see them inside the back office; the till's htmx requests get its message
bar; the API gets a problem document."""

import json
import re

import pytest
from django.test import Client

from kopilka.merchants.models import Role
from tests.backoffice.admin_client import staff_user

NOT_FOUND = {
    "ru": ("Страница не найдена", "Такой страницы нет, или она переехала."),
    "uk": ("Сторінку не знайдено", "Такої сторінки немає, або вона переїхала."),
    "en": ("Page not found", "There is no such page, or it has moved."),
}
OUT_OF_DATE = {
    "ru": ("Страница устарела", "Обновите страницу, введите данные ещё раз и отправьте."),
    "uk": ("Сторінка застаріла", "Оновіть сторінку, введіть дані ще раз і надішліть."),
    "en": ("The page is out of date", "Reload the page, enter the data again and send it."),
}
# unfold's stylesheet: the page has the back office's look, not Django's bare one
BACK_OFFICE_STYLE = "unfold/css/styles.css"


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
@pytest.mark.django_db
def test_a_missing_page_is_the_back_offices_page_in_the_readers_language(language):
    client = Client(headers={"Accept-Language": language})
    response = client.get("/no-such-page/")
    page = response.content.decode()
    title, message = NOT_FOUND[language]
    assert response.status_code == 404
    assert 'id="problem"' in page and BACK_OFFICE_STYLE in page
    assert re.search(rf"<title>\s*{title} \|", page) and message in page
    assert 'id="problem-home" href="/"' in page


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
@pytest.mark.django_db
def test_a_sign_in_sent_from_an_old_page_says_to_reload_and_send_again(language):
    client = Client(enforce_csrf_checks=True, headers={"Accept-Language": language})
    response = client.post("/admin/login/?next=/admin/", {"username": "a", "password": "b"})
    page = response.content.decode()
    title, what_to_do = OUT_OF_DATE[language]
    assert response.status_code == 403
    assert 'id="problem"' in page and BACK_OFFICE_STYLE in page
    assert re.search(rf"<title>\s*{title} \|", page) and what_to_do in page
    assert 'id="problem-again" href="/admin/login/?next=/admin/"' in page
    assert "CSRF" not in page  # Django's developer wording is not shown


def test_staff_see_a_missing_page_and_an_old_form_inside_the_back_office(client, merchant):
    owner = staff_user(merchant, Role.OWNER)
    client.force_login(owner)
    missing = client.get("/admin/no-such-page/")
    page = missing.content.decode()
    assert missing.status_code == 404
    assert 'id="problem"' in page and "Страница не найдена" in page
    assert 'id="problem-home" href="/admin/"' in page
    assert "/admin/logout/" in page  # the back office around it, its user menu

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    old_form = strict.post("/admin/catalog/product/add/", {"sku": "A-1", "name": "Кофе"})
    page = old_form.content.decode()
    assert old_form.status_code == 403
    assert 'id="problem"' in page and "Страница устарела" in page
    assert "Ничего не сохранено." in page
    assert 'id="problem-again" href="/admin/catalog/product/add/"' in page


def test_the_till_shows_an_old_form_in_its_message_bar(merchant, register, actor):
    from kopilka.merchants import services as merchants

    member = merchants.staff_create(
        merchant=merchant,
        username="till",
        password="a-long-password-1",
        role="cashier",
        actor=actor,
    )
    strict = Client(enforce_csrf_checks=True, headers={"Accept-Language": "ru"})
    strict.force_login(member.user)
    response = strict.post("/cashier/receipt/", {"key": "k"}, headers={"HX-Request": "true"})
    page = response.content.decode()
    assert response.status_code == 403
    assert 'id="message"' in page and "Обновите страницу" in page
    assert "<html" not in page


@pytest.mark.django_db
def test_the_api_answers_a_missing_address_with_a_problem_document():
    response = Client(headers={"Accept-Language": "en"}).get("/api/v1/no-such-thing")
    assert response.status_code == 404
    body = json.loads(response.content)
    assert body["status"] == 404

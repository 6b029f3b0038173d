"""The back office speaks Russian and Ukrainian after a post too, not only on the pages the
browser sweep opens (tests/browser/test_i18n_sweep.py): every add form of the domain posted
empty answers with its errors in the language, as does the safe-operations page posted with
nonsense (the checker is tests/i18n_check.py)."""

import pytest
from django.test import Client

from kopilka.merchants.models import Role
from tests.i18n_check import Checker, data_words_of, html_texts

from .admin_client import page_form_data, staff_user
from .test_admin_pages import OUR_ADMINS, one_of_everything  # noqa: F401  (a fixture)

pytestmark = [pytest.mark.usefixtures("one_of_everything"), pytest.mark.sqlite_only]

REQUIRED = {"ru": "Обязательное поле.", "uk": "Обов'язкове поле."}
MANAGEMENT = ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS")


def client_in(merchant, language):
    """The owner's client in `language`, and the checker with the data shown as words."""
    client, user = Client(), staff_user(merchant, Role.OWNER)
    client.force_login(user)
    client.cookies["django_language"] = language
    words = data_words_of([merchant.name, user.get_username(), "Вода", "VIP", "Анна"])
    return client, Checker(language, words)


@pytest.mark.parametrize("language", ["ru", "uk"])
def test_every_add_form_posted_empty_answers_in_the_language(merchant, language):
    client, checker = client_in(merchant, language)
    found, posted, required = [], 0, 0
    for app, model in OUR_ADMINS:
        url = f"/admin/{app}/{model}/add/"
        page = client.get(url)
        if page.status_code != 200:
            continue  # rows written only by services: no add form
        # The form as a person sends it with nothing filled in: the formsets' hidden
        # management fields stay (a browser always sends them), every other field is blank.
        empty = {
            name: value if name.endswith(MANAGEMENT) else ""
            for name, value in page_form_data(page).items()
        }
        answer = client.post(url, empty)
        posted += 1
        assert answer.status_code in (200, 400), (url, answer.status_code)
        texts = html_texts(answer.text)
        required += any(REQUIRED[language] in text for text in texts)
        found += [(url, text, why) for text, why in checker.problems(texts)]
    assert posted >= 10 and required >= 10  # the forms did answer with their errors
    assert found == []


@pytest.mark.parametrize("language", ["ru", "uk"])
def test_the_safe_operations_page_with_errors_answers_in_the_language(merchant, language):
    client, checker = client_in(merchant, language)
    answer = client.post(
        "/admin/safe-operations/",
        {"accrual__card__soft": "abc", "accrual__card__hard": "-1", "stores": "x"},
    )
    texts = html_texts(answer.text)
    assert checker.problems(texts) == []
    assert any("число" in text for text in texts)  # the errors are there, in the language


@pytest.mark.parametrize("language", ["ru", "uk"])
def test_the_message_after_saving_is_in_the_language(merchant, language):
    client, checker = client_in(merchant, language)
    url = "/admin/catalog/category/add/"
    data = {**page_form_data(client.get(url)), "name": "Билеты"}
    answer = client.post(url, data, follow=True)
    [message] = [str(m) for m in answer.context["messages"]]
    assert "Билеты" in message
    assert checker.problems([message]) == []
    assert checker.problems(html_texts(answer.text)) == []

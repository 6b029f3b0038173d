"""The untranslated-text checker of the browser sweep (tests/i18n_check.py) can fail: English
put on a page on purpose is caught, in both ways it looks, and Russian or Ukrainian is not."""

import pytest
from django.template import Context, Template
from django.utils import translation

from tests.i18n_check import Checker, data_words_of


@pytest.mark.parametrize("language", ["ru", "uk"])
@pytest.mark.parametrize(
    "text",
    [
        "Filters",
        "Apply Filters",
        "Доступные groups",
        "Search apps and models...",
        "Welcome back to",
        "Kopilka",
        "From/To",
        "Program",
    ],
)
def test_english_interface_words_are_caught(language, text):
    assert Checker(language).problem(text)


@pytest.mark.parametrize(
    "text",
    [
        "Применить фильтры",
        "Доступные группы",
        "1\xa0234,50\xa0₽",
        "30\xa0%",
        "Копилка",
        "anna@example.com",
        "+79160000001",
    ],
)
def test_russian_passes(text):
    assert Checker("ru").problem(text) is None


def test_a_deliberately_untranslated_template_string_is_caught():
    template = Template(
        '{% load i18n %}{% translate "Zorble flimwhacks quabbly" %}'
        "<p>{% translate 'Filters' %}</p>"
    )
    with translation.override("ru"):
        html = template.render(Context())
    # No catalogue knows the first string, so Russian shows the English source: it is not
    # a vocabulary word, but it is an English sentence. "Filters" is translated.
    assert html.startswith("Zorble flimwhacks quabbly")
    assert "Фильтры" in html
    checker = Checker("ru")
    found = dict(checker.problems(["Zorble flimwhacks quabbly", "Фильтры"]))
    assert found == {"Zorble flimwhacks quabbly": "an English sentence"}


def test_data_words_are_not_interface_words():
    checker = Checker("ru", data_words=data_words_of(["Latte Macchiato", "VIP"]))
    assert checker.problem("Latte Macchiato") is None
    assert checker.problem("VIP") is None
    assert checker.problem("Latte Filters")  # data does not excuse an interface word


def test_ukrainian_has_its_own_vocabulary_of_kept_words():
    assert Checker("uk").problem("Фільтри") is None
    assert Checker("uk").problem("Select value")

"""The cashier screen's answers to posts speak the language too: a registration with errors,
a receipt confirmed incomplete, an unknown code scanned, a refund of nothing (htmx fragments
the browser sweep never opens; the checker is tests/i18n_check.py)."""

import pytest

from tests.i18n_check import Checker, data_words_of, html_texts

from .conftest import receipt_form

pytestmark = pytest.mark.sqlite_only  # the words do not depend on the database


@pytest.mark.parametrize("language", ["ru", "uk"])
def test_the_cashier_screens_error_answers_are_in_the_language(
    cashier, bonus_program, merchant, register, language
):
    cashier.cookies["django_language"] = language
    answers = {
        "register": cashier.post(
            "/cashier/customer/new/", {"first_name": "Олег", **receipt_form()}
        ),
        "register bad phone": cashier.post(
            "/cashier/customer/new/", {"phone": "12", "birthday": "2999-01-01", **receipt_form()}
        ),
        "confirm": cashier.post("/cashier/confirm/", receipt_form()),
        "scan": cashier.post("/cashier/scan/", {"code": "0000000", **receipt_form()}),
    }
    checker = Checker(language, data_words_of([merchant.name, register.name, register.store.name]))
    found = []
    for name, answer in answers.items():
        assert answer.status_code in (200, 404, 422), (name, answer.status_code)
        found += [(name, t, why) for t, why in checker.problems(html_texts(answer.text))]
    assert found == []
    assert all(html_texts(answer.text) for answer in answers.values())

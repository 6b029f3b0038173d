"""Hostile input never reaches a 500 in the back office: every list's filters and search box,
fed NUL bytes, huge numbers, malformed dates and unknown choices, as the owner, answer with a
page (the list, or an error page), never a server error."""

import pytest
from django.test import Client
from django.utils import translation

from kopilka.customers.models import Group
from kopilka.merchants.models import Role

from .admin_client import form_data, page_form_data, staff_user
from .test_admin_pages import OUR_ADMINS, one_of_everything  # noqa: F401  (a fixture)

pytestmark = pytest.mark.usefixtures("one_of_everything")

HOSTILE = ["\x00", "a\x00b", "9" * 30, "-9" + "9" * 25, "2026-13-45", "nan", "<script>", "🙂" * 50]


def filter_parameters(response) -> list[str]:
    changelist = response.context["cl"]
    names = {"q"}
    for spec in changelist.filter_specs:
        names.update(spec.expected_parameters())
    return sorted(names)


@pytest.mark.parametrize(("app", "model"), OUR_ADMINS)
def test_every_list_filter_and_search_survives_hostile_values(merchant, app, model):
    owner = Client(raise_request_exception=False)
    owner.force_login(staff_user(merchant, Role.OWNER))
    url = f"/admin/{app}/{model}/"
    first = owner.get(url)
    assert first.status_code == 200
    failures = []
    for name in filter_parameters(first):
        for value in HOSTILE:
            status = owner.get(url, {name: value}).status_code
            if status >= 500:
                failures.append((name, value, status))
    assert failures == []


def test_a_nul_character_in_a_filter_is_refused_with_a_page_that_says_so(merchant):
    owner = Client()
    owner.force_login(staff_user(merchant, Role.OWNER))
    with translation.override("ru"):
        page = owner.get("/admin/customers/customer/", {"status__exact": "\x00"})
    assert page.status_code == 400
    assert "NUL" in page.content.decode()
    assert "Ничего не сохранено" in page.content.decode()


def test_a_nul_character_in_a_form_is_refused_before_anything_is_saved(merchant):
    owner = Client()
    owner.force_login(staff_user(merchant, Role.OWNER))
    before = Group.objects.count()
    answer = owner.post("/admin/customers/group/add/", {"name": "VIP\x00"})
    assert answer.status_code == 400
    assert Group.objects.count() == before


FORM_HOSTILE = ["9" * 30, "2026-13-45 25:61"]


@pytest.mark.parametrize(("app", "model"), OUR_ADMINS)
def test_every_change_form_survives_hostile_values_in_each_field(merchant, app, model):
    """Each field of a row's change page, in turn, gets a huge number or a malformed date;
    the answer is the form with its errors (or the saved row), never a server error."""
    owner = Client(raise_request_exception=False)
    owner.force_login(staff_user(merchant, Role.OWNER))
    rows = owner.get(f"/admin/{app}/{model}/").context["cl"].result_list
    url = f"/admin/{app}/{model}/{rows[0].pk}/change/"
    page = owner.get(url)
    if "adminform" not in (page.context or {}):
        pytest.skip("read-only for the owner: nothing to post")
    data = page_form_data(page)
    failures = []
    for name in data:
        if name.endswith(("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS")):
            continue
        for value in FORM_HOSTILE:
            status = owner.post(url, {**data, name: value}).status_code
            if status >= 500:
                failures.append((name, value, status))
    assert failures == []


def test_the_safe_operations_page_refuses_hostile_values_and_keeps_the_settings(merchant):
    owner = Client(raise_request_exception=False)
    owner.force_login(staff_user(merchant, Role.OWNER))
    page = owner.get("/admin/safe-operations/")
    data = form_data(page.context["form"])
    assert "accrual__card__hard" in data
    failures = []
    for name in data:
        zero = ["0"] if "__" in name else []  # no threshold is empty; 0 switches a pattern off
        for value in [*HOSTILE[1:], *FORM_HOSTILE, "-5", *zero]:
            answer = owner.post("/admin/safe-operations/", {**data, name: value})
            # the form again with its error; a NUL character: the refusal page (400)
            expected = 400 if "\x00" in value else 200
            if answer.status_code != expected:
                failures.append((name, value, answer.status_code))
    assert failures == []
    merchant.refresh_from_db()
    assert merchant.safe_operations == {}

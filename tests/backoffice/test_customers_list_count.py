"""The customer list says how many customers match (exact up to a bound, then "more than"
and an estimate), shows no paging when one page holds them all, and finds customers by the
last digits of the phone."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kopilka.backoffice import admin_customers
from kopilka.customers.models import Customer
from kopilka.merchants.models import Role

from .admin_client import staff_user

URL = "/admin/customers/customer/"


@pytest.fixture
def owner_client(client, merchant):
    client.force_login(staff_user(merchant, Role.OWNER))
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def per_page(monkeypatch):
    from django.contrib import admin

    model_admin = admin.site._registry[Customer]
    monkeypatch.setattr(model_admin, "list_per_page", 2)
    return 2


def test_a_list_that_fits_one_page_says_how_many_and_shows_no_paging(owner_client, make_customer):
    for _ in range(3):
        make_customer()
    with CaptureQueriesContext(connection) as queries:
        response = owner_client.get(URL)
    page = response.content.decode()
    assert '<p id="customer-count"' in page and "3 customers" in page
    assert 'id="customer-pages"' not in page
    # The page counted its own rows: no COUNT at all.
    assert not [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]


def test_a_filtered_list_counts_what_matches(owner_client, make_customer):
    make_customer(status=Customer.Status.BLOCKED)
    make_customer()
    page = owner_client.get(URL, {"status__exact": "blocked"}).content.decode()
    assert "1 customer<" in page


def test_several_pages_are_counted_with_a_bounded_count_and_paged(
    owner_client, make_customer, per_page
):
    for _ in range(5):
        make_customer()
    with CaptureQueriesContext(connection) as queries:
        response = owner_client.get(URL)
    page = response.content.decode()
    assert "5 customers" in page and 'id="customer-pages"' in page
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert counts and all("LIMIT" in sql.upper() for sql in counts)
    last = owner_client.get(URL, {"p": "3"})
    assert len(last.context["cl"].result_list) == 1
    assert last.context["cl"].has_next is False


def test_exactly_one_full_page_shows_no_paging(owner_client, make_customer, per_page):
    make_customer()
    make_customer()
    response = owner_client.get(URL)
    assert "2 customers" in response.content.decode()
    assert response.context["cl"].paged is False
    assert 'id="customer-pages"' not in response.content.decode()


def test_past_the_bound_the_list_says_more_than(owner_client, make_customer, per_page, monkeypatch):
    monkeypatch.setattr(admin_customers, "COUNT_EXACT_UP_TO", 3)
    for _ in range(5):
        make_customer()
    page = owner_client.get(URL).content.decode()
    assert "More than 3 customers" in page


def test_the_count_speaks_the_staff_members_language(client, merchant, make_customer):
    client.force_login(staff_user(merchant, Role.OWNER))
    for _ in range(2):
        make_customer()
    page = client.get(URL, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "2 покупателя" in page


def test_the_search_finds_by_the_last_digits_of_the_phone(owner_client, make_customer):
    anna = make_customer(phone="+79161234567")
    make_customer(phone="+79160000000")
    response = owner_client.get(URL, {"q": "4567"})
    assert [row.pk for row in response.context["cl"].result_list] == [anna.pk]
    assert "1 customer<" in response.content.decode()

"""Finding a customer by the last 4 or more digits of the phone (customers.selectors), through
the kept `phone_tail` column and its index; the other ways of searching still work."""

import pytest
from django.db import connection

from kopilka.customers import services
from kopilka.customers.models import Customer
from kopilka.customers.selectors import customer_find, customers_by_phone_suffix
from tests.conftest import SYSTEM


def found(merchant, query) -> list[tuple[int, str]]:
    return [(m.customer.pk, m.matched_by) for m in customer_find(merchant=merchant, query=query)]


@pytest.fixture
def anna(make_customer):
    return make_customer(phone="+79161234567", first_name="Анна", last_name="Петрова")


@pytest.fixture
def boris(make_customer):
    return make_customer(phone="+79039994567", first_name="Борис", last_name="Иванов")


def test_the_database_keeps_the_last_four_digits_of_the_phone(anna):
    anna.refresh_from_db()
    assert anna.phone_tail == "4567"
    services.customer_update(customer=anna, actor=SYSTEM, phone="+79160001111")
    anna.refresh_from_db()
    assert anna.phone_tail == "1111"
    services.customer_update(customer=anna, actor=SYSTEM, email="anna@example.com", phone="")
    anna.refresh_from_db()
    assert anna.phone_tail == ""


def test_four_digits_find_every_customer_whose_phone_ends_with_them(merchant, anna, boris):
    assert found(merchant, "4567") == [(anna.pk, "phone_suffix"), (boris.pk, "phone_suffix")]


def test_more_digits_narrow_the_suffix_in_any_spelling(merchant, anna, boris):
    for typed in ("34567", "123-45-67", "1234567", " 23 45 67 "):
        assert found(merchant, typed) == [(anna.pk, "phone_suffix")], typed
    assert found(merchant, "994567") == [(boris.pk, "phone_suffix")]


def test_fewer_than_four_digits_or_other_text_are_no_suffix(merchant, anna):
    assert customers_by_phone_suffix(merchant=merchant, query="567") == []
    assert customers_by_phone_suffix(merchant=merchant, query="a4567") == []
    assert customers_by_phone_suffix(merchant=merchant, query="0000") == []


def test_the_whole_phone_card_email_and_name_are_found_as_before(merchant, anna, boris):
    services.card_issue(customer=boris, kind="plastic", number="2900000000017", actor=SYSTEM)
    services.customer_update(customer=anna, actor=SYSTEM, email="anna@example.com")
    assert found(merchant, "8 (916) 123-45-67") == [(anna.pk, "phone")]
    assert found(merchant, "+7 916 1234567") == [(anna.pk, "phone")]
    assert found(merchant, "2900000000017") == [(boris.pk, "card")]
    assert found(merchant, "Anna@Example.com") == [(anna.pk, "email")]
    assert found(merchant, "петрова") == [(anna.pk, "name")]


def test_another_merchants_and_anonymised_customers_are_not_found(
    merchant, other_merchant, anna, make_customer
):
    make_customer(merchant=other_merchant, phone="+79167654567")
    gone = make_customer(phone="+79165554567")
    services.customer_anonymise(customer=gone, actor=SYSTEM)
    assert found(merchant, "4567") == [(anna.pk, "phone_suffix")]


def test_customers_registered_in_bulk_get_the_tail_too(merchant):
    """Kept by the database: rows no service wrote (imports, benchmarks) have it as well."""
    Customer.objects.bulk_create([Customer(merchant=merchant, phone="+79160007777")])
    assert [c.phone for c in customers_by_phone_suffix(merchant=merchant, query="7777")] == [
        "+79160007777"
    ]


@pytest.mark.postgres_only
def test_the_suffix_is_looked_up_through_its_index(merchant, anna):
    query = Customer.objects.filter(merchant=merchant, phone_tail="4567")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = query.explain()
    assert "customer_phone_tail_idx" in plan


def test_a_bounded_count_is_exact_up_to_its_bound(merchant, make_customer):
    from kopilka.customers.selectors import count_bounded

    for _ in range(5):
        make_customer()
    everyone = Customer.objects.filter(merchant=merchant)
    assert count_bounded(everyone, exact_up_to=5).exact == 5
    past = count_bounded(everyone, exact_up_to=2)
    assert (past.exact, past.at_least) == (None, 2)


@pytest.mark.postgres_only
def test_past_its_bound_the_count_gives_postgresqls_estimate(merchant, make_customer):
    from kopilka.customers.selectors import count_bounded

    for _ in range(5):
        make_customer()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_customer")
    past = count_bounded(Customer.objects.filter(merchant=merchant), exact_up_to=2)
    assert past.exact is None and past.estimate is not None and past.estimate > 2

import pytest
from django.utils import translation

from kopilka.customers.exceptions import DuplicateCustomer, InvalidEmail, InvalidPhone
from kopilka.customers.normalize import name_search_key, normalize_email, normalize_phone
from kopilka.customers.selectors import customer_find
from kopilka.customers.services import customer_register

SPELLINGS = ["8 (916) 123-45-67", "+7 916 1234567", "79161234567", "9161234567"]


@pytest.mark.parametrize("raw", SPELLINGS)
def test_every_russian_spelling_of_a_phone_becomes_the_same_e164_number(raw):
    assert normalize_phone(raw, "RU") == "+79161234567"


def test_a_number_with_its_own_country_code_ignores_the_default_region():
    assert normalize_phone("+380 44 123 4567", "RU") == "+380441234567"


@pytest.mark.parametrize("raw", ["", "123", "not a phone", "+7 916 12"])
def test_an_invalid_phone_is_refused_with_a_stable_code(raw):
    with pytest.raises(InvalidPhone) as err:
        normalize_phone(raw, "RU")
    assert err.value.code == "invalid_phone"


def test_an_email_is_trimmed_and_lower_cased():
    assert normalize_email("  Anna.Petrova@Example.COM ") == "anna.petrova@example.com"


@pytest.mark.parametrize("raw", ["", "anna", "anna@", "@example.com", "an na@example.com"])
def test_an_invalid_email_is_refused_with_a_stable_code(raw):
    with pytest.raises(InvalidEmail) as err:
        normalize_email(raw)
    assert err.value.code == "invalid_email"


def test_the_name_search_key_ignores_case_and_yo():
    assert name_search_key(" Фёдорова ", "Алёна", "") == "федорова алена"


def test_three_spellings_of_one_phone_are_one_person(merchant, actor):
    first = customer_register(merchant=merchant, actor=actor, phone=SPELLINGS[0])
    assert first.phone == "+79161234567"

    for other in SPELLINGS[1:]:
        with pytest.raises(DuplicateCustomer) as err:
            customer_register(merchant=merchant, actor=actor, phone=other)
        assert err.value.code == "duplicate_customer"
        assert err.value.details["field"] == "phone"
        assert err.value.details["customer_id"] == first.pk
        with translation.override("en"):
            assert "phone" in str(err.value.message)
        with translation.override("ru"):
            assert "телефон" in str(err.value.message)

    for spelling in SPELLINGS:
        assert [m.customer for m in customer_find(merchant=merchant, query=spelling)] == [first]
        assert customer_find(merchant=merchant, query=spelling)[0].matched_by == "phone"


def test_an_email_in_other_case_is_a_duplicate_naming_the_email(merchant, actor):
    customer_register(merchant=merchant, actor=actor, email="Anna@Example.com")
    with pytest.raises(DuplicateCustomer) as err:
        customer_register(merchant=merchant, actor=actor, email=" anna@example.COM")
    assert err.value.details["field"] == "email"
    assert "e-mail" in str(err.value.message)


def test_the_same_phone_may_belong_to_customers_of_two_merchants(merchant, other_merchant, actor):
    a = customer_register(merchant=merchant, actor=actor, phone="89161234567")
    b = customer_register(merchant=other_merchant, actor=actor, phone="+79161234567")
    assert a.pk != b.pk

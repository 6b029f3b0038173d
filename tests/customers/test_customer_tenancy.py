"""Merchant B can neither see nor touch merchant A's customers, cards and groups.

Services take objects, and objects come only from these scoped selectors, so reaching A's
customer with B's credentials ends at customer_get(merchant=B, ...) or customer_find.
"""

import pytest

from kopilka.customers.exceptions import CardNotFound, CustomerNotFound, GroupNotFound
from kopilka.customers.selectors import card_get_by_number, customer_find, customer_get
from kopilka.customers.services import (
    card_issue,
    customer_register,
    customer_set_groups,
    group_create,
)


@pytest.fixture
def a_customer(merchant, make_customer, actor):
    customer = make_customer(
        phone="+79161234567", email="anna@example.com", first_name="Anna", last_name="Petrova"
    )
    card_issue(customer=customer, kind="plastic", number="4006381333931", actor=actor)
    return customer


@pytest.mark.parametrize(
    "query", ["89161234567", "anna@example.com", "Petrova", "anna", "4006381333931"]
)
def test_another_merchant_finds_nothing_by_phone_email_name_or_card(
    other_merchant, a_customer, query
):
    assert customer_find(merchant=a_customer.merchant, query=query) != []
    assert customer_find(merchant=other_merchant, query=query) == []


def test_another_merchant_cannot_get_a_customer_by_id(other_merchant, a_customer):
    with pytest.raises(CustomerNotFound) as err:
        customer_get(merchant=other_merchant, pk=a_customer.pk)
    assert (err.value.code, err.value.status) == ("customer_not_found", 404)
    assert customer_get(merchant=a_customer.merchant, pk=a_customer.pk) == a_customer


def test_another_merchant_cannot_get_a_card_by_number(other_merchant, a_customer):
    with pytest.raises(CardNotFound):
        card_get_by_number(merchant=other_merchant, number="4006381333931")


def test_the_same_card_number_at_another_merchant_is_another_card(
    other_merchant, a_customer, actor
):
    b_customer = customer_register(merchant=other_merchant, actor=actor, phone="+79161234567")
    b_card, _ = card_issue(customer=b_customer, kind="plastic", number="4006381333931", actor=actor)
    a_card = card_get_by_number(merchant=a_customer.merchant, number="4006381333931")
    assert a_card.customer == a_customer and b_card.customer == b_customer
    assert a_card.pk != b_card.pk


def test_another_merchants_group_cannot_be_given_to_a_customer(
    merchant, other_merchant, a_customer, actor
):
    b_group = group_create(merchant=other_merchant, name="VIP", actor=actor)
    with pytest.raises(GroupNotFound):
        customer_set_groups(customer=a_customer, groups=[b_group], actor=actor)
    with pytest.raises(GroupNotFound):
        customer_register(merchant=merchant, actor=actor, email="x@example.com", groups=[b_group])
    assert not a_customer.groups.exists()

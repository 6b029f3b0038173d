"""One merchant can never read or change another merchant's customers, cards, accounts or
receipts: every lookup is scoped, and another merchant's id looks exactly like a missing one."""

from datetime import UTC, datetime

import pytest

from kopilka.customers import selectors as customer_selectors
from kopilka.customers import services as customer_services
from kopilka.customers.exceptions import CardNotFound, CustomerNotFound
from kopilka.ledger import selectors as ledger_selectors
from kopilka.ledger import services as ledger
from kopilka.ledger.exceptions import AccountNotFound
from kopilka.merchants import services as merchants
from kopilka.programs.models import Program
from kopilka.sales import selectors as pos_selectors
from kopilka.sales.exceptions import ReceiptNotFound
from kopilka.sales.models import Receipt

from .ledger.helpers import locked


@pytest.fixture
def theirs(other_merchant, actor):
    """Merchant B's customer with a card, an account with points and a receipt."""
    customer = customer_services.customer_register(
        merchant=other_merchant,
        actor=actor,
        phone="+79160000001",
        email="b@example.com",
        first_name="Борис",
        card_number="2000000000017",
    )
    program = Program.objects.create(merchant=other_merchant, name="B")
    account = ledger.account_open(customer=customer, program=program, actor=actor)
    locked(account, ledger.credit, amount=5000, actor=actor)
    store = merchants.store_create(merchant=other_merchant, name="B store", actor=actor)
    register = merchants.register_create(store=store, name="B till", actor=actor)
    receipt = Receipt.objects.create(
        merchant=other_merchant,
        store=store,
        register=register,
        customer=customer,
        external_number="B-1",
        occurred_at=datetime(2026, 5, 1, tzinfo=UTC),
        subtotal=10000,
    )
    return customer, account, receipt


def test_another_merchants_customer_is_not_found_by_id_phone_email_or_name(merchant, theirs):
    customer, _, _ = theirs
    with pytest.raises(CustomerNotFound):
        customer_selectors.customer_get(merchant=merchant, pk=customer.pk)
    for query in ("+79160000001", "8 916 000-00-01", "b@example.com", "Борис", "2000000000017"):
        assert customer_selectors.customer_find(merchant=merchant, query=query) == []


def test_another_merchants_card_is_not_found(merchant, theirs):
    with pytest.raises(CardNotFound):
        customer_selectors.card_get_by_number(merchant=merchant, number="2000000000017")


def test_another_merchants_account_and_receipt_are_not_found(merchant, theirs):
    _, account, receipt = theirs
    with pytest.raises(AccountNotFound):
        ledger_selectors.account_get(merchant=merchant, pk=account.pk)
    with pytest.raises(ReceiptNotFound):
        pos_selectors.receipt_get(merchant=merchant, pk=receipt.pk)
    assert list(pos_selectors.receipts_of_customer(merchant=merchant, customer=theirs[0])) == []


def test_an_account_cannot_join_a_customer_to_another_merchants_program(
    make_customer, other_merchant, actor
):
    from kopilka.errors import ValidationFailed

    foreign_program = Program.objects.create(merchant=other_merchant, name="B")
    with pytest.raises(ValidationFailed):
        ledger.account_open(customer=make_customer(), program=foreign_program, actor=actor)


def test_the_same_phone_is_two_different_people_at_two_merchants(merchant, theirs, actor):
    mine = customer_services.customer_register(merchant=merchant, actor=actor, phone="89160000001")
    assert mine.pk != theirs[0].pk
    found = customer_selectors.customer_find(merchant=merchant, query="+7 916 000 00 01")
    assert [match.customer.pk for match in found] == [mine.pk]


def test_their_data_is_unchanged_after_our_lookups(merchant, theirs):
    customer, account, _ = theirs
    for pk in (customer.pk, str(customer.pk), "x"):
        with pytest.raises(CustomerNotFound):
            customer_selectors.customer_get(merchant=merchant, pk=pk)
    balance = ledger_selectors.account_balance(account, now=datetime.now(UTC))
    assert balance.available == 5000

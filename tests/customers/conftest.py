"""Fixtures of customer tests: a customer who holds points in the ledger."""

import pytest
from django.utils import timezone

from kopilka.ledger.models import Account, EntryKind, Lot


@pytest.fixture
def customer_with_points(make_customer, program):
    """A customer with an account and one lot of 500 points, written straight to the tables:
    these tests only need rows that must survive, not the ledger's own services."""
    customer = make_customer(first_name="Anna", last_name="Petrova", email="anna@example.com")
    account = Account.objects.create(merchant=customer.merchant, customer=customer, program=program)
    Lot.objects.create(
        merchant=customer.merchant,
        account=account,
        kind=EntryKind.WELCOME,
        amount=500,
        remaining=500,
        available_from=timezone.now(),
    )
    return customer


@pytest.fixture
def ledger_snapshot():
    """What a customer owns in the ledger, in a comparable form."""

    def snapshot(customer):
        return sorted(
            Lot.objects.filter(account__customer=customer).values_list(
                "account_id", "account__program_id", "amount", "remaining"
            )
        )

    return snapshot

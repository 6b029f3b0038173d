"""Fixtures for the cashier screen: a signed-in cashier at a chosen register, a bonus program,
products with barcodes and a customer with bonuses."""

import pytest
from django.test import Client

from kopilka.merchants import services as merchants

from . import world

PASSWORD = "cashier-test-password"


@pytest.fixture
def bonus_program(merchant, actor):
    return world.bonus_program(merchant, actor)


@pytest.fixture
def products(merchant, actor):
    return world.products(merchant, actor)


@pytest.fixture
def funded_customer(merchant, bonus_program, actor):
    return world.funded_customer(merchant, bonus_program, actor)


@pytest.fixture
def staff_client(merchant, actor):
    """A Django test client signed in as a new staff member of the merchant with `role`."""

    def make(role: str = "cashier", merchant=merchant, username=None) -> Client:
        member = merchants.staff_create(
            merchant=merchant,
            username=username or f"{role}-{merchant.pk}",
            password=PASSWORD,
            role=role,
            actor=actor,
        )
        # English: the assertions read the screen's msgids, whatever the catalogs hold.
        client = Client(headers={"Accept-Language": "en"})
        client.force_login(member.user)
        return client

    return make


@pytest.fixture
def cashier(staff_client, register):
    """A cashier signed in, working at `register`."""
    client = staff_client("cashier")
    response = client.post("/cashier/register/", {"register": register.pk})
    assert response.status_code == 302
    return client


def receipt_form(*lines, customer_id="", key="test-key-1", number="T-1", spend_max="1", spend=""):
    """The receipt draft as the screen posts it: lines are (sku, name, qty, price in roubles)."""
    return {
        "key": key,
        "number": number,
        "customer_id": str(customer_id),
        "customer_card": "",
        "spend_max": spend_max,
        "spend": spend,
        "line_sku": [line[0] for line in lines],
        "line_name": [line[1] for line in lines],
        "line_qty": [line[2] for line in lines],
        "line_price": [line[3] for line in lines],
        "line_category": [line[4] if len(line) > 4 else "" for line in lines],
    }

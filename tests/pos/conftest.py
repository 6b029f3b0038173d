"""Fixtures for the POS API: an authenticated till and a program to configure per test."""

import json
import uuid
from dataclasses import dataclass

import pytest
from django.test import Client

from kopilka.catalog import services as catalog
from kopilka.merchants import services as merchants
from kopilka.programs import services as programs


@dataclass
class Till:
    """A register talking to the API the way a cash-register program does."""

    client: Client
    key: str

    def post(self, path, body=None, *, idempotency_key=None, key=None):
        headers = {"Authorization": f"Bearer {key or self.key}"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return self.client.post(
            f"/api/v1{path}",
            data=json.dumps(body if body is not None else {}),
            content_type="application/json",
            headers=headers,
        )

    def get(self, path):
        return self.client.get(f"/api/v1{path}", headers={"Authorization": f"Bearer {self.key}"})

    def patch(self, path, body):
        return self.client.patch(
            f"/api/v1{path}",
            data=json.dumps(body),
            content_type="application/json",
            headers={"Authorization": f"Bearer {self.key}"},
        )

    def confirm(self, body, idempotency_key=None):
        return self.post("/receipts", body, idempotency_key=idempotency_key or str(uuid.uuid4()))


@pytest.fixture
def till(register, actor):
    return Till(Client(), merchants.register_key_issue(register=register, actor=actor))


@pytest.fixture
def their_till(other_merchant, actor):
    """A till of another merchant."""
    store = merchants.store_create(merchant=other_merchant, name="Их магазин", actor=actor)
    register = merchants.register_create(store=store, name="Их касса", actor=actor)
    return Till(Client(), merchants.register_key_issue(register=register, actor=actor))


@pytest.fixture
def bonus_program(merchant, actor):
    """An enabled bonus program; tests set the rules they need."""
    return programs.program_create(
        merchant=merchant, name="Бонусы", actor=actor, accrual_rounding="kopeck"
    )


@pytest.fixture
def category(merchant, actor):
    def make(name, parent=None, **flags):
        return catalog.category_create(
            merchant=merchant, name=name, parent=parent, actor=actor, **flags
        )

    return make


@pytest.fixture
def product(merchant, actor):
    def make(sku, category=None, name=None, **flags):
        return catalog.product_create(
            merchant=merchant, sku=sku, name=name or sku, category=category, actor=actor, **flags
        )

    return make


def line(no, sku, price, qty="1", **extra):
    return {"line_no": no, "sku": sku, "qty": qty, "unit_price": price, **extra}

"""Shared fixtures: a merchant with a store, a register, a program and customers."""

import os

import pytest
from hypothesis import HealthCheck, settings

from kopilka.merchants import services as merchants
from kopilka.merchants.actors import Actor

settings.register_profile(
    "kopilka",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "kopilka"))

SYSTEM = Actor.system("test")


@pytest.fixture(autouse=True)
def no_random_rate_counter_sweeps(monkeypatch):
    """Rate limits sweep ended windows at random (1 in 100 new windows); a test that counts
    rows must not depend on that draw. The sweep itself is tested directly."""
    from kopilka.limits import ratelimit

    monkeypatch.setattr(ratelimit, "SWEEP_ONE_IN", 0)


@pytest.fixture(autouse=True)
def no_refusals_left_from_another_test():
    """A worker remembers the addresses it refused for wrong API keys (pos.auth); every test's
    client comes from the same address, so each test starts with none remembered."""
    from kopilka.pos import auth

    auth._refused_until.clear()
    yield
    auth._refused_until.clear()


@pytest.fixture
def actor():
    return SYSTEM


@pytest.fixture
def merchant(db):
    return merchants.merchant_create(name="Демо-магазин", actor=SYSTEM)


@pytest.fixture
def other_merchant(db):
    return merchants.merchant_create(name="Чужой магазин", actor=SYSTEM)


@pytest.fixture
def store(merchant):
    return merchants.store_create(merchant=merchant, name="Главный", actor=SYSTEM)


@pytest.fixture
def register(store):
    return merchants.register_create(store=store, name="Касса 1", actor=SYSTEM)


@pytest.fixture
def program(merchant):
    from kopilka.programs.models import Program

    return Program.objects.create(merchant=merchant, name="Бонусы")


@pytest.fixture
def make_customer(merchant):
    from kopilka.customers.services import customer_register

    counter = iter(range(10**6))

    def make(merchant=merchant, **fields):
        """A customer registered the way a till does it (normalised, checked, audited)."""
        n = next(counter)
        fields.setdefault("phone", f"+7916{n:07d}")
        return customer_register(merchant=merchant, actor=SYSTEM, **fields)

    return make


def pytest_collection_modifyitems(config, items):
    """Skip `postgres_only` tests unless the database is PostgreSQL, and `sqlite_only` ones
    (what pages say: the language sweeps) on PostgreSQL; `make test` runs both."""
    from django.db import connection

    other = "sqlite_only" if connection.vendor == "postgresql" else "postgres_only"
    skip = pytest.mark.skip(reason=f"{other}: database is {connection.vendor}")
    for item in items:
        if item.get_closest_marker(other) is not None:
            item.add_marker(skip)

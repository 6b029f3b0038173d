"""Wrong register API keys are counted per client address: past the limit the address is
refused (429 with Retry-After) before its key is looked at, even a right one, until the
window ends; a right key is never counted."""

import time
from datetime import timedelta

import pytest
from django.test import Client

from kopilka.limits import ratelimit
from kopilka.limits.models import RateCounter
from kopilka.pos import auth

WRONG = "kp_wrong0000000000000000000000000000"


@pytest.fixture
def few_tries(settings):
    settings.KOPILKA_RATE_LIMITS = {"api_key_address": (3, 900)}


def ask(key, address="203.0.113.7"):
    return Client(REMOTE_ADDR=address).get(
        "/api/v1/customers/1/history", headers={"Authorization": f"Bearer {key}"}
    )


def test_wrong_keys_from_one_address_are_refused_past_the_limit_even_a_right_one(till, few_tries):
    assert [ask(WRONG).status_code for _ in range(3)] == [401, 401, 401]
    refused = ask(WRONG)
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert 0 < int(refused["Retry-After"]) <= 900
    # Now even the right key is not looked at from that address...
    assert ask(till.key).status_code == 429
    # ...while another address, with the right key, goes on.
    assert ask(till.key, address="198.51.100.1").status_code in (200, 404)


def test_a_right_key_is_never_counted(till, few_tries):
    for _ in range(10):
        assert ask(till.key).status_code in (200, 404)
    assert not RateCounter.objects.filter(key__startswith="api_key_address:").exists()


def test_the_refusal_ends_with_its_window(till, few_tries, monkeypatch):
    for _ in range(4):
        ask(WRONG)
    assert ask(WRONG).status_code == 429
    # 901 seconds on, both the worker's memory of the refusal and the database's window have
    # ended: a wrong key is a plain 401 again, counted afresh.
    later, started = ratelimit.timezone.now() + timedelta(seconds=901), time.monotonic()
    monkeypatch.setattr(ratelimit.timezone, "now", lambda: later)
    monkeypatch.setattr(auth.time, "monotonic", lambda: started + 901)
    assert ask(WRONG).status_code == 401
    assert ask(till.key).status_code in (200, 404)

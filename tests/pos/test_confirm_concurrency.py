"""Exactly once, for real: concurrent retries of one confirm, and two tills racing for one
balance, on PostgreSQL with real threads and connections."""

import threading
import uuid

import pytest
from django.db import connection, transaction
from django.test import Client

from kopilka.ledger import locks
from kopilka.ledger import services as ledger
from kopilka.ledger.verify import verify_ledger
from kopilka.merchants import services as merchants
from kopilka.programs import services as programs
from kopilka.sales.models import Receipt

from .conftest import Till, line


def _in_threads(count, work):
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as error:  # reported by the assertions below
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return results


@pytest.fixture
def funded_customer(make_customer, bonus_program, actor):
    programs.accrual_rule_set(program=bonus_program, steps=[(0, 5)], actor=actor)
    customer = make_customer()
    account = programs.customer_enrol(customer=customer, program=bonus_program, actor=actor)
    with transaction.atomic():
        [locked] = locks.lock_accounts([account.pk])
        ledger.credit(account=locked, amount=50000, actor=actor)
    return customer


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_retries_of_one_confirm_book_it_once_and_answer_alike(
    till, funded_customer
):
    body = {
        "customer": {"id": funded_customer.pk},
        "lines": [line(1, "A", 30000), line(2, "B", 12345)],
        "spend": 10000,
        "external_number": "IDEM-1",
    }
    key = str(uuid.uuid4())
    results = _in_threads(20, lambda i: till.post("/receipts", body, idempotency_key=key))
    assert all(not isinstance(r, Exception) for r in results), results
    assert {r.status_code for r in results} == {201}
    assert len({r.content for r in results}) == 1
    assert Receipt.objects.filter(external_number="IDEM-1").count() == 1
    assert results[0].json()["totals"]["bonus_spent"] == 10000
    assert verify_ledger() == []


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_tills_spending_the_whole_balance_at_once_exactly_one_succeeds(
    store, make_customer, bonus_program, actor
):
    customer = make_customer()
    account = programs.customer_enrol(customer=customer, program=bonus_program, actor=actor)
    tills = [
        Till(
            Client(),
            merchants.register_key_issue(
                register=merchants.register_create(store=store, name=f"Race {n}", actor=actor),
                actor=actor,
            ),
        )
        for n in range(2)
    ]
    for round_no in range(5):
        with transaction.atomic():
            [locked] = locks.lock_accounts([account.pk])
            ledger.credit(account=locked, amount=50000, actor=actor)

        def spend_everything(i, round_no=round_no):
            return tills[i].confirm(
                {
                    "customer": {"id": customer.pk},
                    "lines": [line(1, "TV", 100000)],
                    "spend": 50000,
                    "external_number": f"RACE-{round_no}",
                }
            )

        results = _in_threads(2, spend_everything)
        assert sorted(r.status_code for r in results) == [201, 409], [r.json() for r in results]
        loser = next(r for r in results if r.status_code == 409)
        assert loser.json()["code"] == "insufficient_balance"
    assert Receipt.objects.filter(customer=customer).count() == 5
    assert verify_ledger() == []

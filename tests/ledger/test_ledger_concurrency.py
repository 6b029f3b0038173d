"""Real concurrency on PostgreSQL: many tills spend from one balance at the same instant."""

import random
import threading
from collections import Counter

import pytest
from django.db import connection, transaction
from django.utils import timezone

from kopilka.ledger import locks, selectors, services
from kopilka.ledger.exceptions import InsufficientBalance
from kopilka.ledger.verify import verify_ledger

THREADS = 8
ROUNDS = 6


def _spend_until_refused(account_id, actor, barrier, rng, outcomes, spent):
    try:
        barrier.wait()
        while True:
            amount = rng.randint(1, 400)
            try:
                with transaction.atomic():
                    [account] = locks.lock_accounts([account_id])
                    services.spend(account=account, amount=amount, actor=actor)
            except InsufficientBalance:
                outcomes["refused"] += 1
                if rng.random() < 0.5:  # half the tills give up at the first refusal
                    return
                if amount == 1:
                    return
                continue
            outcomes["spent"] += 1
            spent.append(amount)
    except Exception as error:  # surfaces in the main thread's assertions
        outcomes[f"error: {error!r}"] += 1
    finally:
        connection.close()


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_eight_tills_spending_one_balance_at_once_never_overspend(make_customer, program, actor):
    account = services.account_open(customer=make_customer(), program=program, actor=actor)
    total_credited = booked_by_tills = 0
    for round_no in range(ROUNDS):
        with transaction.atomic():
            [locked] = locks.lock_accounts([account.pk])
            for _ in range(5):  # several lots, so spends cross lot boundaries
                services.credit(account=locked, amount=2000, actor=actor, lifetime_days=30)
                total_credited += 2000
        barrier = threading.Barrier(THREADS)
        outcomes, spent = Counter(), []
        threads = [
            threading.Thread(
                target=_spend_until_refused,
                args=(
                    account.pk,
                    actor,
                    barrier,
                    random.Random(round_no * 100 + i),
                    outcomes,
                    spent,
                ),
            )
            for i in range(THREADS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not any(thread.is_alive() for thread in threads)

        balance = selectors.account_balance(account, now=timezone.now())
        total_spent = -sum(e.amount for e in account.entries.filter(kind="spend"))
        assert [k for k in outcomes if k.startswith("error")] == []
        assert outcomes["refused"] >= 1, "every round ends with tills being refused"
        booked_by_tills += sum(spent)
        assert booked_by_tills == total_spent  # every success was booked, none twice
        assert balance.available == total_credited - total_spent >= 0
        assert verify_ledger(account=account) == []

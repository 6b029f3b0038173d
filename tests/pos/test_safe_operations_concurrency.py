"""Two tills cannot pass one safe-operations limit together: the day's counter is bumped in
the sale's transaction, and its row lock makes the second sale wait and see the first (real
threads and connections on PostgreSQL)."""

import pytest
from django.test import Client

from kopilka.ledger.verify import verify_ledger
from kopilka.limits.models import LimitAlert, LimitUsage
from kopilka.merchants import services as merchants
from kopilka.programs import services as programs
from kopilka.sales.models import Receipt

from .conftest import Till, line
from .test_confirm_concurrency import _in_threads
from .test_safe_operations import set_limits


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_ten_sales_by_one_cashier_at_two_tills_at_once_stop_exactly_at_the_hard_limit(
    store, merchant, make_customer, bonus_program, actor
):
    programs.accrual_rule_set(program=bonus_program, steps=[(0, 5)], actor=actor)
    set_limits(merchant, actor, accrual_cashier=(None, 250_00))
    tills = [
        Till(Client(), merchants.register_key_issue(register=register, actor=actor))
        for register in (
            merchants.register_create(store=store, name=f"Касса {n}", actor=actor) for n in (1, 2)
        )
    ]
    customers = [make_customer() for _ in range(10)]  # no shared account lock between sales

    def sell(i):
        body = {
            "customer": {"id": customers[i].pk},
            "lines": [line(1, "A", 2_000_00)],  # 100,00 accrued
            "external_number": f"R-{i}",
            "cashier": "Анна",
        }
        return tills[i % 2].confirm(body)

    results = _in_threads(10, sell)
    assert all(not isinstance(r, Exception) for r in results), results
    statuses = sorted(r.status_code for r in results)
    assert statuses == [201, 201] + [409] * 8
    assert {r.json()["code"] for r in results if r.status_code == 409} == {"limit_exceeded"}
    assert Receipt.objects.filter(cashier="Анна").count() == 2
    assert LimitUsage.objects.get(name="accrual:cashier", subject="Анна").amount == 200_00
    assert LimitAlert.objects.filter(kind="refused").count() == 8
    assert verify_ledger() == []

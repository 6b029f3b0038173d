"""`kopilka tick` records level changes: up when receipts reach a level, down after a quiet
window, by hand with reason "manual"; idempotent, batched, per merchant, safe in parallel."""

import threading
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from kopilka import tick
from kopilka.catalog import services as catalog
from kopilka.ledger import services as ledger
from kopilka.programs import services as programs
from kopilka.programs.level_changes import record_level_changes
from kopilka.programs.models import LevelChange, Program
from kopilka.programs.standing import activities_of
from kopilka.sales.models import Receipt

from .conftest import line


@pytest.fixture
def levels(merchant, bonus_program, category, product, actor):
    """Bronze for everyone; Silver for 5,000 within 30 days (3,000 of it at the bar) or for
    5 visits within 30 days."""
    bar_category = category("Бар")
    product("BEER", category=category("Пиво", parent=bar_category))
    product("TICKET", category=category("Билеты"))
    bar = catalog.segment_create(
        merchant=merchant, name="Бар", actor=actor, categories=[bar_category]
    )
    bronze = programs.level_create(program=bonus_program, name="Бронза", priority=1, actor=actor)
    silver = programs.level_create(
        program=bonus_program,
        name="Серебро",
        priority=2,
        actor=actor,
        window_days=30,
        min_spend=500000,
        min_visits=5,
        segments={bar: {"min_spend": 300000}},
    )
    return bronze, silver


@pytest.fixture
def member(make_customer, bonus_program, actor):
    def make():
        customer = make_customer()
        ledger.account_open(customer=customer, program=bonus_program, actor=actor)
        return customer

    return make


def buy(till, customer, lines):
    response = till.confirm(
        {"customer": {"id": customer.pk}, "lines": lines, "external_number": uuid.uuid4().hex}
    )
    assert response.status_code == 201, response.json()
    return response.json()


def run_tick(now=None):
    return tick.run(now=now or timezone.now(), say=lambda line: None)["levels"]


def changes(customer):
    return [
        (
            change.from_level.name if change.from_level else None,
            change.to_level.name if change.to_level else None,
            change.reason,
        )
        for change in LevelChange.objects.filter(customer=customer).order_by("changed_at", "id")
    ]


def test_reaching_silver_then_a_quiet_month_are_recorded(till, levels, member):
    customer = member()
    assert run_tick() == 1
    assert changes(customer) == [(None, "Бронза", "computed")]
    buy(till, customer, [line(1, "BEER", 350000), line(2, "TICKET", 250000)])
    assert run_tick() == 1
    assert changes(customer)[-1] == ("Бронза", "Серебро", "computed")
    Receipt.objects.update(occurred_at=timezone.now() - timedelta(days=31))
    assert run_tick() == 1
    assert changes(customer)[-1] == ("Серебро", "Бронза", "computed")
    assert len(changes(customer)) == 3


def test_running_twice_records_nothing_new(till, levels, member):
    customers = [member() for _ in range(3)]
    buy(till, customers[0], [line(1, "BEER", 600000)])
    now = timezone.now()
    assert run_tick(now) == 3
    assert run_tick(now) == 0
    assert run_tick(now + timedelta(minutes=10)) == 0
    assert LevelChange.objects.count() == 3
    assert changes(customers[0]) == [(None, "Серебро", "computed")]


def test_visits_reach_silver(till, levels, member):
    customer = member()
    run_tick()
    for _ in range(5):
        buy(till, customer, [line(1, "TICKET", 1000)])
    assert run_tick() == 1
    assert changes(customer)[-1] == ("Бронза", "Серебро", "computed")


def test_a_refund_takes_the_level_back(till, levels, member):
    customer = member()
    sale = buy(till, customer, [line(1, "BEER", 600000)])
    run_tick()
    refund = till.post(f"/receipts/{sale['receipt_id']}/refunds", {}, idempotency_key="r1")
    assert refund.status_code == 201, refund.json()
    assert run_tick() == 1
    assert changes(customer) == [(None, "Серебро", "computed"), ("Серебро", "Бронза", "computed")]


def test_a_manual_level_is_recorded_as_manual(levels, member, actor):
    _bronze, silver = levels
    customer = member()
    run_tick()
    assignment = programs.level_assign(
        customer=customer,
        level=silver,
        actor=actor,
        reason="VIP guest",
        until=timezone.now() + timedelta(days=1),
    )
    assert run_tick() == 1
    assert changes(customer)[-1] == ("Бронза", "Серебро", "manual")
    assert run_tick() == 0
    assignment.until = timezone.now() - timedelta(seconds=1)
    assignment.save()
    assert run_tick() == 1
    assert changes(customer)[-1] == ("Серебро", "Бронза", "computed")


def test_batches_walk_every_customer_once(till, levels, member):
    customers = [member() for _ in range(7)]
    for customer in customers[::2]:
        buy(till, customer, [line(1, "BEER", 600000)])
    now = timezone.now()
    assert record_level_changes(now=now, batch_size=2) == 7
    assert record_level_changes(now=now, batch_size=3) == 0
    recorded = dict(LevelChange.objects.values_list("customer_id", "to_level__name"))
    assert recorded == {
        customer.pk: "Серебро" if n % 2 == 0 else "Бронза" for n, customer in enumerate(customers)
    }


def test_customers_of_another_merchant_are_untouched(
    till, levels, member, other_merchant, make_customer, actor
):
    other_program = programs.program_create(merchant=other_merchant, name="Чужие", actor=actor)
    programs.level_create(program=other_program, name="Чужой", priority=1, actor=actor)
    stranger = make_customer(merchant=other_merchant)
    ledger.account_open(customer=stranger, program=other_program, actor=actor)
    outsider = make_customer(merchant=other_merchant)  # no account in a leveled program
    ledger.account_open(
        customer=outsider,
        program=Program.objects.create(merchant=other_merchant, name="Без уровней"),
        actor=actor,
    )
    customer = member()
    buy(till, customer, [line(1, "BEER", 600000)])
    assert run_tick() == 2
    assert changes(customer) == [(None, "Серебро", "computed")]
    assert changes(stranger) == [(None, "Чужой", "computed")]
    assert changes(outsider) == []
    assert not LevelChange.objects.filter(
        program__merchant=levels[0].program.merchant, customer__merchant=other_merchant
    ).exists()


def test_a_batch_of_customers_has_the_activity_each_has_alone(till, levels, member, merchant):
    customers = [member() for _ in range(5)]
    buy(till, customers[0], [line(1, "BEER", 350000), line(2, "TICKET", 250000)])
    buy(till, customers[0], [line(1, "UNKNOWN", 1000)])  # no product: total only
    old = buy(till, customers[1], [line(1, "BEER", 10000)])
    buy(till, customers[1], [line(1, "TICKET", 2000, qty="2")])
    sale = buy(till, customers[2], [line(1, "BEER", 70000), line(2, "TICKET", 5000)])
    till.post(f"/receipts/{sale['receipt_id']}/refunds", {}, idempotency_key="r2")
    buy(till, customers[2], [line(1, "BEER", 3000)])
    buy(till, customers[3], [line(1, "BEER", 8000)])
    Receipt.objects.filter(pk=old["receipt_id"]).update(
        occurred_at=timezone.now() - timedelta(days=40)
    )
    Receipt.objects.filter(customer=customers[3]).update(
        occurred_at=timezone.now() - timedelta(days=10)
    )
    now = timezone.now()
    for windows in ({0, 7, 30}, {30}, {7, 30}):
        got = activities_of(
            merchant=merchant, customer_ids=[c.pk for c in customers], windows=windows, now=now
        )
        for customer in customers:
            alone = activities_of(
                merchant=merchant, customer_ids=[customer.pk], windows=windows, now=now
            )
            assert got[customer.pk] == alone[customer.pk]
    assert got[customers[0].pk][1][1].spend == 601000
    assert got[customers[4].pk][1][1].visits == 0
    # Hand-computed, windows (0, 7, 30): refunds deduct spend but not visits; old receipts
    # drop out of the shorter windows.
    got = activities_of(
        merchant=merchant, customer_ids=[c.pk for c in customers], windows={0, 7, 30}, now=now
    )
    spend_visits = {
        customer: [(activity.spend, activity.visits) for _, activity in got[customer.pk]]
        for customer in customers
    }
    assert spend_visits[customers[1]] == [(14000, 2), (4000, 1), (4000, 1)]
    assert spend_visits[customers[2]] == [(3000, 2), (3000, 2), (3000, 2)]
    assert spend_visits[customers[3]] == [(8000, 1), (0, 0), (8000, 1)]


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_ticks_in_parallel_record_each_change_once(levels, member):
    customers = [member() for _ in range(30)]
    errors, barrier = [], threading.Barrier(4)

    def body(size):
        try:
            barrier.wait()
            record_level_changes(now=timezone.now(), batch_size=size)
        except Exception as error:
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=body, args=(size,)) for size in (4, 4, 7, 2000)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    per_customer = Counter(LevelChange.objects.values_list("customer_id", flat=True))
    assert per_customer == dict.fromkeys((c.pk for c in customers), 1)

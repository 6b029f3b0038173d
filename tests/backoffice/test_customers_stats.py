"""The figures kept per customer for the back-office list: exact after sales, captures and
refunds through the POS API, caught up by refresh_balances after other ledger writes and
expiries, and equal to a rebuild from receipts and lots."""

import io
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.utils import timezone

from kopilka.customers import stats
from kopilka.customers.models import Customer
from kopilka.ledger import locks
from kopilka.ledger import services as ledger
from kopilka.merchants import services as merchants
from kopilka.programs import services as programs
from tests.conftest import SYSTEM
from tests.pos.conftest import Till, line


@pytest.fixture
def till(register):
    return Till(Client(), merchants.register_key_issue(register=register, actor=SYSTEM))


@pytest.fixture
def bonus_program(merchant):
    program = programs.program_create(
        merchant=merchant, name="Бонусы", actor=SYSTEM, accrual_rounding="kopeck"
    )
    programs.accrual_rule_set(program=program, steps=[(0, 10)], actor=SYSTEM)
    return program


@pytest.fixture
def customer(make_customer, bonus_program):
    customer = make_customer()
    account = programs.customer_enrol(customer=customer, program=bonus_program, actor=SYSTEM)
    with transaction.atomic():
        [locked] = locks.lock_accounts([account.pk])
        ledger.credit(account=locked, amount=20000, actor=SYSTEM)
    stats.refresh_customer_balances([customer.pk], now=timezone.now())
    return customer


def sale(customer, number, spend=0, **extra):
    return {
        "customer": {"id": customer.pk},
        "lines": [line(1, "A", 10000, qty="2"), line(2, "B", 5000)],
        "spend": spend,
        "external_number": number,
        **extra,
    }


def figures(customer):
    row = Customer.objects.get(pk=customer.pk)
    return row.visits, row.purchases_total, row.balance


def rebuilt(customer):
    stats.rebuild(merchant=customer.merchant, now=timezone.now())
    return figures(customer)


def test_a_sale_counts_a_visit_its_spend_and_moves_the_balance(till, customer):
    response = till.confirm(sale(customer, "S-1", spend=1000))
    assert response.status_code == 201, response.content
    body = response.json()
    row = Customer.objects.get(pk=customer.pk)
    assert row.visits == 1
    assert row.purchases_total == 25000
    assert row.last_purchase_at is not None
    assert row.balance == 20000 - 1000 + body["totals"]["accrual"]
    assert figures(customer) == rebuilt(customer)


def test_a_held_sale_counts_when_captured_not_before(till, customer):
    held = till.confirm(sale(customer, "H-1", spend=5000, hold=True)).json()
    assert figures(customer) == (0, 0, 20000)
    till.post(f"/receipts/{held['receipt_id']}/capture")
    visits, spent, _balance = figures(customer)
    assert (visits, spent) == (1, 25000)
    assert figures(customer) == rebuilt(customer)


def test_a_refund_takes_its_spend_and_clawed_back_bonuses_off(till, customer):
    sold = till.confirm(sale(customer, "S-2", spend=2000)).json()
    till.post(
        f"/receipts/{sold['receipt_id']}/refunds",
        {"lines": [{"line_no": 2, "qty": "1"}]},
        idempotency_key=str(uuid.uuid4()),
    )
    visits, spent, _balance = figures(customer)
    assert (visits, spent) == (1, 25000 - 5000 + sold["lines"][1]["discount"])
    assert figures(customer) == rebuilt(customer)


def test_refresh_catches_manual_adjustments_and_expiries(customer, bonus_program):
    now = timezone.now()
    stats.refresh_balances(now=now)
    account = customer.accounts.get()
    with transaction.atomic():
        [locked] = locks.lock_accounts([account.pk])
        ledger.manual_adjust(account=locked, amount=-500, actor=SYSTEM, reason="test", now=now)
        ledger.credit(account=locked, amount=300, actor=SYSTEM, now=now, lifetime_days=1)
    assert figures(customer)[2] == 20000  # not yet: written outside sales
    later = now + timedelta(minutes=1)
    assert stats.refresh_balances(now=later) == 1
    assert figures(customer)[2] == 19800
    # The 300 expire a day later, without any write.
    assert stats.refresh_balances(now=now + timedelta(days=2)) == 1
    assert figures(customer)[2] == 19500


def test_refresh_recomputes_only_customers_that_changed(customer, make_customer):
    make_customer()
    now = timezone.now()
    assert stats.refresh_balances(now=now) == 2  # the first run does everyone
    # The next run looks a little back (late commits): the credit just made, once more.
    assert stats.refresh_balances(now=now + timedelta(hours=1)) == 1
    assert stats.refresh_balances(now=now + timedelta(hours=2)) == 0


def test_the_command_rebuilds_figures_of_receipts_booked_behind_the_services_back(till, customer):
    till.confirm(sale(customer, "S-3", spend=1000))
    Customer.objects.filter(pk=customer.pk).update(visits=0, purchases_total=0, balance=0)
    call_command("customer_figures", rebuild=True, stdout=io.StringIO())
    assert figures(customer)[:2] == (1, 25000)
    assert figures(customer)[2] > 0

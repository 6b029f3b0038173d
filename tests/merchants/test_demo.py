"""The demo data builds once, is consistent, and a second run duplicates nothing."""

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import F

from kopilka.customers.models import Customer
from kopilka.ledger.models import Entry
from kopilka.ledger.verify import verify_ledger
from kopilka.merchants.models import Merchant, Register, StaffMember
from kopilka.merchants.services import register_authenticate


def test_demo_builds_once_and_its_printed_keys_work(db, capsys):
    call_command("demo", "--if-absent", "--customers", "30", "--months", "3")
    first = capsys.readouterr().out
    counts = (Customer.objects.count(), Entry.objects.count(), Register.objects.count())
    call_command("demo", "--if-absent", "--customers", "30", "--months", "3")
    second = capsys.readouterr().out
    assert (Customer.objects.count(), Entry.objects.count(), Register.objects.count()) == counts
    assert Merchant.objects.filter(name="Демо-магазин").count() == 1
    assert counts[0] == 30 and counts[1] > 30 and counts[2] == 3
    assert StaffMember.objects.count() == 5
    keys = [line.rsplit(" ", 1)[-1] for line in second.splitlines() if "kp_demo_" in line]
    assert len(keys) == 3 and keys == [
        line.rsplit(" ", 1)[-1] for line in first.splitlines() if "kp_demo_" in line
    ]
    assert all(register_authenticate(key) is not None for key in keys)
    assert verify_ledger() == []


def test_the_demo_till_can_quote_a_receipt_for_a_demo_customer(db, capsys):
    import json

    from django.test import Client

    call_command("demo", "--if-absent", "--customers", "5", "--months", "1")
    key = next(
        line.rsplit(" ", 1)[-1]
        for line in capsys.readouterr().out.splitlines()
        if "kp_demo_" in line
    )
    customer = Customer.objects.order_by("id").first()
    response = Client().post(
        "/api/v1/receipts/quote",
        data=json.dumps(
            {
                "customer": {"phone": customer.phone},
                "lines": [{"line_no": 1, "sku": "GR-002", "qty": "2", "unit_price": 52000}],
                "spend": "max",
            }
        ),
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 200, response.json()
    assert response.json()["totals"]["accrual"] > 0


def test_a_longer_history_is_booked_through_the_tills_services_and_feeds_the_reports(db):
    from django.db.models import Count, Sum

    from kopilka import demo
    from kopilka.ledger.models import Entry
    from kopilka.ledger.verify import verify_ledger
    from kopilka.reports.models import DailySales
    from kopilka.sales.models import IdempotencyRecord, Receipt

    with transaction.atomic():  # the plain demo, undone: then the same with a longer history
        call_command("demo", "--customers", "20", "--months", "2")
        plain = Receipt.objects.filter(kind="sale").count()
        transaction.set_rollback(True)
    call_command("demo", "--customers", "20", "--months", "2", "--receipts", "300", "--days", "120")
    merchant = demo.demo_find()
    history = Receipt.objects.filter(merchant=merchant, kind="sale")
    assert history.count() == plain + 300
    # Booked by the till's services: each sale has the idempotency record a till's request
    # leaves, and its bonuses were spent and accrued by the ledger's services.
    assert IdempotencyRecord.objects.filter(key__startswith="demo-sale-").count() == plain + 300
    entries = Entry.objects.filter(receipt__merchant=merchant)
    assert entries.filter(kind="accrual").exists() and entries.filter(kind="spend").exists()
    # Only customers registered by the moment of a purchase made it.
    assert not history.filter(customer__created_at__gt=F("occurred_at")).exists()
    assert verify_ledger() == []
    rolled = DailySales.objects.filter(merchant=merchant).aggregate(
        n=Sum("receipts"), revenue=Sum("revenue")
    )
    raw = Receipt.objects.filter(merchant=merchant, kind="sale", status="confirmed").aggregate(
        n=Count("pk"), revenue=Sum("subtotal")
    )
    assert rolled == raw


def test_a_longer_history_is_never_booked_behind_a_demo_whose_job_has_run(db):
    from kopilka.sales.models import Receipt

    call_command("demo", "--customers", "5", "--months", "1")
    receipts = Receipt.objects.count()
    with pytest.raises(CommandError, match="--receipts builds a new demo"):
        call_command("demo", "--if-absent", "--receipts", "10")
    assert Receipt.objects.count() == receipts

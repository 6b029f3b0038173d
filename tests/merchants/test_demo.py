"""The demo data builds once, is consistent, and a second run duplicates nothing."""

from django.core.management import call_command

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


def test_a_bulk_history_keeps_the_ledger_whole_and_feeds_the_reports(db, capsys):
    from django.db.models import Count, Sum

    from kopilka import demo
    from kopilka.ledger.verify import verify_ledger
    from kopilka.pos.models import Receipt, ReceiptLine
    from kopilka.reports.models import DailySales

    call_command("demo", "--if-absent", "--customers", "20", "--months", "2")
    merchant = demo.demo_find()
    before = Receipt.objects.filter(merchant=merchant).count()
    call_command("demo", "--if-absent", "--receipts", "2500", "--days", "30")
    history = Receipt.objects.filter(merchant=merchant, external_number__startswith="H")
    assert history.count() == 2500 == Receipt.objects.filter(merchant=merchant).count() - before
    assert not history.filter(lines__isnull=True).exists()
    assert not ReceiptLine.objects.filter(receipt__in=history, amount__lte=0).exists()
    assert history.filter(customer__isnull=False, accrued__gt=0).count() > 1000
    assert verify_ledger() == []
    rolled = DailySales.objects.filter(merchant=merchant).aggregate(
        n=Sum("receipts"), revenue=Sum("revenue")
    )
    raw = Receipt.objects.filter(merchant=merchant, kind="sale", status="confirmed").aggregate(
        n=Count("pk"), revenue=Sum("subtotal")
    )
    assert rolled == raw

"""Reports over years of receipts: the bonuses dashboard with 10,000,000 receipts against the
same dashboard with 100,000.

    DATABASE_URL=postgres://... python bench/report_bench.py [--small 100000] [--large 10000000]

DATABASE_URL names any database on a PostgreSQL server; the benchmark (re)creates its own
database `kopilka_report_bench` there and migrates it. For each size it creates a merchant
with two stores, --customers customers with accounts in a 5 % program, and that many sale
receipts over --days days (70 % with a customer, who earns 5 % as a lot and its entry), all
set-based (INSERT ... SELECT generate_series; the credit entries are not linked to their
receipts, see `build`). Then `reports.rollups.refresh` builds the daily
rollups (timed: `report_rollup_build_s_*`), and an owner opens the bonuses report for the last
365 days by month through Django's test client, --repeat times (median).

  report_dashboard_ms_small / _large   median page time, milliseconds
  report_dashboard_ms_10m_vs_100k       large / small (target <= 2)

Prints `name: value` lines; --json also writes them to a file.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

from ledger_bench import _url_with_db, recreate_database, setup_django

BENCH_DB = "kopilka_report_bench"


def build(label: str, receipts: int, customers: int, days: int, now: datetime) -> int:
    """A merchant with `receipts` receipts over `days` days; returns its id."""
    from django.db import connection

    from kopilka.customers.models import Customer
    from kopilka.ledger.models import Account
    from kopilka.merchants.actors import Actor
    from kopilka.merchants.services import merchant_create, register_create, store_create
    from kopilka.programs.models import Program

    actor = Actor.system("bench")
    merchant = merchant_create(name=f"Report bench {label}", actor=actor)
    stores = [store_create(merchant=merchant, name=f"Store {n}", actor=actor) for n in (1, 2)]
    registers = [register_create(store=s, name="Till", actor=actor) for s in stores]
    program = Program.objects.create(merchant=merchant, name="Bench bonuses")
    Customer.objects.bulk_create(
        (Customer(merchant=merchant, phone=f"+79{i:09d}") for i in range(customers)),
        batch_size=5000,
    )
    ids = Customer.objects.filter(merchant=merchant).order_by("pk").values_list("pk", flat=True)
    Account.objects.bulk_create(
        (Account(merchant=merchant, customer_id=c, program=program) for c in ids.iterator()),
        batch_size=5000,
    )
    first_customer = min(ids)
    first_account = Account.objects.filter(merchant=merchant).order_by("pk").first().pk
    with connection.cursor() as cursor:
        # Receipt g: store g % 2, a customer for 7 of every 10, spread evenly over the days.
        cursor.execute(
            "INSERT INTO pos_receipt (merchant_id, store_id, register_id, customer_id, "
            "program_id, kind, status, channel, external_number, occurred_at, offline, "
            "subtotal, discount, bonus_spent, to_pay, accrued, campaign_bonus, clawed_back, "
            "clawback_shortfall, returned, payments, reasons, created_at) "
            "SELECT %(m)s, CASE WHEN g %% 2 = 0 THEN %(s0)s ELSE %(s1)s END, "
            "CASE WHEN g %% 2 = 0 THEN %(r0)s ELSE %(r1)s END, "
            "CASE WHEN g %% 10 < 7 THEN %(c)s + g %% %(n)s END, "
            "CASE WHEN g %% 10 < 7 THEN %(p)s END, 'sale', 'confirmed', 'pos', 'B' || g, "
            "%(now)s - (g::float / %(count)s * %(days)s) * interval '1 day', false, "
            "10000 + g %% 9000 * 10, 0, 0, 10000 + g %% 9000 * 10, "
            "CASE WHEN g %% 10 < 7 THEN (10000 + g %% 9000 * 10) / 20 ELSE 0 END, 0, 0, 0, 0, "
            "'[]', '[]', %(now)s FROM generate_series(1, %(count)s) AS g",
            {
                "m": merchant.pk,
                "s0": stores[0].pk,
                "s1": stores[1].pk,
                "r0": registers[0].pk,
                "r1": registers[1].pk,
                "c": first_customer,
                "n": customers,
                "p": program.pk,
                "now": now,
                "count": receipts,
                "days": days,
            },
        )
        cursor.execute(
            "INSERT INTO ledger_lot (merchant_id, account_id, kind, amount, remaining, held, "
            "available_from, expires_at, created_at) "
            "SELECT merchant_id, %s + (customer_id - %s), 'accrual', accrued, accrued, 0, "
            "occurred_at, occurred_at + interval '1000 days', occurred_at "
            "FROM pos_receipt WHERE merchant_id = %s AND accrued > 0 ORDER BY id",
            [first_account, first_customer, merchant.pk],
        )
        # Each lot's credit entry (not linked back to its receipt: pairing 7 million rows
        # costs more than the whole report; the bonus rollups then count these movements
        # under no store, which the dashboard, over every store, does not mind).
        cursor.execute(
            "INSERT INTO ledger_entry (merchant_id, account_id, lot_id, transfer_id, kind, "
            "amount, receipt_id, hold_id, actor, reason, created_at) "
            "SELECT merchant_id, account_id, id, gen_random_uuid(), 'accrual', amount, NULL, "
            "NULL, 'system:bench', '', created_at FROM ledger_lot WHERE merchant_id = %s",
            [merchant.pk],
        )
    return merchant.pk


def dashboard_ms(merchant_id: int, now: datetime, repeat: int) -> float:
    from django.test import Client

    from kopilka.merchants.actors import Actor
    from kopilka.merchants.models import Merchant
    from kopilka.merchants.services import staff_create

    merchant = Merchant.objects.get(pk=merchant_id)
    member = staff_create(
        merchant=merchant,
        username=f"owner-{merchant_id}",
        password="bench-password-1",
        role="owner",
        actor=Actor.system("bench"),
    )
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(member.user)
    end = now.date()
    params = {"start": str(end - timedelta(days=364)), "end": str(end), "bucket": "month"}
    samples = []
    for _ in range(repeat + 2):
        started = time.perf_counter()
        response = client.get("/admin/reports/bonuses/", params)
        samples.append((time.perf_counter() - started) * 1000)
        rows = response.content.count(b"<tr>") - 1  # less the header
        if response.status_code != 200 or rows < 12:
            raise SystemExit(f"dashboard failed: {response.status_code}")
    return statistics.median(samples[2:])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--large", type=int, default=10_000_000)
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--days", type=int, default=3 * 365)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    url = os.environ["DATABASE_URL"]
    recreate_database(url, BENCH_DB)
    os.environ["DATABASE_URL"] = _url_with_db(url, BENCH_DB)
    setup_django()
    from django.core.management import call_command
    from django.db import connection

    from kopilka.merchants.models import Merchant
    from kopilka.reports import rollups

    call_command("migrate", verbosity=0)
    now = datetime.now(UTC).replace(microsecond=0)
    figures = {}
    for label, count in (("small", args.small), ("large", args.large)):
        started = time.monotonic()
        merchant_id = build(label[0], count, min(args.customers, count // 5), args.days, now)
        figures[f"report_data_build_s_{label}"] = round(time.monotonic() - started, 1)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        started = time.monotonic()
        rollups.refresh(now=now + timedelta(hours=1), merchant=Merchant.objects.get(pk=merchant_id))
        figures[f"report_rollup_build_s_{label}"] = round(time.monotonic() - started, 1)
        figures[f"report_receipts_{label}"] = count
        figures[f"report_dashboard_ms_{label}"] = round(
            dashboard_ms(merchant_id, now, args.repeat), 2
        )
        print(f"{label}: {figures}", file=sys.stderr, flush=True)
    figures["report_dashboard_ms_10m_vs_100k"] = round(
        figures["report_dashboard_ms_large"] / figures["report_dashboard_ms_small"], 2
    )
    for name, value in figures.items():
        print(f"{name}: {value}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(figures, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main())

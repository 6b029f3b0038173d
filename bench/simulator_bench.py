"""The program simulator over a large history: receipts replayed per second, against one SQL sum.

    DATABASE_URL=postgres://... python bench/simulator_bench.py [--receipts 1000000]
        [--customers 20000] [--processes 4] [--profile]

DATABASE_URL names any database on a PostgreSQL server; the benchmark (re)creates its own
database `kopilka_simulator_bench` there and migrates it. It makes one merchant with two stores,
a bonus program, three categories each with a segment, 300 products at fixed prices, and
--customers customers with an account and a 50.00 welcome lot from before the period. Then,
set-based (INSERT ... SELECT generate_series): --receipts receipts spread evenly over 2025
(70 % with a customer, 1-5 lines of 1-2 units each; one customer receipt in seven pays up to
20.00 with bonuses) and a refund of the first line of one sale in 200, a day later.

It times one SQL sum of the period's receipt lines (the best of three, warm), then the
simulator replaying the year under two alternative configurations at once: 5 % bonuses with a
30 % cap and a 90-day lifetime, and a 3 % fixed discount.

  simulator_receipts_per_s   receipts (sales and refunds) replayed per second per configuration
  simulator_ratio_vs_scan    simulator seconds per configuration / SQL sum seconds (target <= 30)
  simulator_scan_s           the SQL sum
  simulator_cpu_s_per_config CPU seconds of the simulator's processes per configuration (the
                             figure to compare when the machine is busy with other work)

--profile replays the first 50,000 receipts in one process under cProfile and prints the
top of it to stderr. Prints `name: value` lines; --json also writes them to a file.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import resource
import sys
import time
from datetime import UTC, datetime, timedelta

from ledger_bench import _url_with_db, recreate_database, setup_django

BENCH_DB = "kopilka_simulator_bench"
START = datetime(2025, 1, 1, tzinfo=UTC)
END = datetime(2026, 1, 1, tzinfo=UTC)
PRODUCTS = 300


def create_world(customers: int):
    """Merchant, stores, program, catalogue and customers with accounts, through the ORM."""
    from kopilka.catalog.models import Category, Product, Segment
    from kopilka.customers.models import Customer
    from kopilka.ledger.models import Account
    from kopilka.merchants import services as merchants
    from kopilka.merchants.actors import Actor
    from kopilka.programs import services as programs

    actor = Actor.system("bench")
    merchant = merchants.merchant_create(name="Simulator bench", actor=actor)
    stores = [
        merchants.store_create(merchant=merchant, name=f"Store {i}", actor=actor) for i in (1, 2)
    ]
    registers = [merchants.register_create(store=s, name="Till", actor=actor) for s in stores]
    program = programs.program_create(
        merchant=merchant, name="Bonuses", actor=actor, max_share_percent=50, lifetime_days=180
    )
    programs.accrual_rule_set(program=program, steps=[(0, 3), (500000, 5)], actor=actor)
    categories = []
    for name in ("Goods", "Services", "Tickets"):
        category = Category.objects.create(merchant=merchant, name=name)
        segment = Segment.objects.create(merchant=merchant, name=name)
        segment.categories.add(category)
        categories.append(category)
    Product.objects.bulk_create(
        Product(merchant=merchant, sku=f"P{i:04d}", name=f"Product {i}", category=categories[i % 3])
        for i in range(PRODUCTS)
    )
    Customer.objects.bulk_create(
        (Customer(merchant=merchant, phone=f"+7916{i:07d}") for i in range(customers)),
        batch_size=5000,
    )
    Account.objects.bulk_create(
        (
            Account(merchant=merchant, customer_id=pk, program=program)
            for pk in Customer.objects.filter(merchant=merchant).values_list("pk", flat=True)
        ),
        batch_size=5000,
    )
    return merchant, program, registers


def fill(merchant, program, registers, receipts: int) -> float:
    """The history, set-based. Returns seconds."""
    from django.db import connection

    started = time.monotonic()
    period = (END - START).total_seconds()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT array_agg(id ORDER BY id) FROM customers_customer WHERE merchant_id = %s",
            [merchant.pk],
        )
        customer_ids = cursor.fetchone()[0]
        cursor.execute(
            "SELECT array_agg(id ORDER BY id), array_agg(sku ORDER BY id) FROM catalog_product "
            "WHERE merchant_id = %s",
            [merchant.pk],
        )
        product_ids, skus = cursor.fetchone()
        cursor.execute("SELECT setseed(0.42)")  # the same history on every run
        # Welcome lots from before the period: 50.00 each, never expiring.
        cursor.execute(
            "INSERT INTO ledger_lot (merchant_id, account_id, kind, amount, remaining, held, "
            "available_from, expires_at, created_at) SELECT merchant_id, id, 'welcome', 5000, "
            "5000, 0, %s, NULL, %s FROM ledger_account WHERE merchant_id = %s",
            [START - timedelta(days=30), START - timedelta(days=30), merchant.pk],
        )
        cursor.execute(
            "INSERT INTO ledger_entry (merchant_id, account_id, lot_id, transfer_id, kind, amount, "
            "receipt_id, hold_id, actor, reason, created_at) SELECT merchant_id, account_id, id, "
            "gen_random_uuid(), 'welcome', amount, NULL, NULL, 'system:bench', '', created_at "
            "FROM ledger_lot WHERE merchant_id = %s",
            [merchant.pk],
        )
        # Sales: 70 % with a customer (a multiplicative hash spreads them over everyone).
        cursor.execute(
            "INSERT INTO pos_receipt (merchant_id, store_id, register_id, customer_id, program_id, "
            "kind, status, channel, refund_of_id, external_number, occurred_at, offline, subtotal, "
            "discount, bonus_spent, to_pay, accrued, campaign_bonus, clawed_back, "
            "clawback_shortfall, returned, payments, reasons, created_at) "
            "SELECT %s, CASE WHEN g %% 2 = 0 THEN %s ELSE %s END, "
            "CASE WHEN g %% 2 = 0 THEN %s ELSE %s END, "
            "CASE WHEN g %% 10 < 7 THEN (%s::bigint[])[1 + (g * 7919) %% %s] END, %s, 'sale', "
            "'confirmed', 'pos', NULL, 'B-' || g, %s + (g * %s / %s) * interval '1 second', false, "
            "0, 0, CASE WHEN g %% 10 < 7 AND g %% 7 = 0 THEN 2000 ELSE 0 END, 0, 0, 0, 0, 0, 0, "
            "'[]', '[]', now() FROM generate_series(1::bigint, %s::bigint) AS g",
            [
                merchant.pk,
                registers[0].store_id,
                registers[1].store_id,
                registers[0].pk,
                registers[1].pk,
                customer_ids,
                len(customer_ids),
                program.pk,
                START,
                period,
                receipts,
                receipts,
            ],
        )
        # 1-5 lines of 1-2 units; a product's price is fixed (10.00 to 259.00).
        cursor.execute(
            "INSERT INTO pos_receiptline (receipt_id, line_no, product_id, sku, name, qty, "
            "unit_price, pos_discount, amount, discount, bonus_spent, accrued, no_accrual, "
            "no_discount, no_bonus_payment, reasons, refunds_line_id) "
            "SELECT r.id, n, (%s::bigint[])[p], (%s::text[])[p], '', q, "
            "1000 + (p * 37 %% 50) * 500, 0, q * (1000 + (p * 37 %% 50) * 500), "
            "0, 0, 0, false, false, false, '[]', NULL "
            "FROM pos_receipt r CROSS JOIN LATERAL generate_series(1, 1 + r.id %% 5) AS n "
            "CROSS JOIN LATERAL (SELECT 1 + floor(random() * %s)::int AS p, "
            "1 + floor(random() * 2)::int AS q, n AS dependent) AS pick "
            "WHERE r.merchant_id = %s",
            [product_ids, skus, len(product_ids), merchant.pk],
        )
        cursor.execute(
            "UPDATE pos_receipt r SET subtotal = s.total, bonus_spent = LEAST(r.bonus_spent, "
            "s.total / 2), to_pay = s.total - LEAST(r.bonus_spent, s.total / 2) FROM (SELECT "
            "receipt_id, SUM(amount) AS total FROM pos_receiptline GROUP BY receipt_id) AS s "
            "WHERE s.receipt_id = r.id AND r.merchant_id = %s",
            [merchant.pk],
        )
        # A refund of the first line of one sale in 200, a day later.
        cursor.execute(
            "INSERT INTO pos_receipt (merchant_id, store_id, register_id, customer_id, program_id, "
            "kind, status, channel, refund_of_id, external_number, occurred_at, offline, subtotal, "
            "discount, bonus_spent, to_pay, accrued, campaign_bonus, clawed_back, "
            "clawback_shortfall, returned, payments, reasons, created_at) "
            "SELECT r.merchant_id, r.store_id, r.register_id, r.customer_id, r.program_id, "
            "'refund', 'confirmed', 'pos', r.id, r.external_number || '/R1', "
            "r.occurred_at + interval '1 day', false, l.amount, 0, 0, l.amount, 0, 0, 0, 0, 0, "
            "'[]', '[]', now() FROM pos_receipt r JOIN pos_receiptline l "
            "ON l.receipt_id = r.id AND l.line_no = 1 WHERE r.merchant_id = %s "
            "AND r.kind = 'sale' AND r.id %% 200 = 0",
            [merchant.pk],
        )
        cursor.execute(
            "INSERT INTO pos_receiptline (receipt_id, line_no, product_id, sku, name, qty, "
            "unit_price, pos_discount, amount, discount, bonus_spent, accrued, no_accrual, "
            "no_discount, no_bonus_payment, reasons, refunds_line_id) "
            "SELECT f.id, 1, l.product_id, l.sku, '', l.qty, l.unit_price, 0, l.amount, 0, 0, 0, "
            "false, false, false, '[]', l.id FROM pos_receipt f JOIN pos_receiptline l "
            "ON l.receipt_id = f.refund_of_id AND l.line_no = 1 "
            "WHERE f.merchant_id = %s AND f.kind = 'refund'",
            [merchant.pk],
        )
    connection.close()
    with connection.cursor() as cursor:  # autocommit: VACUUM cannot run in a transaction
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CHECKPOINT")
    return time.monotonic() - started


SCAN = (
    "SELECT sum(l.amount) FROM pos_receiptline l JOIN pos_receipt r ON r.id = l.receipt_id "
    "WHERE r.merchant_id = %s AND r.status = 'confirmed' AND r.occurred_at >= %s "
    "AND r.occurred_at < %s"
)


def scan(merchant) -> tuple[float, int]:
    from django.db import connection

    best, total = float("inf"), 0
    with connection.cursor() as cursor:
        for _ in range(3):
            started = time.monotonic()
            cursor.execute(SCAN, [merchant.pk, START, END])
            total = cursor.fetchone()[0]
            best = min(best, time.monotonic() - started)
    return best, total


def scenarios():
    from kopilka.reports.simulator import bonus_scenario, fixed_discount_scenario

    return [
        bonus_scenario(percent=5, max_share_percent=30, lifetime_days=90, name="bonus 5%"),
        fixed_discount_scenario(percent=3, name="discount 3%"),
    ]


def profile(merchant) -> None:
    """cProfile of one process replaying the first 50,000 receipts."""
    from django.db import connection

    from kopilka.reports.simulator import simulate

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT occurred_at FROM pos_receipt WHERE merchant_id = %s ORDER BY occurred_at "
            "OFFSET 50000 LIMIT 1",
            [merchant.pk],
        )
        row = cursor.fetchone()
    end = row[0] if row else END
    profiler = cProfile.Profile()
    profiler.enable()
    simulate(merchant=merchant, start=START, end=end, scenarios=scenarios())
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(30)
    print(out.getvalue(), file=sys.stderr)


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (the simulator's workers)."""
    own, children = (
        resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--receipts", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=20_000)
    # More processes than cores: while one waits for its rows from PostgreSQL another computes
    # (1,000,000 receipts on 2 cores: 2 processes 35.9 s per configuration, 4 processes 32.7 s).
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("simulator_bench: DATABASE_URL must point at a PostgreSQL server", file=sys.stderr)
        return 2
    recreate_database(url, BENCH_DB)
    os.environ["DATABASE_URL"] = _url_with_db(url, BENCH_DB)
    setup_django()
    from django.core.management import call_command
    from django.db import connection

    from kopilka.reports.simulator import simulate
    from kopilka.sales.models import Receipt

    call_command("migrate", verbosity=0, interactive=False)
    merchant, program, registers = create_world(args.customers)
    fill_s = fill(merchant, program, registers, args.receipts)
    print(f"# filled in {fill_s:.1f}s", file=sys.stderr, flush=True)
    replayed = Receipt.objects.filter(
        merchant=merchant, occurred_at__gte=START, occurred_at__lt=END
    ).count()
    scan_s, revenue = scan(merchant)
    print(f"# scan {scan_s:.3f}s", file=sys.stderr, flush=True)
    if args.profile:
        profile(merchant)
    connection.close()  # the simulator's processes open their own connections
    cpu_before = _cpu_seconds()
    report = simulate(
        merchant=merchant, start=START, end=END, scenarios=scenarios(), processes=args.processes
    )
    per_config = report.seconds / len(report.results)
    cpu_per_config = (_cpu_seconds() - cpu_before) / len(report.results)
    problems = [r.name for r in report.results if r.receipts + r.refunds != replayed]
    for result in report.results:
        print(
            f"# {result.name}: revenue {result.revenue}, discount {result.discount}, issued "
            f"{result.issued}, spent {result.spent_net}, expired {result.expired}, outstanding "
            f"{result.outstanding}, cost share {float(result.cost_share or 0):.4f}",
            file=sys.stderr,
        )
    figures = {
        "simulator_receipts_per_s": round(replayed / per_config),
        "simulator_ratio_vs_scan": round(per_config / scan_s, 1),
        "simulator_scan_s": round(scan_s, 3),
        "simulator_s_per_config": round(per_config, 2),
        "simulator_cpu_s_per_config": round(cpu_per_config, 2),
        "simulator_receipts": replayed,
        "simulator_configs": len(report.results),
        "simulator_processes": report.processes,
        "simulator_fill_s": round(fill_s, 1),
        "simulator_scan_revenue": int(revenue),  # PostgreSQL sums bigints as numeric
        "simulator_errors": len(problems),
    }
    for name, value in figures.items():
        print(f"{name}: {value}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(figures, fh)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

"""How `kopilka tick` scales: expiry materialisation of 100,000 and then 1,000,000 due lots.

    DATABASE_URL=postgres://... python bench/tick_bench.py [--small 100000] [--large 1000000]

DATABASE_URL names any database on a PostgreSQL server; the benchmark (re)creates its own
database `kopilka_tick_bench` there, migrates it, and creates one merchant, one program and
large / --lots-per-account customers with an account each. For each size it empties the lots
and entries, then bulk-creates that many lots already past their expiry (--lots-per-account per
account, amounts 1000..1600, expiries spread over a day) with their credit entries, set-based
(INSERT ... SELECT generate_series), so the ledger is consistent before the job runs. Then it
times `kopilka.ledger.jobs.expire_lots` (step 1 of `kopilka tick`, its default batch size)
writing them all off, checks that every lot got exactly one expiry entry and that every lot's
entries sum to zero, and times a second run (nothing left to do).

  tick_lots_per_s        lots written off per second, the large run
  tick_ratio_1m_vs_100k  time of the large run / time of the small one (10 = linear)

Prints `name: value` lines; --json also writes them to a file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from ledger_bench import _url_with_db, recreate_database, setup_django

BENCH_DB = "kopilka_tick_bench"


def create_accounts(n: int) -> tuple[int, list[int]]:
    from kopilka.customers.models import Customer
    from kopilka.ledger.models import Account
    from kopilka.merchants.actors import Actor
    from kopilka.merchants.services import merchant_create
    from kopilka.programs.models import Program

    merchant = merchant_create(name="Tick bench", actor=Actor.system("bench"))
    program = Program.objects.create(merchant=merchant, name="Bench bonuses")
    Customer.objects.bulk_create(
        (Customer(merchant=merchant, phone=f"+7916{i:07d}") for i in range(n)), batch_size=5000
    )
    customers = Customer.objects.filter(merchant=merchant).order_by("pk").values_list("pk")
    Account.objects.bulk_create(
        (Account(merchant=merchant, customer_id=c, program=program) for (c,) in customers),
        batch_size=5000,
    )
    ids = list(Account.objects.filter(program=program).order_by("pk").values_list("pk", flat=True))
    return merchant.pk, ids


def fill(merchant_id: int, account_ids: list[int], lots: int, per_account: int, now) -> float:
    """Empty the ledger, then `lots` due lots and their credit entries. Returns seconds."""
    from django.db import connection

    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE ledger_entry, ledger_holdallocation, ledger_hold, ledger_lot")
        cursor.execute(
            "INSERT INTO ledger_lot (merchant_id, account_id, kind, amount, remaining, held, "
            "available_from, expires_at, created_at) "
            "SELECT %s, (%s::bigint[])[1 + (g - 1) / %s], 'accrual', 1000 + g %% 7 * 100, "
            "1000 + g %% 7 * 100, 0, %s - interval '60 days', "
            "%s - interval '1 day' + (g %% 86400) * interval '1 second', %s - interval '60 days' "
            "FROM generate_series(1, %s) AS g",
            [merchant_id, account_ids, per_account, now, now, now, lots],
        )
        cursor.execute(
            "INSERT INTO ledger_entry (merchant_id, account_id, lot_id, transfer_id, kind, "
            "amount, receipt_id, hold_id, actor, reason, created_at) "
            "SELECT merchant_id, account_id, id, gen_random_uuid(), 'accrual', amount, NULL, "
            "NULL, 'system:bench', '', created_at FROM ledger_lot"
        )
    connection.close()
    with connection.cursor() as cursor:  # autocommit: VACUUM cannot run in a transaction
        cursor.execute("VACUUM ANALYZE ledger_lot")
        cursor.execute("VACUUM ANALYZE ledger_entry")
        cursor.execute("CHECKPOINT")  # the fill's dirty pages are not the job's to write
    return time.monotonic() - started


def check(lots: int) -> list[str]:
    from django.db import connection

    problems = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*), COUNT(DISTINCT lot_id) FROM ledger_entry WHERE kind = 'expiry'"
        )
        entries, distinct = cursor.fetchone()
        if entries != lots or distinct != lots:
            problems.append(f"{entries} expiry entries on {distinct} lots for {lots} lots")
        cursor.execute("SELECT COUNT(*) FROM ledger_lot WHERE remaining <> 0 OR held <> 0")
        if left := cursor.fetchone()[0]:
            problems.append(f"{left} lots with points left")
        cursor.execute(
            "SELECT COUNT(*) FROM (SELECT lot_id FROM ledger_entry GROUP BY lot_id "
            "HAVING SUM(amount) <> 0) AS unbalanced"
        )
        if unbalanced := cursor.fetchone()[0]:
            problems.append(f"{unbalanced} lots whose entries do not sum to remaining + held")
    return problems


def measure(merchant_id, account_ids, lots, per_account, now, figures, label) -> float:
    from kopilka.ledger import jobs

    needed = -(-lots // per_account)
    fill_s = fill(merchant_id, account_ids[:needed], lots, per_account, now)
    marks = []
    started = time.monotonic()
    result = jobs.expire_lots(now=now, on_batch=lambda _: marks.append(time.monotonic()))
    elapsed = time.monotonic() - started
    gaps = [b - a for a, b in zip([started, *marks], marks, strict=False)]
    tenth = max(1, len(gaps) // 10)
    started = time.monotonic()
    again = jobs.expire_lots(now=now)
    noop = time.monotonic() - started
    problems = check(lots)
    if result.lots != lots or again.lots:
        problems.append(f"wrote off {result.lots} then {again.lots} lots, expected {lots} then 0")
    for problem in problems:
        print(f"# {label}: {problem}", file=sys.stderr)
    figures[f"tick_{label}_lots"] = lots
    figures[f"tick_{label}_fill_s"] = round(fill_s, 2)
    figures[f"tick_{label}_s"] = round(elapsed, 2)
    figures[f"tick_{label}_batches"] = result.batches
    # A batch at the end costs what one at the start did: no work grows with the table.
    figures[f"tick_{label}_batch_ms_first_tenth"] = round(1000 * sum(gaps[:tenth]) / tenth, 1)
    figures[f"tick_{label}_batch_ms_last_tenth"] = round(1000 * sum(gaps[-tenth:]) / tenth, 1)
    figures[f"tick_{label}_second_run_s"] = round(noop, 2)
    figures["tick_breaches"] = figures.get("tick_breaches", 0) + len(problems)
    print(f"# {label}: {lots} lots written off in {elapsed:.2f}s", file=sys.stderr, flush=True)
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--lots-per-account", type=int, default=100)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("tick_bench: DATABASE_URL must point at a PostgreSQL server", file=sys.stderr)
        return 2
    recreate_database(url, BENCH_DB)
    os.environ["DATABASE_URL"] = _url_with_db(url, BENCH_DB)
    setup_django()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    call_command("migrate", verbosity=0, interactive=False)
    merchant_id, account_ids = create_accounts(-(-args.large // args.lots_per_account))
    now = timezone.now()
    figures: dict = {}
    small = measure(
        merchant_id, account_ids, args.small, args.lots_per_account, now, figures, "100k"
    )
    large = measure(merchant_id, account_ids, args.large, args.lots_per_account, now, figures, "1m")
    figures = {
        "tick_lots_per_s": round(args.large / large),
        "tick_ratio_1m_vs_100k": round(large / small, 2),
        **figures,
    }
    connection.close()
    for name, value in figures.items():
        print(f"{name}: {value}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(figures, fh)
    return 1 if figures["tick_breaches"] else 0


if __name__ == "__main__":
    sys.exit(main())

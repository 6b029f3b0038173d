"""Ledger throughput and round trips on PostgreSQL.

    DATABASE_URL=postgres://... python bench/ledger_bench.py [--workers 8] [--duration 15]

DATABASE_URL names any database on the server to use; the benchmark (re)creates its own
database `kopilka_bench` there, migrates it, and creates one merchant, one program and
--accounts customers with an account each. Then --workers processes (processes, not threads:
no GIL between them; each calls django.setup()) repeatedly take a random account and run two
transactions on it through the ledger services, exactly as the POS code does:

    with transaction.atomic(): lock the account; services.credit(1000)
    with transaction.atomic(): lock the account; services.spend(500)

Each committed credit or spend is one op; `ledger_ops_per_s` is all ops of all workers divided
by the wall time of the run. Afterwards the invariant checker must find no breach.

`ledger_db_roundtrips_per_spend` is counted, not estimated: libpq tracing (PQtrace) is switched
on for the spend transactions only (BEGIN ... COMMIT), and every message that makes the client
wait for the server (Sync in the extended protocol, Query in the simple one) is one round trip.
The same count for a `SELECT 1` transaction (expected: 3, BEGIN + SELECT + COMMIT) checks the
method. Prints `name: value` lines; --json also writes them to a file.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import sys
import tempfile
import time
import urllib.parse

BENCH_DB = "kopilka_bench"
CREDIT_AMOUNT = 1000
SPEND_AMOUNT = 500
TRACE_SAMPLES = 100


def _url_with_db(url: str, dbname: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + dbname))


def recreate_database(url: str, dbname: str) -> None:
    import dj_database_url
    import psycopg
    from psycopg import sql

    cfg = dj_database_url.parse(url)
    params = {
        "host": cfg["HOST"],
        "port": cfg["PORT"] or None,
        "user": cfg["USER"] or None,
        "password": cfg["PASSWORD"] or None,
        "dbname": cfg["NAME"],
    }
    with psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True) as conn:
        name = sql.Identifier(dbname)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kopilka.settings")
    # Measure production settings: DEBUG would record every query in memory.
    os.environ.setdefault("KOPILKA_DEBUG", "0")
    os.environ.setdefault("KOPILKA_SECRET_KEY", "benchmark-only")
    import django

    django.setup()


def create_accounts(n: int) -> list[int]:
    from kopilka.customers.models import Customer
    from kopilka.ledger import services
    from kopilka.merchants.actors import Actor
    from kopilka.merchants.services import merchant_create
    from kopilka.programs.models import Program

    actor = Actor.system("bench")
    merchant = merchant_create(name="Bench", actor=actor)
    program = Program.objects.create(merchant=merchant, name="Bench bonuses")
    Customer.objects.bulk_create(
        Customer(merchant=merchant, phone=f"+7916{i:07d}") for i in range(n)
    )
    customers = Customer.objects.filter(merchant=merchant).order_by("pk")
    return [services.account_open(customer=c, program=program, actor=actor).pk for c in customers]


def credit_once(account_id: int, actor) -> None:
    from django.db import transaction

    from kopilka.ledger import locks, services

    with transaction.atomic():
        [acct] = locks.lock_accounts([account_id])
        services.credit(account=acct, amount=CREDIT_AMOUNT, kind="accrual", actor=actor)


def spend_once(account_id: int, actor) -> None:
    from django.db import transaction

    from kopilka.ledger import locks, services

    with transaction.atomic():
        [acct] = locks.lock_accounts([account_id])
        services.spend(account=acct, amount=SPEND_AMOUNT, actor=actor)


def worker(index: int, account_ids: list[int], duration: float, barrier, results) -> None:
    setup_django()
    from django.db import connection

    from kopilka.ledger.exceptions import InsufficientBalance
    from kopilka.merchants.actors import Actor

    actor = Actor.system("bench")
    rng = random.Random(index)
    connection.ensure_connection()
    ops = insufficient = errors = 0
    first_error = ""
    barrier.wait()
    started = time.monotonic()
    deadline = started + duration
    while time.monotonic() < deadline:
        account_id = rng.choice(account_ids)
        try:
            credit_once(account_id, actor)
            ops += 1
            spend_once(account_id, actor)
            ops += 1
        except InsufficientBalance:
            insufficient += 1
        except Exception as exc:  # count and go on; the run reports them
            errors += 1
            first_error = first_error or f"{type(exc).__name__}: {exc}"
    elapsed = time.monotonic() - started
    connection.close()
    results.put(
        {
            "ops": ops,
            "insufficient": insufficient,
            "errors": errors,
            "first_error": first_error,
            "started": started,
            "ended": started + elapsed,
        }
    )


class RoundTripCounter:
    """Counts client->server round trips of one Django connection with libpq tracing."""

    ENDS_ROUND_TRIP = {"Sync", "Query"}  # the client then waits for ReadyForQuery

    def __init__(self) -> None:
        from django.db import connection

        connection.ensure_connection()
        self.pgconn = connection.connection.pgconn
        fd, self.path = tempfile.mkstemp(prefix="kopilka-pqtrace-")
        os.close(fd)
        self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)

    def __enter__(self):
        from psycopg.pq import Trace

        self.pgconn.trace(self.fd)
        self.pgconn.set_trace_flags(Trace.SUPPRESS_TIMESTAMPS | Trace.REGRESS_MODE)
        return self

    def __exit__(self, *exc) -> None:
        self.pgconn.untrace()  # flushes the trace stream

    def counts(self) -> tuple[int, int]:
        """(client messages ending a round trip, ReadyForQuery replies): these must agree."""
        ends = ready = 0
        with open(self.path, errors="replace") as fh:
            for line in fh:
                parts = line.split("\t")
                if len(parts) < 3:
                    continue
                direction, kind = parts[0], parts[2].strip()
                if direction == "F" and kind in self.ENDS_ROUND_TRIP:
                    ends += 1
                elif direction == "B" and kind == "ReadyForQuery":
                    ready += 1
        return ends, ready

    def close(self) -> None:
        os.close(self.fd)
        os.unlink(self.path)


def count_round_trips(account_id: int, samples: int) -> dict:
    from django.db import connection, transaction

    from kopilka.merchants.actors import Actor

    actor = Actor.system("bench")
    figures = {}

    def measure(name, action, before=None):
        counter = RoundTripCounter()
        try:
            for _ in range(samples):
                if before:
                    before()
                with counter:
                    action()
            ends, ready = counter.counts()
        finally:
            counter.close()
        if ends != ready:
            raise RuntimeError(f"{name}: {ends} Sync/Query but {ready} ReadyForQuery")
        figures[name] = ends / samples

    def select_one():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()

    measure("ledger_db_roundtrips_select1_txn", select_one)
    measure("ledger_db_roundtrips_per_credit", lambda: credit_once(account_id, actor))
    measure(
        "ledger_db_roundtrips_per_spend",
        lambda: spend_once(account_id, actor),
        before=lambda: credit_once(account_id, actor),
    )
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("ledger_bench: DATABASE_URL must point at a PostgreSQL server", file=sys.stderr)
        return 2
    recreate_database(url, BENCH_DB)
    os.environ["DATABASE_URL"] = _url_with_db(url, BENCH_DB)  # inherited by the workers
    setup_django()
    from django.core.management import call_command
    from django.db import connection

    from kopilka.ledger.verify import verify_ledger

    call_command("migrate", verbosity=0, interactive=False)
    account_ids = create_accounts(args.accounts)
    connection.close()  # no connection shared with the workers

    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(args.workers)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=worker, args=(i, account_ids, args.duration, barrier, results))
        for i in range(args.workers)
    ]
    for p in procs:
        p.start()
    try:
        outcomes = [results.get(timeout=args.duration + 120) for _ in procs]
    finally:
        for p in procs:
            p.join(10)
            if p.is_alive():
                p.terminate()
    wall = max(o["ended"] for o in outcomes) - min(o["started"] for o in outcomes)
    ops = sum(o["ops"] for o in outcomes)
    errors = sum(o["errors"] for o in outcomes)

    figures = {
        "ledger_workers": args.workers,
        "ledger_accounts": args.accounts,
        "ledger_duration_s": round(wall, 2),
        "ledger_ops": ops,
        "ledger_ops_per_s": round(ops / wall, 1),
        "ledger_errors": errors,
        "ledger_insufficient_balance": sum(o["insufficient"] for o in outcomes),
    }
    figures.update(
        {k: round(v, 2) for k, v in count_round_trips(account_ids[0], TRACE_SAMPLES).items()}
    )
    breaches = verify_ledger()
    figures["ledger_invariant_breaches"] = len(breaches)

    for name, value in figures.items():
        print(f"{name}: {value}")
    for o in outcomes:
        if o["first_error"]:
            print(f"# first error in a worker: {o['first_error']}", file=sys.stderr)
    for breach in breaches[:10]:
        print(f"# breach: {breach}", file=sys.stderr)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(figures, fh)
    return 1 if errors or breaches else 0


if __name__ == "__main__":
    sys.exit(main())

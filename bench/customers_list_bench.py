"""How the back-office customer list scales: the same filtered, sorted page with 1,000 and
with 1,000,000 customers.

    DATABASE_URL=postgres://... python bench/customers_list_bench.py [--small N] [--large N]

DATABASE_URL names any database on a PostgreSQL server; the benchmark (re)creates its own
database `kopilka_customers_bench` there, migrates it, and creates one merchant with an owner.
It bulk-inserts --small customers with their kept figures (visits, total spent, last purchase,
balance snapshot, birthday; set-based, INSERT ... SELECT generate_series), runs VACUUM ANALYZE,
and times the customer changelist through Django's test client as the signed-in owner: the
filters "no purchase for 30 days" and "bonus balance 100..500", sorted by total spent,
descending (the median of --requests requests after --warmup), and the list searched by the
last 5 digits of a phone (`q=00500`: one customer at 1k, ten at 1M, read through the phone's
last-4-digits index). Then it inserts customers up to --large in all and times both again.

  customers_list_ms_1m_vs_1k   median page time with --large / with --small (target <= 3)
  customers_list_ms_1k, customers_list_ms_1m   the medians, milliseconds
  customers_list_rows          rows on the measured page (must be a full page both times)
  customers_suffix_ms_1m_vs_1k, customers_suffix_ms_1k, customers_suffix_ms_1m,
  customers_suffix_rows_1k, customers_suffix_rows_1m   the same for the phone-suffix search

The plan of the page's main query goes to stderr. Prints `name: value` lines; --json also
writes them to a file.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

from ledger_bench import _url_with_db, recreate_database, setup_django

BENCH_DB = "kopilka_customers_bench"
PAGE = "/admin/customers/customer/?not_seen_days=30&balance_from=100&balance_to=500&o=-4"
SUFFIX_PAGE = "/admin/customers/customer/?q=00500"


def create_owner():
    from kopilka.merchants import services
    from kopilka.merchants.actors import Actor
    from kopilka.merchants.models import Role

    actor = Actor.system("bench")
    merchant = services.merchant_create(name="Customers bench", actor=actor)
    member = services.staff_create(
        merchant=merchant,
        username="owner",
        password="bench-password-1",
        role=Role.OWNER,
        actor=actor,
    )
    return merchant, member.user


def fill(merchant_id: int, first: int, last: int) -> float:
    """Customers numbered first..last with figures spread like a real shop's. Returns seconds."""
    from django.db import connection

    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO customers_customer (merchant_id, first_name, last_name, middle_name, "
            "phone, email, birthday, gender, code_word, marketing_consent, status, notes, "
            "name_search, created_at, visits, purchases_total, last_purchase_at, balance, "
            "balance_at) "
            "SELECT %s, 'Имя' || g, 'Фамилия' || g, '', '+7916' || lpad(g::text, 7, '0'), '', "
            "CASE WHEN g %% 3 = 0 THEN NULL "
            "ELSE date '1960-01-01' + ((g * 7919) %% 18000)::int END, "
            "'', '', g %% 2 = 0, 'active', '', 'фамилия' || g || ' имя' || g, "
            "now() - (g %% 700)::int * interval '1 day', ((g * 31) %% 60)::int, "
            "(g * 7907) %% 5000000, "
            "CASE WHEN g %% 10 = 0 THEN NULL "
            "ELSE now() - ((g * 104729) %% 365)::int * interval '1 day' END, "
            "(g * 15485863) %% 100000, now() "
            "FROM generate_series(%s::bigint, %s::bigint) AS g",
            [merchant_id, first, last],
        )
    connection.close()
    with connection.cursor() as cursor:  # autocommit: VACUUM cannot run in a transaction
        cursor.execute("VACUUM ANALYZE customers_customer")
        cursor.execute("CHECKPOINT")
    return time.monotonic() - started


def explain(client, page: str = PAGE, marker: str = "ORDER BY") -> None:
    """The page's main query and its plan, to stderr."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        client.get(page)
    main = next(
        q["sql"] for q in queries if marker in q["sql"] and "customers_customer" in q["sql"]
    )
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + main)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    print(f"# {main}\n{plan}", file=sys.stderr)


def measure(client, requests: int, warmup: int, page: str = PAGE) -> float:
    """Median page time in milliseconds."""
    for _ in range(warmup):
        client.get(page)
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(page)
        times.append(1000 * (time.perf_counter() - started))
        if response.status_code != 200:
            raise SystemExit(f"customers_list_bench: the page answered {response.status_code}")
    return statistics.median(times)


def page_rows(client, page: str = PAGE) -> int:
    """Rows on the page: a full page both times, or the timing compares unequal work."""
    from django.test.utils import setup_test_environment, teardown_test_environment

    setup_test_environment()  # the test client records the template context meanwhile
    try:
        return len(client.get(page).context["cl"].result_list)
    finally:
        teardown_test_environment()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=21)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print(
            "customers_list_bench: DATABASE_URL must point at a PostgreSQL server", file=sys.stderr
        )
        return 2
    recreate_database(url, BENCH_DB)
    os.environ["DATABASE_URL"] = _url_with_db(url, BENCH_DB)
    setup_django()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    call_command("migrate", verbosity=0, interactive=False)
    merchant, owner = create_owner()
    client = Client(HTTP_HOST="localhost")
    client.force_login(owner)

    figures: dict = {}
    for label, first, last in (("1k", 1, args.small), ("1m", args.small + 1, args.large)):
        fill_s = fill(merchant.pk, first, last)
        print(f"# {label}: {last} customers, filled in {fill_s:.1f}s", file=sys.stderr, flush=True)
        explain(client)
        median = measure(client, args.requests, args.warmup)
        figures[f"customers_list_ms_{label}"] = round(median, 1)
        figures[f"customers_list_rows_{label}"] = page_rows(client)
        figures[f"customers_list_fill_{label}_s"] = round(fill_s, 1)
        explain(client, SUFFIX_PAGE, marker='"phone_tail" =')
        suffix = measure(client, args.requests, args.warmup, SUFFIX_PAGE)
        figures[f"customers_suffix_ms_{label}"] = round(suffix, 1)
        figures[f"customers_suffix_rows_{label}"] = page_rows(client, SUFFIX_PAGE)
    figures = {
        "customers_list_ms_1m_vs_1k": round(
            figures["customers_list_ms_1m"] / figures["customers_list_ms_1k"], 2
        ),
        "customers_suffix_ms_1m_vs_1k": round(
            figures["customers_suffix_ms_1m"] / figures["customers_suffix_ms_1k"], 2
        ),
        **figures,
    }
    connection.close()
    for name, value in figures.items():
        print(f"{name}: {value}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(figures, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Receipt confirm over HTTP (gunicorn + wrk), its round trips, engine share and worker memory.

    DATABASE_URL=postgres://... python bench/confirm_bench.py [--workers 2] [--duration 15]

DATABASE_URL names any database on a PostgreSQL server; the benchmark (re)creates its own
database `kopilka_confirm_bench` there, migrates it and sets up one merchant with a store, a
register (API key), a bonus program (accrual 3 % / 5 % from 5,000 roubles on goods and services,
at most 50 % of a receipt payable by bonuses, tickets capped at 10 %), 10 products in three
categories and --customers customers with 10,000 roubles of bonuses each. Every confirm is the
same kind of receipt: 10 lines, a random customer, spend 100 kopecks (so it spends and accrues),
a new external_number and Idempotency-Key.

In this process, through django.test.Client (the whole Django stack, no network):
  confirm_db_roundtrips      counted with libpq tracing (ledger_bench.RoundTripCounter)
  confirm_sql_statements     statements of one confirm, BEGIN/COMMIT included (list on stderr)
  engine_share_of_confirm    time in kopilka.rules.quote (a timing shim) / request time
Over HTTP (gunicorn sync workers on 127.0.0.1, KOPILKA_DEBUG=0; wrk with bench/confirm.lua):
  trivial_ninja_http_per_s   for scale, first: GET of a trivial django-ninja endpoint with our
                             settings and middleware (bench/trivial_ninja.py), same load
  confirm_http_per_s         201 responses per second over --duration s, after a warm-up
  confirm_share_of_trivial   confirm_http_per_s / trivial_ninja_http_per_s
  confirm_*_cpu_ms           CPU per confirm during that run (bench/cpumeter.py): machine,
                             gunicorn, PostgreSQL (a local server), wrk; trivial_*_cpu_ms alike
  confirm_db_ceiling_per_s   cores x 1000 / confirm_db_cpu_ms: the database side's own limit
  quote_p99_ms               POST /receipts/quote at a fixed rate of confirm_http_per_s / 2 for
                             --quote-duration s; latency from each request's scheduled send time
  worker_rss_growth_mb_10k   one worker alone: VmRSS after --rss-confirms confirms minus after 100
                             (extrapolated, and marked so, if --rss-seconds cut it short)

Prints `name: value` lines; --json also writes them to a file. --no-http skips the HTTP part
(no wrk); --profile N prints a cProfile of N in-process confirms to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import http.client
import json
import math
import os
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import cpumeter
from ledger_bench import RoundTripCounter, _url_with_db, recreate_database, setup_django

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "tools"))

import pgcluster  # noqa: E402

BENCH_DB = "kopilka_confirm_bench"
LUA_SCRIPT = BENCH / "confirm.lua"
SPEND = 100  # kopecks per receipt: 10,000 receipts of one customer would still be covered
STARTING_BONUSES = 1_000_000  # kopecks per customer
ROUNDTRIP_SAMPLES = 50
ENGINE_SAMPLES = 200
RSS_BASELINE = 100
RSS_FULL = 10_000
RSS_CHUNK = 250  # VmRSS is read after every chunk of confirms
SECRET_KEY = "confirm-benchmark-only"

# (sku, category, unit price in kopecks, qty): 10 lines, 6 goods, 2 services, 2 tickets.
LINES = [
    ("MILK-1L", "goods", 8990, "2"),
    ("BREAD", "goods", 5490, "1"),
    ("CHEESE", "goods", 89900, "0.350"),
    ("APPLES", "goods", 14990, "1.250"),
    ("COFFEE", "goods", 64900, "1"),
    ("SOAP", "goods", 12900, "3"),
    ("DELIVERY", "services", 29900, "1"),
    ("GIFT-WRAP", "services", 9900, "1"),
    ("TICKET-A", "tickets", 45000, "2"),
    ("TICKET-B", "tickets", 30000, "1"),
]


def receipt_lines() -> list[dict]:
    return [
        {"line_no": i, "sku": sku, "qty": qty, "unit_price": price}
        for i, (sku, _category, price, qty) in enumerate(LINES, start=1)
    ]


def confirm_body(customer_id: int, number: str) -> dict:
    return {
        "customer": {"id": customer_id},
        "lines": receipt_lines(),
        "spend": SPEND,
        "external_number": number,
    }


def quote_body(customer_id: int) -> dict:
    return {"customer": {"id": customer_id}, "lines": receipt_lines(), "spend": SPEND}


# ---- setup ----------------------------------------------------------------------------------


def create_world(n_customers: int) -> dict:
    """Merchant, store, register, program with rules, products, customers with bonuses."""
    from django.db import transaction

    from kopilka.catalog import services as catalog
    from kopilka.customers.models import Customer
    from kopilka.ledger import locks
    from kopilka.ledger import services as ledger
    from kopilka.merchants import services as merchants
    from kopilka.merchants.actors import Actor
    from kopilka.programs import services as programs

    actor = Actor.system("bench")
    merchant = merchants.merchant_create(name="Bench", actor=actor)
    store = merchants.store_create(merchant=merchant, name="Main", actor=actor)
    register = merchants.register_create(store=store, name="Till 1", actor=actor)
    key = merchants.register_key_issue(register=register, actor=actor)
    categories = {
        name: catalog.category_create(merchant=merchant, name=name, actor=actor)
        for name in ("goods", "services", "tickets")
    }
    for sku, category, _price, _qty in LINES:
        catalog.product_create(
            merchant=merchant, sku=sku, name=sku, category=categories[category], actor=actor
        )
    earning = catalog.segment_create(
        merchant=merchant,
        name="earning",
        actor=actor,
        categories=[categories["goods"], categories["services"]],
    )
    tickets = catalog.segment_create(
        merchant=merchant, name="tickets", actor=actor, categories=[categories["tickets"]]
    )
    program = programs.program_create(
        merchant=merchant,
        name="Bench bonuses",
        actor=actor,
        accrual_rounding="kopeck",
        max_share_percent=50,
    )
    programs.accrual_rule_set(
        program=program, steps=[(0, 3), (500000, 5)], segments=[earning], actor=actor
    )
    programs.segment_cap_set(program=program, segment=tickets, max_share_percent=10, actor=actor)

    Customer.objects.bulk_create(
        Customer(merchant=merchant, phone=f"+7925{i:07d}") for i in range(n_customers)
    )
    ids = list(
        Customer.objects.filter(merchant=merchant).order_by("pk").values_list("pk", flat=True)
    )
    if ids[-1] - ids[0] + 1 != len(ids):
        raise RuntimeError("customer ids are not contiguous: the wrk script draws from a range")
    with transaction.atomic():
        for customer in Customer.objects.filter(merchant=merchant):
            account = ledger.account_open(customer=customer, program=program, actor=actor)
            [account] = locks.lock_accounts([account.pk])
            ledger.credit(account=account, amount=STARTING_BONUSES, actor=actor)
    return {
        "key": key,
        "first_customer": ids[0],
        "last_customer": ids[-1],
        "postmaster": postmaster_pid(),
    }


def postmaster_pid() -> int | None:
    """The PostgreSQL server's main process, if it runs on this machine (for its CPU time)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        [backend] = cursor.fetchone()
    parent = cpumeter.parent_of(backend)
    return parent if parent and parent > 1 else None


# ---- in-process measurements ----------------------------------------------------------------


class InProcessTill:
    """POSTs through django.test.Client: the full middleware and API stack, no socket."""

    def __init__(self, world: dict) -> None:
        import random

        from django.test import Client

        self.client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {world['key']}")
        self.rng = random.Random(1)
        self.first, self.last = world["first_customer"], world["last_customer"]
        self.sent = 0

    def confirm(self) -> None:
        self.sent += 1
        number = f"inproc-{self.sent}"
        response = self.client.post(
            "/api/v1/receipts",
            data=json.dumps(confirm_body(self.rng.randint(self.first, self.last), number)),
            content_type="application/json",
            headers={"Idempotency-Key": number},
        )
        if response.status_code != 201:
            raise RuntimeError(f"in-process confirm: {response.status_code} {response.content!r}")


def count_round_trips(till: InProcessTill, samples: int) -> float:
    from django.db import connection

    counter = RoundTripCounter()
    try:
        for _ in range(samples):
            with counter:
                till.confirm()
        if connection.connection is None or connection.connection.pgconn is not counter.pgconn:
            raise RuntimeError("the connection was replaced while counting round trips")
        ends, ready = counter.counts()
    finally:
        counter.close()
    if ends != ready:
        raise RuntimeError(f"confirm: {ends} Sync/Query but {ready} ReadyForQuery")
    return ends / samples


def traced_statements(till: InProcessTill) -> list[list[str]]:
    """The statements of one confirm on a fresh connection, grouped by round trip, read from
    the libpq trace (the hot path's statements go through kopilka.hotsql, which Django's query
    log does not see). On a fresh connection nothing is prepared yet, so each statement's text
    is in the trace; `Query` (simple protocol) and `Parse` (extended) carry it. A statement
    written over several lines spans several lines of the trace: they are joined back."""
    from django.db import connection

    connection.close()
    counter = RoundTripCounter()
    try:
        with counter:
            till.confirm()
        messages: list[str] = []
        with open(counter.path, errors="replace") as fh:
            for line in fh:
                if line.startswith(("F\t", "B\t")) or not messages:
                    messages.append(line.rstrip("\n"))
                else:  # the rest of a multi-line statement
                    messages[-1] += " " + line.rstrip("\n")
        trips, current = [], []
        for line in messages:
            parts = line.split("\t")
            if len(parts) < 3 or parts[0] != "F":
                continue
            kind, text = parts[2].strip(), "\t".join(parts[3:])
            if kind in ("Query", "Parse"):
                current.append(_traced_sql(kind, text))
            if kind in RoundTripCounter.ENDS_ROUND_TRIP:
                trips.append(current)
                current = []
    finally:
        counter.close()
    return trips


def _traced_sql(kind: str, text: str) -> str:
    """The SQL of a traced Query ("sql") or Parse ("name" "sql" n oids...) message: libpq
    prints the strings between double quotes without escaping the quotes inside them."""
    if kind == "Parse":
        text = text[text.index('"', text.index('"') + 1) + 1 :]  # drop the statement name
    return text[text.index('"') + 1 : text.rindex('"')]


def summarise(sql: str) -> str:
    """One short line: Django's long column lists replaced by `…`."""
    sql = " ".join(sql.replace('"', "").split())
    sql = re.sub(r"^SELECT (?!COALESCE|1 |id,).*? FROM ", "SELECT … FROM ", sql)
    sql = re.sub(r"^(INSERT INTO \w+) \(.*?\) VALUES .*", r"\1 (…) VALUES (…)", sql)
    return sql[:140]


def engine_share(till: InProcessTill, samples: int) -> dict:
    """Time in kopilka.rules.quote over the time of whole requests (a shim, removed after)."""
    import kopilka.rules

    original = kopilka.rules.quote
    spent = {"seconds": 0.0, "calls": 0}

    def timed_quote(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent["seconds"] += time.perf_counter() - started
            spent["calls"] += 1

    # The benchmark's own set-up (the world, its 2,000 customers) stays out of the collector's
    # way, as it is not in a server's: otherwise one full collection of it (~100 ms) lands
    # inside whichever call is allocating at the time, and decides the mean of 200 samples.
    gc.collect()
    gc.freeze()
    kopilka.rules.quote = timed_quote
    try:
        started = time.perf_counter()
        for _ in range(samples):
            till.confirm()
        total = time.perf_counter() - started
    finally:
        kopilka.rules.quote = original
        gc.unfreeze()
    if spent["calls"] != samples:
        raise RuntimeError(f"the shim saw {spent['calls']} engine calls in {samples} confirms")
    return {
        "engine_share_of_confirm": round(spent["seconds"] / total, 4),
        "confirm_inprocess_ms": round(1000 * total / samples, 2),
        "confirm_engine_ms": round(1000 * spent["seconds"] / samples, 3),
    }


def profile(till: InProcessTill, samples: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(samples):
        till.confirm()
    profiler.disable()
    print(f"# cProfile of {samples} in-process confirms (cumulative):", file=sys.stderr)
    pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(40)


def in_process(world: dict, args) -> dict:
    from django.db import connection

    connection.close()  # a fresh connection, far from CONN_MAX_AGE, for the traced run
    till = InProcessTill(world)
    for _ in range(20):  # warm-up: imports, caches, the first products' rows
        till.confirm()
    figures = {"confirm_db_roundtrips": round(count_round_trips(till, ROUNDTRIP_SAMPLES), 2)}
    trips = traced_statements(till)
    figures["confirm_sql_statements"] = sum(len(t) for t in trips)
    print(f"# one confirm: {len(trips)} round trips, statements in order:", file=sys.stderr)
    for n, trip in enumerate(trips, start=1):
        for sql in trip:
            print(f"#  {n:2d} {summarise(sql)}", file=sys.stderr)
    figures.update(engine_share(till, ENGINE_SAMPLES))
    if args.profile:
        profile(till, args.profile)
    connection.close()
    return figures


# ---- HTTP: gunicorn, wrk, a fixed-rate quote generator --------------------------------------


@contextlib.contextmanager
def gunicorn(workers: int, env: dict, probe):
    """gunicorn with `workers` sync workers on a free port, once `probe(port)` (one request,
    its HTTP status) answers 200; yields (port, master process)."""
    port = pgcluster.free_port()
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "kopilka.wsgi:application",
        "--worker-class",
        "sync",
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--backlog",
        "2048",
        "--log-level",
        "warning",
    ]
    print("$ " + " ".join(cmd[2:]), file=sys.stderr, flush=True)
    with tempfile.NamedTemporaryFile("w+", prefix="kopilka-gunicorn-", suffix=".log") as log:
        proc = subprocess.Popen(
            cmd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=pgcluster._pdeathsig_term,
        )
        try:
            _wait_serving(proc, port, probe, log)
            yield port, proc
        finally:
            if proc.poll() is None:
                proc.terminate()  # graceful: the workers finish their request
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(10)
            tracebacks = _tail(log, 10**6).count("Traceback")
            if tracebacks:
                print(f"# gunicorn logged {tracebacks} tracebacks:\n{_tail(log)}", file=sys.stderr)


def quote_probe(world: dict):
    def probe(port: int) -> int:
        body = quote_body(world["first_customer"])
        return post(port, "/api/v1/receipts/quote", body, world["key"])[0]

    return probe


def _wait_serving(proc, port: int, probe, log) -> None:
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}:\n{_tail(log)}")
        status = probe(port)
        if status == 200:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"gunicorn not serving after 60 s (last: {status}):\n{_tail(log)}")
        time.sleep(0.2)


def _tail(log, lines: int = 30) -> str:
    log.flush()
    log.seek(0)
    return "\n".join(log.read().splitlines()[-lines:])


def post(port: int, path: str, body: dict | bytes, key: str, timeout: float = 30, headers=None):
    """One POST on a new connection (sync workers close it anyway): (status, body) or (-1, err)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(
            "POST",
            path,
            body=data,
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {key}",
                **(headers or {}),
            },
        )
        response = conn.getresponse()
        return response.status, response.read()
    except OSError as exc:
        return -1, str(exc).encode()
    finally:
        conn.close()


def wrk(port, world, lines_file, prefix, *, threads, connections, seconds) -> dict:
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "30s",
        "-s",
        str(LUA_SCRIPT),
        f"http://127.0.0.1:{port}/api/v1/receipts",
        "--",
        world["key"],
        prefix,
        str(world["first_customer"]),
        str(world["last_customer"]),
        str(SPEND),
        lines_file,
    ]
    shown = [c if c != world["key"] else "KEY" for c in cmd]
    print("$ " + " ".join(shown), file=sys.stderr, flush=True)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120)
    sys.stderr.write(out.stdout + out.stderr)
    if out.returncode != 0:
        raise RuntimeError(f"wrk failed with exit code {out.returncode}")
    figures = {}
    for name, value in re.findall(r"^(wrk_\w+): (.*)$", out.stdout, re.M):
        figures[name] = value if name == "wrk_first_other" else float(value)
    return figures


TRIVIAL_PATH = "/trivial/ping"


def _get_status(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    except OSError:
        return -1
    finally:
        conn.close()


def trivial_http(args, env: dict) -> dict:
    """For scale: GET of a trivial django-ninja endpoint (bench/trivial_ninja.py: Kopilka's
    settings and middleware, no database), same workers and wrk load as the confirms."""
    env = {
        **env,
        "DJANGO_SETTINGS_MODULE": "trivial_ninja",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(BENCH), env.get("PYTHONPATH")])),
    }
    with gunicorn(args.workers, env, lambda port: _get_status(port, TRIVIAL_PATH)) as (port, gu):
        url = f"http://127.0.0.1:{port}{TRIVIAL_PATH}"
        runs = []
        for seconds in (args.warmup, args.duration):
            cmd = ["wrk", "-t2", f"-c{args.connections}", f"-d{seconds}s", url]
            print("$ " + " ".join(cmd), file=sys.stderr, flush=True)
            with cpumeter.measure({"app": cpumeter.Tree(gu.pid)}, with_children="wrk") as used:
                out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120)
            sys.stderr.write(out.stdout + out.stderr)
            runs.append(out.stdout)
    main = runs[-1]
    failed = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", main)
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", main, re.M)
    total = re.search(r"^\s*(\d+) requests in", main, re.M)
    if failed or rate is None or total is None:
        raise RuntimeError("the trivial endpoint did not answer every request with 200")
    return {
        "trivial_ninja_http_per_s": round(float(rate[1]), 1),
        **cpumeter.per_op_ms(used, int(total[1]), "trivial"),
    }


def fixed_rate_quotes(port, world, rate: float, seconds: float, pool: int = 48) -> dict:
    """POST /receipts/quote at `rate` per second; each latency counts from the request's
    scheduled send time, so a stalled server shows up in full (no coordinated omission)."""
    import random

    total = max(1, int(rate * seconds))
    rng = random.Random(2)
    bodies = [
        json.dumps(
            quote_body(rng.randint(world["first_customer"], world["last_customer"]))
        ).encode()
        for _ in range(total)
    ]
    latencies = [math.inf] * total
    statuses = [0] * total
    next_index = iter(range(total))
    lock = threading.Lock()
    start = time.monotonic() + 0.5

    def client() -> None:
        while True:
            with lock:
                i = next(next_index, None)
            if i is None:
                return
            scheduled = start + i / rate
            delay = scheduled - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            statuses[i], _ = post(port, "/api/v1/receipts/quote", bodies[i], world["key"])
            latencies[i] = time.monotonic() - scheduled

    workers = [threading.Thread(target=client, daemon=True) for _ in range(pool)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    ok = sorted(lat for lat, status in zip(latencies, statuses, strict=True) if status == 200)
    errors = total - len(ok)
    # A failed request counts as infinitely slow for the percentiles.
    ranked = ok + [math.inf] * errors

    def pct(p: float) -> float:
        return round(1000 * ranked[max(0, math.ceil(p / 100 * len(ranked)) - 1)], 2)

    return {
        "quote_rate_per_s": round(rate, 1),
        "quote_requests": total,
        "quote_errors": errors,
        "quote_p50_ms": pct(50),
        "quote_p99_ms": pct(99),
        "quote_max_ms": pct(100),
    }


def confirm_loop(port, world, count: int, prefix: str, deadline=math.inf, connections=2) -> dict:
    """`count` confirms (fewer if time.monotonic() passes `deadline`), `connections` at a
    time: {"ok", "errors", "seconds"}."""
    import random

    rng = random.Random(prefix)
    numbers = iter(range(count))
    lock = threading.Lock()
    result = {"ok": 0, "errors": 0}
    first_error: list[str] = []

    def client() -> None:
        while True:
            with lock:
                n = next(numbers, None)
                customer = rng.randint(world["first_customer"], world["last_customer"])
            if n is None or time.monotonic() > deadline:
                return
            number = f"{prefix}-{n}"
            body = json.dumps(confirm_body(customer, number)).encode()
            status, reply = post(
                port, "/api/v1/receipts", body, world["key"], headers={"Idempotency-Key": number}
            )
            with lock:
                if status == 201:
                    result["ok"] += 1
                else:
                    result["errors"] += 1
                    first_error[:] = first_error or [f"{status} {reply[:300]!r}"]

    started = time.monotonic()
    threads = [threading.Thread(target=client, daemon=True) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result["seconds"] = time.monotonic() - started
    if first_error:
        print(f"# {prefix}: first non-201 response: {first_error[0]}", file=sys.stderr)
    return result


def rss_figures(samples: list[tuple[int, float]], target: int) -> dict:
    """Growth from the first sample (after 100 confirms) to `target` confirms: measured when the
    run got there; otherwise measured so far plus the slope of the run's second half times the
    confirms still missing (a worker whose memory has levelled off adds ~0; a steady leak adds
    its rate)."""
    (start, base), (done, last) = samples[0], samples[-1]
    figures = {
        "worker_rss_confirms": done,
        "worker_rss_mb_after_100": round(base, 1),
        "worker_rss_growth_mb": round(last - base, 1),
    }
    if done >= target:
        figures["worker_rss_growth_mb_10k"] = round(last - base, 1)
        figures["worker_rss_growth_10k_extrapolated"] = "no"
        return figures
    middle = min(samples, key=lambda s: abs(s[0] - (start + done) / 2))
    slope = (last - middle[1]) / (done - middle[0]) if done > middle[0] else 0.0
    figures["worker_rss_growth_mb_10k"] = round(last - base + max(0.0, slope) * (target - done), 1)
    figures["worker_rss_growth_10k_extrapolated"] = "yes"
    return figures


def worker_pids(master: int) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == master:
            pids.append(int(stat.parent.name))
    return pids


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def over_http(world: dict, args, env: dict) -> dict:
    figures: dict = {}
    with tempfile.NamedTemporaryFile("w", prefix="kopilka-lines-", suffix=".json") as lines:
        lines.write(json.dumps(receipt_lines(), separators=(",", ":")))
        lines.flush()
        load = {"threads": 2, "connections": args.connections}
        figures.update(trivial_http(args, env))
        with gunicorn(args.workers, env, quote_probe(world)) as (port, gu):
            wrk(port, world, lines.name, "warm", seconds=args.warmup, **load)
            trees = {"app": cpumeter.Tree(gu.pid)}
            if world["postmaster"]:
                trees["db"] = cpumeter.Tree(world["postmaster"])
            with cpumeter.measure(trees, with_children="wrk") as used:
                run = wrk(port, world, lines.name, "main", seconds=args.duration, **load)
            rate = run["wrk_201"] / run["wrk_duration_s"]
            figures.update(cpumeter.per_op_ms(used, run["wrk_201"], "confirm"))
            if "confirm_db_cpu_ms" in figures:
                figures["confirm_db_ceiling_per_s"] = cpumeter.ceiling(figures["confirm_db_cpu_ms"])
            figures.update(
                {
                    "confirm_http_per_s": round(rate, 1),
                    "confirm_share_of_trivial": round(
                        rate / figures["trivial_ninja_http_per_s"], 3
                    ),
                    "confirm_errors": int(run["wrk_other_status"] + run["wrk_socket_errors"]),
                    "confirm_http_201": int(run["wrk_201"]),
                    "confirm_http_duration_s": round(run["wrk_duration_s"], 2),
                    "confirm_http_p99_ms": run["wrk_latency_p99_ms"],
                    "confirm_http_workers": args.workers,
                    "confirm_http_connections": args.connections,
                }
            )
            if "wrk_first_other" in run:
                print(f"# first non-201 response: {run['wrk_first_other']}", file=sys.stderr)
            if rate > 0:
                figures.update(fixed_rate_quotes(port, world, rate / 2, args.quote_duration))

    # Memory of one worker: alone, so every confirm goes through it. A small Python client
    # (2 connections keep the worker busy) runs chunks of confirms and reads VmRSS after each,
    # until 10,000 confirms or until --rss-seconds run out.
    with gunicorn(1, env, quote_probe(world)) as (port, master):
        [pid] = worker_pids(master.pid)
        first = confirm_loop(port, world, RSS_BASELINE, "rss0")
        samples = [(RSS_BASELINE, rss_mb(pid))]  # (confirms so far, MB)
        deadline = time.monotonic() + args.rss_seconds if args.rss_seconds else math.inf
        ok, errors, seconds = first["ok"], first["errors"], 0.0
        while samples[-1][0] < args.rss_confirms and time.monotonic() < deadline:
            chunk = min(RSS_CHUNK, args.rss_confirms - samples[-1][0])
            part = confirm_loop(port, world, chunk, f"rss{len(samples)}", deadline)
            ok, errors, seconds = (
                ok + part["ok"],
                errors + part["errors"],
                seconds + part["seconds"],
            )
            samples.append((samples[-1][0] + part["ok"] + part["errors"], rss_mb(pid)))
        if worker_pids(master.pid) != [pid]:
            raise RuntimeError("the gunicorn worker was replaced during the memory run")
    print(
        "# worker VmRSS (confirms: MB): " + ", ".join(f"{n}: {mb:.1f}" for n, mb in samples),
        file=sys.stderr,
    )
    figures.update(rss_figures(samples, args.rss_confirms))
    figures["worker_rss_errors"] = errors
    if seconds:
        figures["confirm_http_per_s_1_worker"] = round((ok - first["ok"]) / seconds, 1)
    return figures


# ---- main -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--connections", type=int, default=12, help="wrk connections")
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--quote-duration", type=float, default=10.0)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--rss-confirms", type=int, default=RSS_FULL)
    parser.add_argument(
        "--rss-seconds",
        type=float,
        default=0,
        help="time limit of the one-worker memory run (0: none); if it stops short of 10,000 "
        "confirms, worker_rss_growth_mb_10k is extrapolated and says so",
    )
    parser.add_argument("--no-http", action="store_true", help="in-process figures only")
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    args.duration, args.warmup = round(args.duration), max(1, round(args.warmup))

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("confirm_bench: DATABASE_URL must point at a PostgreSQL server", file=sys.stderr)
        return 2
    if not args.no_http and not shutil.which("wrk"):
        print(
            "confirm_bench: wrk not found (apt-get install wrk), or use --no-http", file=sys.stderr
        )
        return 2
    recreate_database(url, BENCH_DB)
    os.environ["DATABASE_URL"] = _url_with_db(url, BENCH_DB)
    os.environ["KOPILKA_DEBUG"] = "0"
    os.environ.setdefault("KOPILKA_SECRET_KEY", SECRET_KEY)
    setup_django()
    from django.core.management import call_command
    from django.db import connection

    started = time.monotonic()
    call_command("migrate", verbosity=0, interactive=False)
    world = create_world(args.customers)
    connection.close()
    print(f"# set up in {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)

    figures = {"confirm_customers": args.customers}
    figures.update(in_process(world, args))
    if not args.no_http:
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "kopilka.settings"}
        figures.update(over_http(world, args, env))

    for name, value in figures.items():
        print(f"{name}: {value}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(figures, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main())

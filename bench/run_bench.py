"""`make bench`: pgbench TPC-B, the ledger benchmark, then the receipt-confirm benchmark, on one
throwaway PostgreSQL server.

The server has default durability (fsync and synchronous_commit on), shared_buffers=256MB and
max_connections=50. Prints `name: value` lines; see bench/README.md for what they mean.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import pgcluster  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))

import cpumeter  # noqa: E402

TUNING = {"shared_buffers": "256MB", "max_connections": "50"}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def run(cmd: list[str], env: dict, check: bool = True) -> str:
    """Run a client command, echo its output (to stderr), return it."""
    print("$ " + " ".join(cmd), file=sys.stderr, flush=True)
    with tempfile.TemporaryFile("w+") as out:
        rc = pgcluster.run_child(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        out.seek(0)
        text = out.read()
    sys.stderr.write(text)
    if rc != 0:
        if check:
            raise SystemExit(f"{cmd[0]} failed with exit code {rc}")
        print(f"!! {' '.join(cmd[:2])} failed with exit code {rc}", file=sys.stderr)
    return text


def ensure_wrk() -> bool:
    """wrk drives the HTTP part of the confirm benchmark: install it from Debian if we may."""
    if shutil.which("wrk"):
        return True
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-q", "wrk"]
        if subprocess.run(install, env=env, stdout=sys.stderr).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], env=env, stdout=sys.stderr)
            subprocess.run(install, env=env, stdout=sys.stderr)
        if shutil.which("wrk"):
            return True
    print(
        "bench: wrk is missing: install it (Debian/Ubuntu: `sudo apt-get install wrk`) for "
        "confirm_http_per_s, confirm_ratio_vs_pgbench, quote_p99_ms and "
        "worker_rss_growth_mb_10k; skipping them",
        file=sys.stderr,
    )
    return False


def run_json(cmd: list[str], env: dict, what: str, required: bool = True) -> dict | None:
    """Run a benchmark script that writes its figures to the file given with --json."""
    with tempfile.NamedTemporaryFile(suffix=".json") as result:
        run([*cmd, "--json", result.name], env, check=False)
        try:
            return json.loads(Path(result.name).read_text())
        except ValueError:
            if required:
                raise SystemExit(f"the {what} benchmark wrote no figures") from None
            print(f"bench: the {what} benchmark wrote no figures", file=sys.stderr)
            return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument(
        "--confirm-workers", type=int, default=2, help="gunicorn sync workers (best on 2 CPUs)"
    )
    parser.add_argument(
        "--rss-seconds",
        type=float,
        default=120,
        help="time limit of the one-worker memory run (0: all 10,000 confirms)",
    )
    args = parser.parse_args(argv)

    pgcluster.handle_termination_signals()
    http = ensure_wrk()
    figures: dict = {}
    try:
        with pgcluster.temporary_cluster(TUNING) as cluster:
            env = {**os.environ, **cluster.env("pgbench")}
            run([cluster.tool("createdb"), "pgbench"], env)
            run([cluster.tool("pgbench"), "-i", "-q", "-s", str(args.scale)], env)
            postmaster = int(Path(cluster.host, "data", "postmaster.pid").read_text().split()[0])
            db = {"db": cpumeter.Tree(postmaster)}
            with cpumeter.measure(db, with_children="client") as used:
                out = run(
                    [
                        cluster.tool("pgbench"),
                        "-c",
                        str(args.clients),
                        "-j",
                        str(args.threads),
                        "-T",
                        str(args.duration),
                    ],
                    env,
                )
            match = re.search(r"tps = ([\d.]+) \(without initial", out) or re.search(
                r"tps = ([\d.]+)", out
            )
            done = re.search(r"number of transactions actually processed: (\d+)", out)
            if not match or not done:
                raise SystemExit("could not find tps in pgbench output")
            figures["pgbench_tps"] = round(float(match.group(1)), 1)
            figures.update(cpumeter.per_op_ms(used, int(done[1]), "pgbench"))

            db_env = {**os.environ, **cluster.env("postgres")}
            ledger = run_json(
                [
                    sys.executable,
                    str(ROOT / "bench" / "ledger_bench.py"),
                    "--workers",
                    str(args.clients),
                    "--duration",
                    str(args.duration),
                ],
                db_env,
                "ledger",
            )
            confirm = run_json(
                [
                    sys.executable,
                    str(ROOT / "bench" / "confirm_bench.py"),
                    "--workers",
                    str(args.confirm_workers),
                    "--duration",
                    str(args.duration),
                    "--rss-seconds",
                    str(args.rss_seconds),
                    *([] if http else ["--no-http"]),
                ],
                db_env,
                "confirm",
                required=False,
            )
            tick = run_json(
                [sys.executable, str(ROOT / "bench" / "tick_bench.py")], db_env, "tick", False
            )
            # Back office and reports on the same server: the customer list at 1k and 1M
            # customers, the bonuses report at 100k and 10M receipts, the program simulator.
            extras = {
                name: run_json([sys.executable, str(ROOT / "bench" / script)], db_env, name, False)
                for name, script in EXTRA_BENCHES
            }
        # The cashier screen in a real browser, on its own SQLite demo database.
        extras["cashier"] = run_json(
            [sys.executable, str(ROOT / "bench" / "cashier_bench.py")],
            dict(os.environ),
            "cashier",
            False,
        )
    except KeyboardInterrupt:
        return 130
    except pgcluster.Terminated as exc:
        return 128 + exc.signum

    figures["ledger_ops_per_s"] = ledger["ledger_ops_per_s"]
    figures["ledger_ratio_vs_pgbench"] = round(
        ledger["ledger_ops_per_s"] / figures["pgbench_tps"], 3
    )
    figures["ledger_db_roundtrips_per_spend"] = ledger["ledger_db_roundtrips_per_spend"]
    details = {k: v for k, v in ledger.items() if k not in figures}
    figures.update(details)
    figures["pgbench_scale"] = args.scale
    figures["pgbench_clients"] = args.clients
    figures["cpu_count"] = os.cpu_count()
    figures["cpu_model"] = cpu_model()
    for name, value in figures.items():
        print(f"{name}: {value}")
    status = 0
    if confirm is None:
        status = 1
    else:
        print_confirm(confirm, figures)
    if ledger.get("ledger_errors") or ledger.get("ledger_invariant_breaches"):
        print("bench: the ledger benchmark saw errors or invariant breaches", file=sys.stderr)
        status = 1
    if confirm and (confirm.get("confirm_errors") or confirm.get("worker_rss_errors")):
        print("bench: some confirms were not answered 201 (see above)", file=sys.stderr)
        status = 1
    for name, value in (tick or {}).items():  # `kopilka tick` at 100k and 1M due lots
        print(f"{name}: {value}")
    if tick is None or tick.get("tick_breaches"):
        print(
            "bench: the tick benchmark failed or its ledger check found a breach", file=sys.stderr
        )
        status = 1
    for name, found in extras.items():
        for figure, value in (found or {}).items():
            print(f"{figure}: {value}")
        if found is None:
            print(f"bench: the {name} benchmark failed (see above)", file=sys.stderr)
            status = 1
    # The pure engine needs no database: quote medians for 200 x 50 and 20 x 5.
    engine = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "engine_bench.py")],
        capture_output=True,
        text=True,
        check=False,
    )
    print(engine.stdout, end="")
    if engine.returncode:
        print(f"bench: the engine benchmark failed\n{engine.stderr}", file=sys.stderr)
        status = 1
    return status


EXTRA_BENCHES = (
    ("customers_list", "customers_list_bench.py"),
    ("report", "report_bench.py"),
    ("simulator", "simulator_bench.py"),
)


def print_confirm(confirm: dict, pgbench: dict) -> None:
    """The confirm benchmark's figures: the headline ones first, in the README's order."""
    pgbench_tps = pgbench["pgbench_tps"]
    if "confirm_db_ceiling_per_s" in confirm:
        confirm["confirm_db_ceiling_ratio_vs_pgbench"] = round(
            confirm["confirm_db_ceiling_per_s"] / pgbench_tps, 3
        )
    if "confirm_machine_cpu_ms" in confirm and pgbench.get("pgbench_machine_cpu_ms"):
        # What a confirm costs the machine, counted in TPC-B transactions (pgbench's client
        # included, as wrk is in the confirm's): a ratio of 0.3 needs at most 1 / 0.3 = 3.3.
        confirm["confirm_cpu_in_pgbench_txns"] = round(
            confirm["confirm_machine_cpu_ms"] / pgbench["pgbench_machine_cpu_ms"], 2
        )
    if "confirm_http_per_s" in confirm:
        confirm["confirm_ratio_vs_pgbench"] = round(confirm["confirm_http_per_s"] / pgbench_tps, 4)
    if "trivial_ninja_http_per_s" in confirm:
        confirm["trivial_ninja_ratio_vs_pgbench"] = round(
            confirm["trivial_ninja_http_per_s"] / pgbench_tps, 4
        )
    headline = [
        "confirm_http_per_s",
        "confirm_errors",
        "confirm_ratio_vs_pgbench",
        "confirm_db_roundtrips",
        "quote_p99_ms",
        "engine_share_of_confirm",
        "worker_rss_growth_mb_10k",
    ]
    for name in headline:
        print(f"{name}: {confirm.get(name, 'skipped (no wrk)')}")
    for name, value in confirm.items():
        if name not in headline:
            print(f"{name}: {value}")


if __name__ == "__main__":
    sys.exit(main())

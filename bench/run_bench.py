"""`make bench`: pgbench TPC-B, then the ledger benchmark, on one throwaway PostgreSQL server.

The server has default durability (fsync and synchronous_commit on), shared_buffers=256MB and
max_connections=50. Prints `name: value` lines; see bench/README.md for what they mean.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import pgcluster  # noqa: E402

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--duration", type=int, default=15)
    args = parser.parse_args(argv)

    pgcluster.handle_termination_signals()
    figures: dict = {}
    try:
        with pgcluster.temporary_cluster(TUNING) as cluster:
            env = {**os.environ, **cluster.env("pgbench")}
            run([cluster.tool("createdb"), "pgbench"], env)
            run([cluster.tool("pgbench"), "-i", "-q", "-s", str(args.scale)], env)
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
            if not match:
                raise SystemExit("could not find tps in pgbench output")
            figures["pgbench_tps"] = round(float(match.group(1)), 1)

            with tempfile.NamedTemporaryFile(suffix=".json") as result:
                run(
                    [
                        sys.executable,
                        str(ROOT / "bench" / "ledger_bench.py"),
                        "--workers",
                        str(args.clients),
                        "--duration",
                        str(args.duration),
                        "--json",
                        result.name,
                    ],
                    {**os.environ, **cluster.env("postgres")},
                    check=False,
                )
                try:
                    ledger = json.loads(Path(result.name).read_text())
                except ValueError:
                    raise SystemExit("the ledger benchmark wrote no figures") from None
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
    if ledger.get("ledger_errors") or ledger.get("ledger_invariant_breaches"):
        print("bench: the ledger benchmark saw errors or invariant breaches", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

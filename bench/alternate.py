"""Before and after, alternated: `confirm_bench.py` (and `ledger_bench.py`) of two checkouts of
Kopilka, taking turns in one throwaway PostgreSQL cluster with `make bench`'s settings.

    git worktree add /tmp/before <commit>; git worktree add /tmp/after <commit>
    python bench/alternate.py /tmp/before /tmp/after [--rounds 2] [--no-ledger]

Each checkout runs its own bench scripts on its own `PYTHONPATH`, so the two sides are measured
by the same method at the same time; the machine's drift shows as the spread between rounds.
Prints one line per run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "bench"))

import pgcluster  # noqa: E402
from run_bench import TUNING  # noqa: E402


def figures(output: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in output.splitlines() if ": " in line)


def run(checkout: Path, script: str, args: list[str], env: dict) -> dict[str, str]:
    env = {**env, "PYTHONPATH": str(checkout / "src")}
    done = subprocess.run(
        [sys.executable, str(checkout / "bench" / script), *args],
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        print(done.stderr[-2000:], file=sys.stderr)
    return figures(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkouts", nargs=2, type=Path)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-ledger", action="store_true")
    args = parser.parse_args()
    confirm = ["--duration", "12", "--warmup", "3", "--quote-duration", "1"]
    confirm += ["--rss-confirms", "100"]
    with pgcluster.temporary_cluster(TUNING) as cluster:
        env = {**os.environ, **cluster.env("postgres")}
        for round_ in range(args.rounds):
            for checkout in args.checkouts:
                c = run(checkout, "confirm_bench.py", confirm, env)
                line = (
                    f"round {round_ + 1} {checkout}: {c.get('confirm_http_per_s')} confirms/s, "
                    f"machine {c.get('confirm_machine_cpu_ms')} ms (app "
                    f"{c.get('confirm_app_cpu_ms')}, db {c.get('confirm_db_cpu_ms')}), "
                    f"{c.get('confirm_db_roundtrips')} round trips, "
                    f"{c.get('confirm_sql_statements')} statements"
                )
                if not args.no_ledger:
                    led = run(checkout, "ledger_bench.py", ["--duration", "8"], env)
                    line += (
                        f"; ledger {led.get('ledger_ops_per_s')} ops/s, "
                        f"{led.get('ledger_db_roundtrips_per_spend')} round trips per spend"
                    )
                print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

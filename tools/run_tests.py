"""`make test`: lint, then the test suite on SQLite, then on a throwaway PostgreSQL server.

    python tools/run_tests.py [--no-lint] [--only sqlite|postgresql] [-- PYTEST ARGS...]

Standard library only (it runs the tools of the interpreter that runs it: use .venv/bin/python).
Fails when lint fails, when either pytest run fails, when either run executed no tests, or when
no database test ran on PostgreSQL. The PostgreSQL cluster is removed at the end, also on
failure, Ctrl-C or SIGTERM. Each pytest run is stopped after KOPILKA_TEST_TIMEOUT seconds
(default 1200: each run takes about 5 minutes on a quiet 2-core machine, up to twice that
beside other work) so that a deadlocked test cannot hang CI.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import browser
import pgcluster

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / "tools"
LINT_PATHS = ["src", "tests", "tools", "bench"]
REPORT_PREFIX = "kopilka-report-"


def reap_stale_reports() -> None:
    """Remove report files of runs that were killed outright (their pid is in the name)."""
    for path in Path(tempfile.gettempdir()).glob(REPORT_PREFIX + "*-*.json"):
        pid = path.name[len(REPORT_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and not pgcluster.pid_alive(int(pid)):
            path.unlink(missing_ok=True)


@dataclass
class Step:
    name: str
    ok: bool
    detail: str = ""
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)


def banner(text: str) -> None:
    print(f"\n===== {text} =====", flush=True)


def run_lint(env: dict) -> list[Step]:
    steps = []
    for name, args in (
        ("ruff check", ["check", *LINT_PATHS]),
        ("ruff format --check", ["format", "--check", *LINT_PATHS]),
    ):
        banner(name)
        started = time.monotonic()
        rc = pgcluster.run_child([sys.executable, "-m", "ruff", *args], env=env, cwd=ROOT)
        steps.append(Step(name, rc == 0, f"exit {rc}", time.monotonic() - started))
    return steps


def run_pytest(backend: str, env: dict, pytest_args: list[str], timeout: float) -> Step:
    full_run = not pytest_args  # a run of chosen tests may rightly leave the browser out
    banner(f"pytest on {backend}")
    prefix = f"{REPORT_PREFIX}{os.getpid()}-"
    with tempfile.NamedTemporaryFile(prefix=prefix, suffix=".json") as report:
        env = {
            **env,
            "KOPILKA_BACKEND_REPORT": report.name,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(TOOLS), env.get("PYTHONPATH")])),
        }
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "-p",
            "pytest_backend_report",
            *pytest_args,
        ]
        started = time.monotonic()
        rc = pgcluster.run_child(cmd, env=env, cwd=ROOT, timeout=timeout)
        seconds = time.monotonic() - started
        try:
            figures = json.loads(Path(report.name).read_text() or "{}")
        except (OSError, ValueError):
            figures = {}

    vendor = figures.get("vendor", "?")
    tests = figures.get("tests", 0)
    db_tests = figures.get("database_tests", 0)
    problems = []
    if rc == 5:
        problems.append("no tests were collected")
    elif rc == 124:
        problems.append(f"timed out after {timeout:.0f}s")
    elif rc != 0:
        problems.append(f"pytest exited with {rc}")
    if not figures:
        problems.append("no report from the pytest_backend_report plugin")
    if vendor != backend:
        problems.append(f"ran against {vendor!r}, expected {backend!r}")
    if tests == 0 and rc != 5:
        problems.append("zero tests ran")
    if backend == "postgresql" and db_tests == 0:
        problems.append("zero database tests ran on PostgreSQL")
    browser_tests = figures.get("browser_tests", 0)
    if full_run and browser_tests == 0:
        problems.append("zero browser tests ran")
    detail = (
        f"{tests} tests, {db_tests} database tests, {browser_tests} browser tests, "
        f"{figures.get('skipped', 0)} skipped on {vendor}"
    )
    return Step(f"pytest on {backend}", not problems, detail, seconds, problems)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-lint", action="store_true")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("pytest_args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    pytest_args = args.pytest_args
    if pytest_args[:1] == ["--"]:
        pytest_args = pytest_args[1:]
    timeout = float(os.environ.get("KOPILKA_TEST_TIMEOUT", "1200"))

    pgcluster.handle_termination_signals()
    reap_stale_reports()
    base_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    steps: list[Step] = []
    try:
        if not args.no_lint:
            steps += run_lint(base_env)
        banner("browser for the browser tests")
        chromium = browser.ensure()
        print(f"chromium: {chromium or 'missing'}", flush=True)
        if chromium:
            base_env["KOPILKA_CHROMIUM"] = chromium
        if args.only in (None, "sqlite"):
            steps.append(run_pytest("sqlite", base_env, pytest_args, timeout))
        if args.only in (None, "postgresql"):
            banner("starting a throwaway PostgreSQL")
            try:
                with pgcluster.temporary_cluster(pgcluster.FAST_TUNING) as cluster:
                    env = {**base_env, "DATABASE_URL": cluster.url}
                    steps.append(run_pytest("postgresql", env, pytest_args, timeout))
            except pgcluster.ClusterError as exc:
                steps.append(Step("pytest on postgresql", False, "", 0, [str(exc)]))
    except KeyboardInterrupt:
        print("\ninterrupted (Ctrl-C): cleaned up", file=sys.stderr)
        return 130
    except pgcluster.Terminated as exc:
        print(f"\nterminated (signal {exc.signum}): cleaned up", file=sys.stderr)
        return 128 + exc.signum

    banner("summary")
    width = max(len(s.name) for s in steps)
    for s in steps:
        status = "ok" if s.ok else "FAILED"
        print(f"{s.name:<{width}}  {status:<6}  {s.detail}  ({s.seconds:.1f}s)")
        for problem in s.problems:
            print(f"{'':<{width}}    - {problem}")
    failed = [s.name for s in steps if not s.ok]
    print(f"\nmake test: {'FAILED: ' + ', '.join(failed) if failed else 'all passed'}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

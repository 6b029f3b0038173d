"""The cashier screen in a real browser on the demo data: from identifying a customer to the
receipt's quote on screen.

    python bench/cashier_bench.py [--rounds 20] [--customers 1000] [--json FILE]

Builds the demo merchant (`kopilka demo`, the data `make run` shows) in a temporary SQLite
database, serves it with gunicorn (2 sync workers, KOPILKA_DEBUG=0, static files by
whitenoise) on a free port, and drives the system Chromium (tools/browser.py) with Playwright:
sign in as the demo cashier at the first register, then one warm-up round and --rounds
measured ones, each with another demo customer: type the customer's phone in the customer
field, press Enter, wait for the customer card, type a product's SKU in the product field,
press Enter, and wait until the amount to pay is on screen; Esc clears the till for the next
round. The clock runs from the first Enter to the quote shown.

  cashier_identify_to_quote_ms      median of the measured rounds
  cashier_identify_to_quote_p90_ms  their 90th percentile

Prints `name: value` lines (the tools' chatter goes to stderr); --json also writes them to a
file. --screenshots DIR also saves the screen at 1280x800 with a receipt being rung up
(cashier-receipt.png) and after confirming it (cashier-result.png), in --locale.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import browser  # noqa: E402
import pgcluster  # noqa: E402

SECRET_KEY = "cashier-benchmark-only"
DEMO_USER, DEMO_PASSWORD = "cashier", "kopilka-demo"
SKU = "GR-002"  # coffee: sold in the demo's receipts, so the screen knows its price
# A receipt that shows the rules at work: a capped drink, bread that earns nothing.
SCREENSHOT_SKUS = ["GR-002", "ML-002", "DR-001", "BR-001"]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def kopilka(args: list[str], env: dict) -> None:
    cmd = [sys.executable, "-m", "kopilka.cli", *args]
    print("$ kopilka " + " ".join(args), file=sys.stderr, flush=True)
    subprocess.run(cmd, env=env, check=True, stdout=sys.stderr, cwd=ROOT)


@contextlib.contextmanager
def gunicorn(env: dict, workers: int = 2):
    """gunicorn serving kopilka.wsgi on a free port; yields the base URL."""
    port = pgcluster.free_port()
    cmd = [
        sys.executable,
        "-m",
        "gunicorn",
        "kopilka.wsgi:application",
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
    ]
    print("$ " + " ".join(cmd[2:]), file=sys.stderr, flush=True)
    proc = subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=sys.stderr, stderr=sys.stderr
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_serving(proc, f"{base}/cashier/login/")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _wait_serving(proc, url: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        with (
            contextlib.suppress(urllib.error.URLError, ConnectionError),
            urllib.request.urlopen(url, timeout=5) as response,
        ):
            if response.status == 200:
                return
        if time.monotonic() > deadline:
            raise RuntimeError("gunicorn is not serving after 60 s")
        time.sleep(0.2)


def one_round(page, phone: str) -> float:
    """Milliseconds from pressing Enter on the phone to the quote on screen."""
    page.fill("#identify", phone)
    started = time.perf_counter()
    page.press("#identify", "Enter")
    page.wait_for_selector(".customer-name")
    page.fill("#search", SKU)
    page.press("#search", "Enter")
    page.wait_for_selector("#total-to-pay")
    elapsed = (time.perf_counter() - started) * 1000
    page.keyboard.press("Escape")
    page.wait_for_selector(".customer-name", state="detached")
    page.wait_for_selector("#total-to-pay", state="detached")
    return elapsed


def screenshots(page, directory: Path) -> None:
    """The till with a customer who has bonuses and a receipt of four lines, then booked."""
    directory.mkdir(parents=True, exist_ok=True)
    for n in range(1, 200):
        page.fill("#identify", f"+7916{n:07d}")
        page.press("#identify", "Enter")
        page.wait_for_selector(".customer-name")
        if page.locator("#balance-available").inner_text().strip() not in ("0,00", "0.00"):
            break
    for sku in SCREENSHOT_SKUS:
        page.fill("#search", sku)
        page.press("#search", "Enter")
        page.wait_for_selector(f'tr[data-sku="{sku}"]')
    page.wait_for_selector("#total-to-pay")
    page.screenshot(path=directory / "cashier-receipt.png")
    page.keyboard.press("F9")
    page.wait_for_selector("#result-to-pay")
    page.screenshot(path=directory / "cashier-result.png")


def drive(base: str, rounds: int, locale: str, shots: Path | None) -> list[float]:
    from playwright.sync_api import sync_playwright

    path = browser.chromium_path()
    if path is None:
        raise RuntimeError("Chromium is missing: run `python tools/browser.py` as root")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=path, headless=True, args=CHROMIUM_ARGS
        )
        context = chromium.new_context(
            base_url=base, locale=locale, viewport={"width": 1280, "height": 800}
        )
        context.set_default_timeout(30_000)
        page = context.new_page()
        page.goto("/cashier/login/")
        page.fill("input[name=username]", DEMO_USER)
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("[type=submit]")
        # A till of the store that accepts bonuses (the kiosk does not).
        page.get_by_role("button", name="Касса 1").click()
        page.wait_for_selector("#identify")
        # Demo customers have the phones +7 916 000-00-00, +7 916 000-00-01, ...
        phones = [f"8 (916) 000-{n // 100:02d}-{n % 100:02d}" for n in range(1, rounds + 2)]
        one_round(page, phones[0])  # warm-up: first templates, first connections
        timings = [one_round(page, phone) for phone in phones[1:]]
        if shots is not None:
            screenshots(page, shots)
        chromium.close()
    return timings


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--customers", type=int, default=1000, help="demo customers")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--screenshots", type=Path, help="also save screenshots here")
    parser.add_argument("--locale", default="ru-RU", help="the browser's language")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="kopilka-cashier-bench-") as tmp:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3",
            "KOPILKA_VAR_DIR": tmp,
            "KOPILKA_DEBUG": "0",
            "KOPILKA_SECRET_KEY": SECRET_KEY,
            "KOPILKA_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SETTINGS_MODULE": "kopilka.settings",
        }
        (Path(tmp) / "static").mkdir()  # STATIC_ROOT: whitenoise warns when it is missing
        kopilka(["migrate", "--no-input", "-v", "0"], env)
        kopilka(["demo", "--customers", str(args.customers)], env)
        with gunicorn(env) as base:
            timings = drive(base, args.rounds, args.locale, args.screenshots)

    figures = {
        "cashier_identify_to_quote_ms": round(statistics.median(timings), 1),
        "cashier_identify_to_quote_p90_ms": round(percentile(timings, 0.9), 1),
        "cashier_rounds": len(timings),
    }
    print("# rounds (ms): " + " ".join(f"{t:.0f}" for t in timings), file=sys.stderr)
    for name, value in figures.items():
        print(f"{name}: {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

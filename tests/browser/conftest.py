"""Browser tests: Playwright drives the system Chromium against a live server.

Every test here carries the `browser` marker. The browser is Debian's chromium (or
KOPILKA_CHROMIUM); `make test` installs it when missing. Without it these tests fail, they
never skip, so a run cannot pass by leaving the pages untested.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django then refuses database calls
# "from an async context" although nothing here is async. The test thread stays synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import browser as browser_tool

PASSWORD = "browser-test-password"
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # the machine has no network but the registries
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items):
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    path = browser_tool.chromium_path()
    if path is None:
        pytest.fail("Chromium is missing: run `python tools/browser.py` as root (see its doc)")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=path, headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


@pytest.fixture
def page(chromium, live_server):
    context = chromium.new_context(
        base_url=live_server.url, locale="ru-RU", accept_downloads=True, viewport=None
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def make_staff(merchant, actor):
    """A staff user of the merchant with a role; the password is PASSWORD."""
    from kopilka.merchants import services as merchants

    def make(role: str, username: str | None = None, merchant=merchant):
        member = merchants.staff_create(
            merchant=merchant,
            username=username or f"{role}-{merchant.pk}",
            password=PASSWORD,
            role=role,
            actor=actor,
        )
        return member.user

    return make


def log_in(page, user, *, path: str = "/admin/login/") -> None:
    """Sign in through the real login form (the back office's or the cashier screen's)."""
    page.goto(path)
    page.fill("input[name=username]", user.get_username())
    page.fill("input[name=password]", PASSWORD)
    page.locator("[type=submit]").first.click()
    page.wait_for_load_state("networkidle")


def save_screenshot(page, name: str) -> None:
    """Keep a screenshot for the documentation when KOPILKA_SCREENSHOTS names a folder
    (e.g. docs/screenshots); a plain test run leaves the working tree alone."""
    folder = os.environ.get("KOPILKA_SCREENSHOTS")
    if folder:
        page.set_viewport_size({"width": 1280, "height": 800})
        page.screenshot(path=str(Path(folder) / name))

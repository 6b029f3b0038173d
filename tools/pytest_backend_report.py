"""pytest plugin: how many tests ran, and how many of them used the database, on which backend.

Load with `-p pytest_backend_report` (tools/ on PYTHONPATH). At the end it prints

    tests on postgresql: 120 (skipped: 3)
    database tests on postgresql: 57
    browser tests on postgresql: 9

A test "ran" when its setup and call were executed (passed or failed, or errored in setup);
skipped and deselected tests do not count. A test "used the database" when it requests `db`,
`transactional_db` or `django_db_setup` (directly or through other fixtures), carries the
`django_db` marker, or is a Django TestCase. If KOPILKA_BACKEND_REPORT names a file, the
figures are also written there as JSON for tools/run_tests.py.
"""

from __future__ import annotations

import json
import os

import pytest

DB_FIXTURES = {"db", "transactional_db", "django_db_setup", "django_db_reset_sequences"}


def _uses_database(item: pytest.Item) -> bool:
    if DB_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    if item.get_closest_marker("django_db") is not None:
        return True
    cls = getattr(item, "cls", None)
    if cls is not None:
        try:
            from django.test import TransactionTestCase
        except ImportError:
            return False
        return isinstance(cls, type) and issubclass(cls, TransactionTestCase)
    return False


MARK = "kopilka_uses_database"
BROWSER_MARK = "kopilka_browser"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # Tag the report itself (user_properties travel with it, also from xdist workers).
    outcome = yield
    report = outcome.get_result()
    if _uses_database(item):
        report.user_properties.append((MARK, True))
    if item.get_closest_marker("browser") is not None:
        report.user_properties.append((BROWSER_MARK, True))


class BackendReport:
    def __init__(self) -> None:
        self.ran: set[str] = set()
        self.db_ran: set[str] = set()
        self.browser_ran: set[str] = set()
        self.skipped: set[str] = set()

    def pytest_runtest_logreport(self, report) -> None:
        ran = (report.when == "call" and not report.skipped) or (
            report.when == "setup" and report.failed
        )
        if ran:
            self.ran.add(report.nodeid)
            if (MARK, True) in report.user_properties:
                self.db_ran.add(report.nodeid)
            if (BROWSER_MARK, True) in report.user_properties:
                self.browser_ran.add(report.nodeid)
        elif report.skipped and report.when in ("setup", "call"):
            self.skipped.add(report.nodeid)

    @staticmethod
    def vendor() -> str:
        try:
            from django.conf import settings

            if not settings.configured:
                return "no-django"
            from django.db import connection

            return connection.vendor
        except Exception as exc:  # a report must never break the run
            return f"unknown ({exc.__class__.__name__})"

    def figures(self) -> dict:
        return {
            "vendor": self.vendor(),
            "tests": len(self.ran),
            "database_tests": len(self.db_ran),
            "browser_tests": len(self.browser_ran),
            "skipped": len(self.skipped - self.ran),
        }

    def pytest_terminal_summary(self, terminalreporter) -> None:
        f = self.figures()
        terminalreporter.write_line(
            f"tests on {f['vendor']}: {f['tests']} (skipped: {f['skipped']})"
        )
        terminalreporter.write_line(f"database tests on {f['vendor']}: {f['database_tests']}")
        terminalreporter.write_line(f"browser tests on {f['vendor']}: {f['browser_tests']}")

    def pytest_sessionfinish(self, session, exitstatus) -> None:
        path = os.environ.get("KOPILKA_BACKEND_REPORT")
        if path:
            with open(path, "w") as fh:
                json.dump({**self.figures(), "exitstatus": int(exitstatus)}, fh)


def pytest_configure(config) -> None:
    if not hasattr(config, "workerinput"):  # under xdist only the controller reports
        config.pluginmanager.register(BackendReport(), "kopilka-backend-report")

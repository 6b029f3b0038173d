"""`kopilka demo [--if-absent] [--receipts N]`: build the demo merchant and print how to log
in; `--receipts N` adds a bulk purchase history of N receipts (see kopilka.demo_history)."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from kopilka import demo, demo_history
from kopilka.customers import stats as customer_stats
from kopilka.reports import rollups


class Command(BaseCommand):
    help = "Create the demo merchant (stores, registers, staff, catalogue, customers, history)."

    def add_arguments(self, parser):
        parser.add_argument("--if-absent", action="store_true", help="Do nothing if it exists.")
        parser.add_argument("--customers", type=int, default=1000)
        parser.add_argument("--months", type=int, default=4)
        parser.add_argument(
            "--receipts", type=int, default=0, help="Add a bulk history of N receipts."
        )
        parser.add_argument("--days", type=int, default=365, help="Spread them over N days.")

    def handle(
        self, *args, if_absent=False, customers=1000, months=4, receipts=0, days=365, **options
    ):
        existing = demo.demo_find()
        if existing is not None and not if_absent:
            raise CommandError("The demo merchant already exists; use --if-absent.")
        if existing is None:
            self.stdout.write(f"Building demo data: {customers} customers, {months} months…")
            info = demo.demo_build(customers_count=customers, months=months)
            rollups.refresh(merchant=info.merchant)  # the reports show the history at once
        else:
            info = demo.demo_describe(existing)
        if receipts > 0:
            self._history(info.merchant, receipts, days)
        self.stdout.write(self.style.SUCCESS(f"Demo merchant: {info.merchant.name}"))
        self.stdout.write("  Back office:  http://127.0.0.1:8000/admin/")
        self.stdout.write("  Reports:      http://127.0.0.1:8000/admin/reports/")
        self.stdout.write("  Cashier:      http://127.0.0.1:8000/cashier/")
        self.stdout.write("  POS API:      http://127.0.0.1:8000/api/v1/docs")
        self.stdout.write("  Logins (username / password):")
        for role, username, password in info.logins:
            self.stdout.write(f"    {role:9} {username} / {password}")
        self.stdout.write("  Register API keys (Authorization: Bearer <key>):")
        for register, key in info.keys:
            self.stdout.write(f"    {register}: {key}")

    def _history(self, merchant, receipts: int, days: int) -> None:
        started, now = time.monotonic(), timezone.now()
        self.stdout.write(f"Adding a history of {receipts} receipts over {days} days…")
        made = demo_history.add_history(
            merchant=merchant,
            count=receipts,
            now=now,
            days=days,
            progress=lambda n: self.stdout.write(f"  {n} receipts", ending="\r"),
        )
        customer_stats.rebuild(merchant=merchant, now=now)
        rollups.refresh(now=now, merchant=merchant)
        self.stdout.write(
            f"  {made.receipts} receipts, {made.lines} lines, {made.accruals} accruals "
            f"in {time.monotonic() - started:.1f}s (customer figures and report rollups rebuilt)"
        )

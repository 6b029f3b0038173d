"""`kopilka demo [--if-absent] [--receipts N]`: build the demo merchant and print how to log
in; `--receipts N` gives it a longer purchase history of N more receipts, booked through the
till's services like the rest of its history (see kopilka.demo_history)."""

import time

from django.core.management.base import BaseCommand, CommandError

from kopilka import demo


class Command(BaseCommand):
    help = "Create the demo merchant (stores, registers, staff, catalogue, customers, history)."

    def add_arguments(self, parser):
        parser.add_argument("--if-absent", action="store_true", help="Do nothing if it exists.")
        parser.add_argument("--customers", type=int, default=1000)
        parser.add_argument("--months", type=int, default=4)
        parser.add_argument(
            "--receipts",
            type=int,
            default=0,
            help="Add N more purchases to the history (only when the demo is built).",
        )
        parser.add_argument("--days", type=int, default=365, help="Spread them over N days.")

    def handle(
        self, *args, if_absent=False, customers=1000, months=4, receipts=0, days=365, **options
    ):
        existing = demo.demo_find()
        if existing is not None and not if_absent:
            raise CommandError("The demo merchant already exists; use --if-absent.")
        if existing is not None and receipts > 0:
            # Its job has run up to now: purchases booked behind it would spend points the
            # job already wrote off, and no face could agree on such a history.
            raise CommandError(
                "--receipts builds a new demo's history; the demo merchant already exists "
                "(start from an empty database)."
            )
        if existing is None:
            started = time.monotonic()
            self.stdout.write(
                f"Building demo data: {customers} customers, {months} months"
                + (f", {receipts} more receipts over {days} days" if receipts else "")
                + "…"
            )
            info = demo.demo_build(
                customers_count=customers,
                months=months,
                receipts=receipts,
                days=days,
                progress=lambda n: self.stdout.write(f"  {n} receipts", ending="\r"),
            )
            self.stdout.write(f"  built in {time.monotonic() - started:.1f}s")
        else:
            info = demo.demo_describe(existing)
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

"""`kopilka demo [--if-absent]`: build the demo merchant and print how to log in."""

from django.core.management.base import BaseCommand, CommandError

from kopilka import demo


class Command(BaseCommand):
    help = "Create the demo merchant (stores, registers, staff, catalogue, customers, history)."

    def add_arguments(self, parser):
        parser.add_argument("--if-absent", action="store_true", help="Do nothing if it exists.")
        parser.add_argument("--customers", type=int, default=1000)
        parser.add_argument("--months", type=int, default=4)

    def handle(self, *args, if_absent=False, customers=1000, months=4, **options):
        existing = demo.demo_find()
        if existing is not None and not if_absent:
            raise CommandError("The demo merchant already exists; use --if-absent.")
        if existing is None:
            self.stdout.write(f"Building demo data: {customers} customers, {months} months…")
            info = demo.demo_build(customers_count=customers, months=months)
        else:
            info = demo.demo_describe(existing)
        self.stdout.write(self.style.SUCCESS(f"Demo merchant: {info.merchant.name}"))
        self.stdout.write("  Back office:  http://127.0.0.1:8000/admin/")
        self.stdout.write("  POS API:      http://127.0.0.1:8000/api/v1/docs")
        self.stdout.write("  Logins (username / password):")
        for role, username, password in info.logins:
            self.stdout.write(f"    {role:9} {username} / {password}")
        self.stdout.write("  Register API keys (Authorization: Bearer <key>):")
        for register, key in info.keys:
            self.stdout.write(f"    {register}: {key}")

"""`kopilka customer-figures`: bring the customer list's figures up to date (customers.stats)."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from kopilka.customers import stats
from kopilka.merchants.models import Merchant


class Command(BaseCommand):
    help = (
        "Refresh the customers' balance snapshots changed since the last run; with --rebuild, "
        "recompute every figure (visits, total spent, last purchase, balance) from receipts "
        "and lots."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true", help="recompute everything")

    def handle(self, *args, rebuild=False, **options):
        now = timezone.now()
        if rebuild:
            for merchant in Merchant.objects.order_by("pk"):
                done = stats.rebuild(merchant=merchant, now=now)
                self.stdout.write(f"{merchant}: {done} customers rebuilt")
            return
        self.stdout.write(f"{stats.refresh_balances(now=now)} balances refreshed")

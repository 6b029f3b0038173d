"""`kopilka verify-ledger`: check every ledger invariant; exit 1 on any breach."""

import sys

from django.core.management.base import BaseCommand

from kopilka.ledger.verify import verify_ledger


class Command(BaseCommand):
    help = "Check every ledger invariant for every account; exit non-zero on any breach."

    def handle(self, *args, **options):
        breaches = verify_ledger()
        for breach in breaches:
            self.stderr.write(str(breach))
        if breaches:
            self.stderr.write(f"{len(breaches)} breach(es) found")
            sys.exit(1)
        self.stdout.write("ledger ok: every invariant holds")

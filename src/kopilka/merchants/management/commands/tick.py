"""`kopilka tick [--now ISO] [--expiring-within-days 7]`: periodic maintenance (cron, timer).

Materialises expiries, releases timed-out holds (voiding their held receipts), emits
"bonuses expiring soon" outbox events and grants birthday bonuses. Idempotent, safe to run
twice or in parallel, resumable after a crash. See `kopilka.tick` and docs/operations.md.
"""

from datetime import UTC

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from kopilka import tick
from kopilka.ledger import jobs


class Command(BaseCommand):
    help = (
        "Write off expired bonuses, release timed-out holds, emit 'bonuses expiring soon' "
        "events, grant birthday bonuses. Idempotent; safe to run twice or in parallel."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--now",
            help="the moment to run as, ISO 8601 (default: the current time; naive = UTC)",
        )
        parser.add_argument(
            "--expiring-within-days",
            type=int,
            default=7,
            help="announce bonuses that expire within this many days (default 7)",
        )
        parser.add_argument(
            "--batch-size", type=int, default=jobs.BATCH_LOTS, help="lots per transaction"
        )

    def handle(self, *args, now=None, expiring_within_days=7, batch_size=jobs.BATCH_LOTS, **opts):
        if now:
            moment = parse_datetime(now)
            if moment is None:
                raise CommandError(f"--now: not an ISO 8601 date and time: {now!r}")
            if timezone.is_naive(moment):
                moment = moment.replace(tzinfo=UTC)
        else:
            moment = timezone.now()
        if expiring_within_days < 0 or batch_size < 1:
            raise CommandError("--expiring-within-days must be >= 0 and --batch-size >= 1")
        tick.run(
            now=moment,
            expiring_within_days=expiring_within_days,
            batch_size=batch_size,
            say=self.stdout.write,
        )

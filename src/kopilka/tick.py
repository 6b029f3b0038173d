"""`kopilka tick`: the periodic maintenance job, step by step (see docs/operations.md).

1. expiries: write off lots past their expiry (releasing timed-out holds on them first);
2. holds: release holds past their timeout and void their held receipts;
3. outbox: "bonuses expiring in N days" events, one per account and day, deduplicated;
4. levels: level changes since the last run recorded (`programs.level_changes`);
5. birthdays: birthday bonuses due today (or within the campaign's days around), once a year;
6. customer balances: the balance snapshot of the back-office customer list, for customers
   whose points changed outside sales and refunds (`customers.stats`);
7. rollups: the daily figures the reports read, rebuilt for the days that changed;
8. reminders: the "bonuses expiring" events of step 3 sent to customers who agreed to
   messages, for merchants who switched reminders on (`sales.reminders`);
9. limit counters: the safe operations' day counters of past days removed
   (`limits.services.sweep_usage`).

Each step works in short batched transactions and is idempotent, so the job may run twice,
in parallel with itself, or again after a crash: it finishes what is left. Correctness never
depends on it; it writes down what balances already account for by time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from kopilka.customers import stats as customer_stats
from kopilka.ledger import jobs
from kopilka.limits.services import sweep_usage
from kopilka.programs.birthdays import grant_birthday_bonuses
from kopilka.programs.level_changes import record_level_changes
from kopilka.reports import rollups
from kopilka.sales.reminders import deliver_expiry_reminders


def run(
    *,
    now: datetime,
    expiring_within_days: int = 7,
    batch_size: int = jobs.BATCH_LOTS,
    say: Callable[[str], None] = print,
) -> dict:
    """Run the steps at `now`; report one line per step through `say`."""
    started = time.monotonic()
    expiries = jobs.expire_lots(now=now, batch_size=batch_size)
    say(
        f"expiries: {expiries.lots} lots written off, {expiries.amount} points, "
        f"{expiries.holds} holds released, {expiries.batches} batches, "
        f"{time.monotonic() - started:.2f}s"
    )
    started = time.monotonic()
    holds = jobs.expire_holds(now=now)
    say(
        f"holds: {holds.holds} released, {holds.receipts} held receipts voided, "
        f"{holds.batches} batches, {time.monotonic() - started:.2f}s"
    )
    started = time.monotonic()
    outbox = jobs.emit_expiring_soon(
        now=now, within_days=expiring_within_days, batch_size=batch_size
    )
    say(
        f"outbox: {outbox.events} new expiring-within-{expiring_within_days}-days events, "
        f"{outbox.batches} batches, {time.monotonic() - started:.2f}s"
    )
    started = time.monotonic()
    levels = record_level_changes(now=now)
    say(f"levels: {levels} changes recorded, {time.monotonic() - started:.2f}s")
    started = time.monotonic()
    birthdays = grant_birthday_bonuses(now=now)
    say(f"birthdays: {birthdays} bonuses granted, {time.monotonic() - started:.2f}s")
    started = time.monotonic()
    balances = customer_stats.refresh_balances(now=now)
    say(f"customer balances: {balances} refreshed, {time.monotonic() - started:.2f}s")
    started = time.monotonic()
    figures = rollups.refresh(now=now)
    say(
        f"rollups: {figures.days} days rebuilt for {figures.merchants} merchants, "
        f"{time.monotonic() - started:.2f}s"
    )
    started = time.monotonic()
    reminders = deliver_expiry_reminders(now=now)
    say(
        f"reminders: {reminders.sent} sent, {reminders.skipped} not for sending, "
        f"{reminders.failed} failed (tried again next run), {time.monotonic() - started:.2f}s"
    )
    started = time.monotonic()
    counters = sweep_usage(now=now)
    say(f"limit counters: {counters} of past days removed, {time.monotonic() - started:.2f}s")
    return {
        "limit_counters": counters,
        "expiries": expiries,
        "holds": holds,
        "outbox": outbox,
        "levels": levels,
        "birthdays": birthdays,
        "balances": balances,
        "rollups": figures,
        "reminders": reminders,
    }

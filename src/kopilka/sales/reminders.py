"""Reminders to customers that their bonuses expire soon: the sender of the `bonuses_expiring`
outbox events that `kopilka tick` writes (ledger.jobs.emit_expiring_soon). It hands each one
to the notification backend, for merchants who switched reminders on and customers who agreed
to messages, then marks it sent with what became of it. A later step of `kopilka tick`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils import formats, translation
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from kopilka.customers.models import Customer
from kopilka.ledger.jobs import EXPIRING_SOON
from kopilka.ledger.models import Lot
from kopilka.merchants.models import OutboxEvent

from . import notifications

logger = logging.getLogger(__name__)

BATCH = 50
MAX_ATTEMPTS = 3


class Delivery:
    """What became of an event, kept in its payload under "delivery"."""

    SENT = "sent"
    OFF = "reminders_off"  # the merchant has not switched reminders on
    NO_CONSENT = "no_consent"  # not active, anonymised, or no consent to messages
    NO_CONTACT = "no_contact"
    NOTHING_LEFT = "nothing_left"  # spent or expired meanwhile
    LATE = "late"  # the points have expired already
    UNSUPPORTED = "unsupported"  # the backend carries codes only
    FAILED = "failed"  # MAX_ATTEMPTS tries, none delivered


@dataclass
class RemindersResult:
    sent: int = 0
    skipped: int = 0
    failed: int = 0  # attempts that failed this run (retried next run until MAX_ATTEMPTS)


def deliver_expiry_reminders(*, now: datetime, batch_size: int = BATCH) -> RemindersResult:
    """Deliver every unsent `bonuses_expiring` event. Events are taken in batches under row
    locks that a parallel run skips, so two runs never send one reminder twice."""
    backend = notifications.backend()
    result = RemindersResult()
    after = 0
    while True:
        with transaction.atomic():
            events = list(
                OutboxEvent.objects.select_for_update(skip_locked=True)
                .filter(kind=EXPIRING_SOON, sent_at__isnull=True, pk__gt=after)
                .select_related("merchant")
                .order_by("pk")[:batch_size]
            )
            if not events:
                return result
            after = events[-1].pk
            customers = Customer.objects.in_bulk(
                [event.customer_id for event in events if event.customer_id]
            )
            for event in events:
                outcome = _deliver(backend, event, customers.get(event.customer_id), now)
                attempts = event.payload.get("attempts", 0)
                if outcome is None:  # the gateway failed: try again next run, a few times
                    result.failed += 1
                    attempts += 1
                    outcome = Delivery.FAILED if attempts >= MAX_ATTEMPTS else None
                elif outcome == Delivery.SENT:
                    result.sent += 1
                else:
                    result.skipped += 1
                event.payload = {**event.payload, "attempts": attempts}
                if outcome is not None:
                    event.payload["delivery"] = outcome
                    event.sent_at = now
                event.save(update_fields=["payload", "sent_at"])


def _deliver(backend, event: OutboxEvent, customer: Customer | None, now: datetime) -> str | None:
    """Send one reminder; the Delivery it came to, or None when the backend failed."""
    merchant = event.merchant
    if not merchant.expiry_reminders:
        return Delivery.OFF
    day = date.fromisoformat(event.payload["expires_on"])
    if _day_start(day) + timedelta(days=1) <= now:
        return Delivery.LATE
    if (
        customer is None
        or customer.status != Customer.Status.ACTIVE
        or customer.anonymised_at is not None
        or not customer.marketing_consent
    ):
        return Delivery.NO_CONSENT
    if customer.phone:
        channel = notifications.Channel.SMS
    elif customer.email:
        channel = notifications.Channel.EMAIL
    else:
        return Delivery.NO_CONTACT
    left = _still_expiring(event.payload["account_id"], day, now)
    if left <= 0:
        return Delivery.NOTHING_LEFT
    send = getattr(backend, "send_message", None)
    if send is None:
        return Delivery.UNSUPPORTED
    customer.merchant = merchant
    with translation.override(merchant.language):
        text = reminder_text(merchant, left, day)
    try:
        send(customer, channel, text, notifications.Kind.BONUSES_EXPIRING)
    except Exception:
        logger.exception("could not send an expiry reminder to customer %s", customer.pk)
        return None
    return Delivery.SENT


def _still_expiring(account_id: int, day: date, now: datetime) -> int:
    """What is left now on the account's lots that expire on `day` (UTC, as the event's)."""
    start = _day_start(day)
    lots = Lot.objects.filter(
        account_id=account_id,
        remaining__gt=0,
        expires_at__gt=max(now, start),
        expires_at__lt=start + timedelta(days=1),
    )
    return lots.aggregate(left=Sum("remaining"))["left"] or 0


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def reminder_text(merchant, amount: int, day: date) -> str:
    """The reminder in the language active now (the caller picks the merchant's)."""
    return str(
        format_lazy(
            _("{merchant}: {amount} of your bonuses expire on {day}. Spend them before then."),
            merchant=merchant.name,
            amount=formats.number_format(Decimal(amount) / 100, 2, force_grouping=True),
            day=formats.date_format(day, "SHORT_DATE_FORMAT"),
        )
    )

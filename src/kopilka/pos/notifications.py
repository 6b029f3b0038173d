"""Delivery of one-time codes to customers, behind a tiny pluggable interface.

A backend is any class with `send_code(customer, channel, code)`; the one in use is named by
the setting KOPILKA_NOTIFICATION_BACKEND (a dotted path). The default, LogBackend, is for
development and tests: it writes the message to the log and keeps the latest messages in the
in-memory `outbox`, where tests read the codes. Production sets an SMS / e-mail gateway.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

DEFAULT_BACKEND = "kopilka.pos.notifications.LogBackend"
OUTBOX_SIZE = 100


class Channel:
    SMS = "sms"
    EMAIL = "email"


class Backend(Protocol):
    def send_code(self, customer, channel: str, code: str) -> None: ...


@dataclass(frozen=True)
class Message:
    customer_id: int
    channel: str
    to: str
    text: str
    code: str
    sent_at: datetime = field(default_factory=timezone.now)


# The latest messages of LogBackend, oldest first (this process only).
outbox: list[Message] = []


def code_message(customer, code: str) -> str:
    """The text of a code message, in the language active now (the merchant's)."""
    return str(
        format_lazy(
            _("{merchant}: your confirmation code is {code}."),
            merchant=customer.merchant.name,
            code=code,
        )
    )


def address(customer, channel: str) -> str:
    return customer.phone if channel == Channel.SMS else customer.email


class LogBackend:
    """Development backend: logs the message and keeps it in `outbox`. Sends nothing."""

    def send_code(self, customer, channel: str, code: str) -> None:
        message = Message(
            customer_id=customer.pk,
            channel=channel,
            to=address(customer, channel),
            text=code_message(customer, code),
            code=code,
        )
        outbox.append(message)
        del outbox[:-OUTBOX_SIZE]
        logger.info("%s to customer %s: %s", channel, customer.pk, message.text)


def backend() -> Backend:
    return import_string(getattr(settings, "KOPILKA_NOTIFICATION_BACKEND", DEFAULT_BACKEND))()


def send_code(customer, channel: str, code: str) -> None:
    """Hand the code to the configured backend. A failing gateway is logged, not raised: the
    code is already stored, and the cashier can ask for it to be sent again."""
    try:
        backend().send_code(customer, channel, code)
    except Exception:
        logger.exception("could not send a %s code to customer %s", channel, customer.pk)

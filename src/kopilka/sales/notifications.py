"""Delivery of one-time codes to customers, behind a tiny pluggable interface.

A backend is any class with `send_code(customer, channel, code)` and, to carry other messages
to customers (reminders of expiring bonuses, sales.reminders), `send_message(customer, channel,
text, kind)`; the one in use is named by the setting KOPILKA_NOTIFICATION_BACKEND (a dotted
path). The default, LogBackend, is for
development and tests: it writes the message to the log and keeps the latest messages in the
in-memory `outbox`, where tests read the codes. Production uses WebhookBackend (any SMS or
e-mail gateway behind an HTTP endpoint) or EmailBackend; a system check warns when a server
without debug would only log the codes. Backends that talk to another server (`in_background`)
send from a small pool of threads, so a slow gateway never holds up the till's answer.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.request
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_all
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from django.conf import settings
from django.core.mail import send_mail
from django.db import connections
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

DEFAULT_BACKEND = "kopilka.sales.notifications.LogBackend"
OUTBOX_SIZE = 100


class Channel:
    SMS = "sms"
    EMAIL = "email"


class Kind:
    """What a message is about; gateways get it with the text."""

    CONFIRMATION_CODE = "confirmation_code"
    BONUSES_EXPIRING = "bonuses_expiring"


class Backend(Protocol):
    # True for a backend that waits on another server: it then sends in the background.
    in_background: bool

    def send_code(self, customer, channel: str, code: str) -> None: ...

    def send_message(self, customer, channel: str, text: str, kind: str) -> None: ...


@dataclass(frozen=True)
class Message:
    customer_id: int
    channel: str
    to: str
    text: str
    code: str  # "" for messages other than codes
    kind: str = Kind.CONFIRMATION_CODE
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

    in_background = False

    def send_code(self, customer, channel: str, code: str) -> None:
        self._keep(customer, channel, code_message(customer, code), Kind.CONFIRMATION_CODE, code)

    def send_message(self, customer, channel: str, text: str, kind: str) -> None:
        self._keep(customer, channel, text, kind, "")

    def _keep(self, customer, channel: str, text: str, kind: str, code: str) -> None:
        message = Message(
            customer_id=customer.pk,
            channel=channel,
            to=address(customer, channel),
            text=text,
            code=code,
            kind=kind,
        )
        outbox.append(message)
        del outbox[:-OUTBOX_SIZE]
        logger.info("%s to customer %s: %s", channel, customer.pk, message.text)


class Undeliverable(Exception):
    """The backend cannot reach this customer on this channel."""


class EmailBackend:
    """Codes by e-mail through Django's mail settings (KOPILKA_EMAIL_*). It reaches customers
    who registered with an e-mail address; a code for a phone cannot go this way and is
    refused (send_code logs it)."""

    in_background = True

    def send_code(self, customer, channel: str, code: str) -> None:
        self.send_message(customer, channel, code_message(customer, code), Kind.CONFIRMATION_CODE)

    def send_message(self, customer, channel: str, text: str, kind: str) -> None:
        to = address(customer, channel)
        if channel != Channel.EMAIL or not to:
            raise Undeliverable(f"EmailBackend cannot send a {channel} message")
        send_mail(subject=text, message=text, from_email=None, recipient_list=[to])


class WebhookBackend:
    """Messages handed to the operator's SMS / e-mail gateway: a JSON POST
    {"channel", "to", "text", "kind", "customer_id", "merchant_id"} to
    KOPILKA_NOTIFICATION_WEBHOOK_URL, with `Authorization: Bearer <token>` when
    KOPILKA_NOTIFICATION_WEBHOOK_TOKEN is set. Any 2xx answer counts as delivered; anything
    else, or no answer within KOPILKA_NOTIFICATION_WEBHOOK_TIMEOUT seconds, raises (send_code
    logs it; the cashier can ask for the code again). The text is in the merchant's language."""

    in_background = True

    def send_code(self, customer, channel: str, code: str) -> None:
        self.send_message(customer, channel, code_message(customer, code), Kind.CONFIRMATION_CODE)

    def send_message(self, customer, channel: str, text: str, kind: str) -> None:
        url = settings.KOPILKA_NOTIFICATION_WEBHOOK_URL
        if not url.startswith(("https://", "http://")):
            raise Undeliverable("KOPILKA_NOTIFICATION_WEBHOOK_URL is not an http(s) URL")
        body = {
            "channel": channel,
            "to": address(customer, channel),
            "text": text,
            "kind": kind,
            "customer_id": customer.pk,
            "merchant_id": customer.merchant_id,
        }
        headers = {"Content-Type": "application/json"}
        if settings.KOPILKA_NOTIFICATION_WEBHOOK_TOKEN:
            headers["Authorization"] = f"Bearer {settings.KOPILKA_NOTIFICATION_WEBHOOK_TOKEN}"
        request = urllib.request.Request(
            url, data=json.dumps(body).encode(), headers=headers, method="POST"
        )
        timeout = settings.KOPILKA_NOTIFICATION_WEBHOOK_TIMEOUT
        # Answers outside 2xx raise HTTPError; redirects are not followed (a code is not sent
        # on to wherever a gateway points).
        with _NO_REDIRECTS.open(request, timeout=timeout) as response:
            if not 200 <= response.status < 300:
                raise Undeliverable(f"the gateway answered {response.status}")


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_NO_REDIRECTS = urllib.request.build_opener(_RefuseRedirects)


def backend_path() -> str:
    """The dotted path of the backend in use (KOPILKA_NOTIFICATION_BACKEND)."""
    path = getattr(settings, "KOPILKA_NOTIFICATION_BACKEND", DEFAULT_BACKEND)
    # Servers set up before this module moved from the POS API's app name it there.
    return path.replace("kopilka.pos.notifications.", "kopilka.sales.notifications.", 1)


def backend() -> Backend:
    return import_string(backend_path())()


def send_code(customer, channel: str, code: str) -> None:
    """Hand the code to the configured backend: at once, or in the background for one that
    waits on another server. A failing gateway is logged, not raised: the code is already
    stored, and the cashier can ask for it to be sent again."""
    chosen = backend()
    if not getattr(chosen, "in_background", False):
        _deliver(chosen, customer, channel, code)
        return
    # The text names the merchant in the merchant's language: load the one and remember the
    # other here, so the delivery thread neither queries the database nor speaks another tongue.
    customer.merchant  # noqa: B018
    language = translation.get_language()
    future = _pool().submit(_deliver_in_background, chosen, customer, channel, code, language)
    with _lock:
        _pending.add(future)
    future.add_done_callback(_forget)


def wait_for_deliveries(timeout: float | None = None) -> None:
    """Block until every code handed to background delivery so far has been dealt with (sent
    or logged as failed). For tests; a worker that exits also waits for them."""
    with _lock:
        pending = list(_pending)
    wait_all(pending, timeout=timeout)


def _deliver(chosen: Backend, customer, channel: str, code: str) -> None:
    try:
        chosen.send_code(customer, channel, code)
    except Exception:
        logger.exception("could not send a %s code to customer %s", channel, customer.pk)


def _deliver_in_background(chosen: Backend, customer, channel, code, language) -> None:
    try:
        with translation.override(language):
            _deliver(chosen, customer, channel, code)
    finally:
        connections.close_all()  # this thread's own, should a backend have opened one


# Made on first use, that is after a server forks its workers, never before. Its threads are
# joined when the process exits, so a worker shutting down still sends the codes it holds.
_executor: ThreadPoolExecutor | None = None
_pending: set[Future] = set()
_lock = threading.Lock()
DELIVERY_THREADS = 2


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(DELIVERY_THREADS, thread_name_prefix="kopilka-codes")
        return _executor


def _forget(future: Future) -> None:
    with _lock:
        _pending.discard(future)

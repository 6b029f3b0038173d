"""Fixed-window rate limits, counted in the database: the POS API's, the cashier screen's
and staff sign-in's.

Counters live in RateCounter rows, one per (bucket key, window), bumped by a single upsert
statement, so several worker processes (gunicorn) share one count and two concurrent
requests can never both read "59" and both pass. Limits are (requests, window seconds) by
scope, overridable with the setting KOPILKA_RATE_LIMITS; a limit of None switches a scope
off. Exceeding a limit raises RateLimited (429); the POS API's error mapping (`pos.problems`)
turns it into a problem document carrying a Retry-After header.
"""

from __future__ import annotations

import math
import secrets
from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kopilka.errors import KopilkaError

from . import sql
from .models import RateCounter

DEFAULT_LIMITS: dict[str, tuple[int, int] | None] = {
    # per register: every look-up of a customer (identify, quote and confirm by phone, e-mail
    # or card, registration's check for an existing customer, the cashier screen's search);
    # `sales.resolve.count_lookup`
    "identify": (120, 60),
    # per looked-up phone, e-mail, card number or typed query, whichever register asks
    "identify_value": (30, 60),
    "register": (20, 60),
    "code": (10, 60),  # code checks and resends together
    # per customer
    "code_send": (5, 3600),
    "code_attempt": (10, 3600),
    # per e-mail address: staff password reset letters (backoffice.password_reset)
    "password_reset": (3, 3600),
    # failed staff sign-ins (merchants.sign_in), per user name and per client address
    "sign_in": (10, 900),
    "sign_in_address": (50, 900),
    # wrong register API keys, per client address (pos.auth)
    "api_key_address": (20, 900),
}
# When a new window starts, sweep windows that ended, with this probability (1 in N; 0 = never,
# which the test suite uses so that what a test counts cannot vanish at random).
SWEEP_ONE_IN = 100


class RateLimited(KopilkaError):
    code = "rate_limited"
    status = 429
    default_message = _("Too many requests. Try again later.")

    def __init__(self, *, scope: str, retry_after: int):
        super().__init__(scope=scope, retry_after=retry_after)
        self.retry_after = retry_after


def limit_of(scope: str) -> tuple[int, int] | None:
    configured = getattr(settings, "KOPILKA_RATE_LIMITS", None) or {}
    if scope in configured:
        return configured[scope]
    return DEFAULT_LIMITS[scope]


def hit(scope: str, subject: str, *, now: datetime | None = None) -> int:
    """Count one request of `subject` (e.g. "register:7") in `scope`; raise RateLimited when
    this request is over the limit. Returns the count in the current window."""
    limit = limit_of(scope)
    if limit is None:
        return 0
    allowed, period = limit
    now = now or timezone.now()
    seconds = int(now.timestamp())
    window_start = seconds - seconds % period
    window_end = window_start + period
    count = sql.bump(f"{scope}:{subject}", window_start, window_end)
    if count == 1 and SWEEP_ONE_IN and secrets.randbelow(SWEEP_ONE_IN) == 0:
        sweep(now=now)
    if count > allowed:
        retry_after = max(1, math.ceil(window_end - now.timestamp()))
        raise RateLimited(scope=scope, retry_after=retry_after)
    return count


def hit_all(hits: list[tuple[str, str]], *, now: datetime | None = None) -> None:
    """`hit` for several (scope, subject) at once, in one statement; raises RateLimited for
    the first one over its limit (every one is counted all the same)."""
    now = now or timezone.now()
    seconds = int(now.timestamp())
    limited = [(scope, subject, limit_of(scope)) for scope, subject in hits]
    limited = [(scope, subject, limit) for scope, subject, limit in limited if limit is not None]
    if not limited:
        return
    keys, starts, ends = [], [], []
    for scope, subject, (_allowed, period) in limited:
        keys.append(f"{scope}:{subject}")
        starts.append(seconds - seconds % period)
        ends.append(starts[-1] + period)
    counts = sql.bump_all(keys, starts, ends)
    for (scope, _subject, (allowed, _period)), key, end in zip(limited, keys, ends, strict=True):
        if counts[key] > allowed:
            raise RateLimited(scope=scope, retry_after=max(1, math.ceil(end - now.timestamp())))


def refusing(scope: str, subject: str, *, now: datetime | None = None) -> int | None:
    """Seconds until `subject` may try again when its count in the current window has reached
    the limit already, else None. Counts nothing: for checks made before the attempt, whose
    failure alone is counted (with `hit`)."""
    limit = limit_of(scope)
    if limit is None:
        return None
    allowed, period = limit
    now = now or timezone.now()
    seconds = int(now.timestamp())
    window_start = seconds - seconds % period
    count = (
        RateCounter.objects.filter(key=f"{scope}:{subject}", window_start=window_start)
        .values_list("count", flat=True)
        .first()
    )
    if count is None or count < allowed:
        return None
    return max(1, math.ceil(window_start + period - now.timestamp()))


def sweep(*, now: datetime | None = None) -> int:
    """Delete the counters of windows that have ended; returns how many."""
    now = now or timezone.now()
    deleted, _ = RateCounter.objects.filter(window_end__lte=int(now.timestamp())).delete()
    return deleted

"""Staff sign-in that resists password guessing: failed attempts are counted per user name and
per client address (the database-counted rate limits), and past the limit a sign-in is refused,
right password or not, until the window ends. Used by the back office's and the till's forms.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import ngettext

from kopilka.limits import ratelimit

logger = logging.getLogger(__name__)


def client_address(request) -> str:
    """The address the request came from. Behind a TLS proxy (KOPILKA_TLS_PROXY) that is the
    last hop the proxy appended to X-Forwarded-For: anything before it the client could write."""
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded.strip():
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


def _buckets(request, username: str) -> list[tuple[str, str]]:
    # A digest keeps user names out of the counters' table and within its key length.
    name = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    buckets = [("sign_in", name)]
    if request is not None:
        buckets.append(("sign_in_address", client_address(request)))
    return buckets


class ThrottledSignIn:
    """Mixed into an AuthenticationForm: refuses while the user name or the address has failed
    too often lately, and counts each failure."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        buckets = _buckets(self.request, username)
        waits = [ratelimit.refusing(scope, subject) for scope, subject in buckets]
        waits = [wait for wait in waits if wait is not None]
        if waits:
            minutes = math.ceil(max(waits) / 60)
            logger.warning("sign-in refused after too many failures: %r", username)
            raise forms.ValidationError(
                ngettext(
                    "Too many failed sign-in attempts. Try again in %(minutes)d minute.",
                    "Too many failed sign-in attempts. Try again in %(minutes)d minutes.",
                    minutes,
                )
                % {"minutes": minutes},
                code="throttled",
            )
        try:
            return super().clean()
        except forms.ValidationError:
            for scope, subject in buckets:
                # Reaching the limit with this failure refuses the next attempt, not this one.
                with contextlib.suppress(ratelimit.RateLimited):
                    ratelimit.hit(scope, subject)
            raise


class StaffSignInForm(ThrottledSignIn, AdminAuthenticationForm):
    """The back office's sign-in."""


class TillSignInForm(ThrottledSignIn, AuthenticationForm):
    """The cashier screen's sign-in."""

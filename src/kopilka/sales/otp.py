"""One-time codes that confirm a customer registered at a till: issue, send, check.

A code is 6 digits, valid for CODE_TTL, and allows MAX_ATTEMPTS wrong guesses. Only a keyed
hash is stored (HMAC-SHA256 under SECRET_KEY with a per-code salt), compared in constant time.
Each customer has at most one live code per purpose: issuing a new one replaces the old one.
The code leaves through kopilka.sales.notifications once the transaction has committed.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from kopilka.customers.models import Customer
from kopilka.errors import Conflict, KopilkaError, ValidationFailed

from . import notifications
from .models import OneTimeCode

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=10)
MAX_ATTEMPTS = 5
_HMAC_SALT = "kopilka.pos.otp"  # where codes were first made: changing it voids live codes


class InvalidCode(ValidationFailed):
    code = "invalid_code"
    default_message = _("The code is wrong.")

    def __init__(self, *, attempts_left: int):
        super().__init__(attempts_left=attempts_left)


class CodeExpired(Conflict):
    code = "code_expired"
    default_message = _(
        "The code has expired or was entered wrongly too many times. Ask for a new code."
    )


def channel_for(customer: Customer) -> str:
    return notifications.Channel.SMS if customer.phone else notifications.Channel.EMAIL


def _digest(salt: str, code: str) -> str:
    return salted_hmac(_HMAC_SALT, f"{salt}:{code}", algorithm="sha256").hexdigest()


def generate_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


@transaction.atomic
def code_issue(
    *, customer: Customer, now: datetime, purpose: str = OneTimeCode.Purpose.CONFIRM
) -> OneTimeCode:
    """Make a new code for the customer (the previous one stops working) and send it after
    commit. Returns the stored row; the plain code exists only in the message."""
    code = generate_code()
    salt = secrets.token_hex(16)
    channel = channel_for(customer)
    row, _created = OneTimeCode.objects.update_or_create(
        customer=customer,
        purpose=purpose,
        defaults={
            "merchant_id": customer.merchant_id,
            "channel": channel,
            "salt": salt,
            "code_hash": _digest(salt, code),
            "attempts_left": MAX_ATTEMPTS,
            "expires_at": now + CODE_TTL,
            "created_at": now,
        },
    )
    transaction.on_commit(lambda: notifications.send_code(customer, channel, code))
    return row


def code_consume(
    *,
    customer: Customer,
    code: str,
    now: datetime,
    purpose: str = OneTimeCode.Purpose.CONFIRM,
) -> KopilkaError | None:
    """Use up the customer's code if `code` is it: returns None, and the code is gone.

    Otherwise returns the error for the caller to raise AFTER its transaction has committed:
    a wrong guess costs an attempt, and raising inside the transaction would undo that.
    InvalidCode while attempts remain; CodeExpired when the code expired, ran out of
    attempts, or there is none.
    """
    with transaction.atomic():
        row = (
            OneTimeCode.objects.select_for_update()
            .filter(merchant_id=customer.merchant_id, customer=customer, purpose=purpose)
            .first()
        )
        if row is None or row.expires_at <= now or row.attempts_left <= 0:
            return CodeExpired()
        given = "".join((code or "").split())
        if hmac.compare_digest(row.code_hash, _digest(row.salt, given)):
            row.delete()
            return None
        OneTimeCode.objects.filter(pk=row.pk).update(attempts_left=F("attempts_left") - 1)
        return InvalidCode(attempts_left=row.attempts_left - 1)

"""Find the customer a till refers to: by id, card number, phone (any spelling) or e-mail; and
count each look-up, so that no way of asking is a side door for finding out who is a customer
(`count_lookup`)."""

from __future__ import annotations

import hashlib
import re

from django.utils.translation import gettext_lazy as _

from kopilka.customers.exceptions import (
    CardNotAssigned,
    CustomerNotFound,
    InvalidEmail,
    InvalidPhone,
)
from kopilka.customers.models import Card, Customer
from kopilka.customers.normalize import normalize_email, normalize_phone
from kopilka.customers.selectors import card_get_by_number, customer_get
from kopilka.errors import Conflict, ValidationFailed
from kopilka.limits import ratelimit


def _value_key(kind: str, value: str) -> str:
    """The counter of one looked-up value: a digest (no phone or e-mail in the counters'
    table). A phone counts by its last ten digits, so its spellings ("8 916…", "+7 916…")
    share one counter; anything else by its text, case aside."""
    value = value.strip().lower()
    if kind == "phone":
        value = re.sub(r"\D", "", value)[-10:] or value
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()[:32]


def count_lookup(register_id: int, **given) -> None:
    """Count one look-up of a customer from this register, and one for each phone, e-mail,
    card number, code word or free query it names (whichever register asks). Every way a
    till finds a customer calls this first: identify, quote and confirm by contact or card,
    registration (which answers whether the phone is taken), the cashier screen's search and
    scans. Raises
    `RateLimited` past either limit (`limits.ratelimit`: "identify", "identify_value")."""
    hits = [("identify", f"register:{register_id}")]
    for kind in ("query", "card", "phone", "email", "code_word"):
        value = given.get(kind)
        if value:
            hits.append(("identify_value", _value_key(kind, str(value))))
    ratelimit.hit_all(hits)


def names_contact(reference) -> bool:
    """Whether a receipt's customer reference names a card, phone or e-mail (an id is a
    look-up of nobody new)."""
    return reference is not None and bool(reference.card or reference.phone or reference.email)


class CardBlocked(Conflict):
    code = "card_blocked"
    default_message = _("The card is blocked.")


class CustomerBlocked(Conflict):
    code = "customer_blocked"
    default_message = _("The customer is blocked.")


class ReferenceRequired(ValidationFailed):
    code = "customer_reference_required"
    default_message = _("Give exactly one of: customer id, card number, phone, e-mail.")


def customer_from_reference(
    *, merchant, id=None, card=None, phone=None, email=None, allow_blocked=False
) -> Customer:
    """The merchant's customer named by exactly one reference; refuses blocked ones unless
    asked (identify shows them, so a cashier can see why a card fails)."""
    return customer_and_card_from_reference(
        merchant=merchant, id=id, card=card, phone=phone, email=email, allow_blocked=allow_blocked
    )[0]


def customer_and_card_from_reference(
    *, merchant, id=None, card=None, phone=None, email=None, allow_blocked=False
) -> tuple[Customer, Card | None]:
    """As customer_from_reference, with the card when the reference was a card number (its
    type decides the program: programs.selectors.program_of_customer)."""
    found = None
    given = [
        (k, v) for k, v in (("id", id), ("card", card), ("phone", phone), ("email", email)) if v
    ]
    if len(given) != 1:
        raise ReferenceRequired()
    kind, value = given[0]
    if kind == "id":
        customer = customer_get(merchant=merchant, pk=value)
    elif kind == "card":
        found = card_get_by_number(merchant=merchant, number=str(value))
        if found.customer is None:
            # A catalogue card not given to anyone yet: the till registers the customer with it.
            raise CardNotAssigned(card=found.number)
        if found.status != Card.Status.ACTIVE and not allow_blocked:
            raise CardBlocked(card=found.number)
        customer = found.customer
    elif kind == "phone":
        customer = Customer.objects.filter(
            merchant=merchant, phone=normalize_phone(str(value), merchant.phone_region)
        ).first()
    else:
        customer = Customer.objects.filter(
            merchant=merchant, email=normalize_email(str(value))
        ).first()
    if customer is None:
        raise CustomerNotFound(**{kind: str(value)})
    if customer.status == Customer.Status.BLOCKED and not allow_blocked:
        raise CustomerBlocked(customer=customer.pk)
    return customer, found


__all__ = [
    "InvalidEmail",
    "InvalidPhone",
    "customer_and_card_from_reference",
    "customer_from_reference",
]

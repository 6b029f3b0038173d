"""Reads of customers and cards, always within one merchant."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from django.db import connections

from kopilka.merchants.models import Merchant

from . import sql
from .cards import normalize_card_number
from .exceptions import CardNotFound, CustomerNotFound, InvalidEmail, InvalidPhone
from .models import PHONE_TAIL, Card, Customer
from .normalize import name_search_key, normalize_email, normalize_phone


@dataclass(frozen=True)
class CustomerMatch:
    """One search hit and what it matched. For a card hit, `card.status` says whether the
    card is active or blocked, which the cashier must see before accepting it."""

    customer: Customer
    matched_by: str  # "card" | "phone" | "email" | "phone_suffix" | "name"
    card: Card | None = None


def customer_get(*, merchant: Merchant, pk) -> Customer:
    # Another merchant's id is reported exactly like a missing one, so ids reveal nothing.
    try:
        customer_id = int(pk)
    except (TypeError, ValueError) as exc:
        raise CustomerNotFound(customer_id=str(pk)) from exc
    if not -(2**63) <= customer_id < 2**63:  # no id is that large; SQLite would refuse it
        raise CustomerNotFound(customer_id=str(pk))
    customer = sql.customer_by_id(customer_id)
    if customer is None or customer.merchant_id != merchant.pk:
        raise CustomerNotFound(customer_id=str(pk))
    return customer


def card_get_by_number(*, merchant: Merchant, number: str) -> Card:
    """The merchant's card with this number, in any status (the caller decides what a blocked
    or lost card means for it)."""
    number = normalize_card_number(number)
    try:
        return Card.objects.select_related("customer", "card_type__program").get(
            merchant=merchant, number=number
        )
    except Card.DoesNotExist as exc:
        raise CardNotFound(number=number) from exc


def customer_find(*, merchant: Merchant, query: str, limit: int = 20) -> list[CustomerMatch]:
    """Customers matching what a cashier typed or scanned, strongest evidence first.

    The query is tried as a card number (exact; active or blocked cards, not replaced ones),
    a phone in any spelling, an e-mail, the last 4 or more digits of a phone (when nothing
    matched exactly), and words of the name (each word must appear in the last, first or
    middle name, in any case).
    """
    query = (query or "").strip()
    if not query:
        return []
    matches: list[CustomerMatch] = []
    seen: set[int] = set()

    def add(customer: Customer, matched_by: str, card: Card | None = None) -> None:
        if customer.pk not in seen and len(matches) < limit:
            seen.add(customer.pk)
            matches.append(CustomerMatch(customer, matched_by, card))

    customers = Customer.objects.filter(merchant=merchant)

    number = normalize_card_number(query)
    if number:
        cards = Card.objects.select_related("customer").filter(
            merchant=merchant,
            number=number,
            customer__isnull=False,
            status__in=(Card.Status.ACTIVE, Card.Status.BLOCKED),
        )
        for card in cards:
            add(card.customer, "card", card)

    if any(ch.isdigit() for ch in query):
        try:
            phone = normalize_phone(query, merchant.phone_region)
        except InvalidPhone:
            pass
        else:
            for customer in customers.filter(phone=phone):
                add(customer, "phone")

    if "@" in query:
        try:
            email = normalize_email(query)
        except InvalidEmail:
            pass
        else:
            for customer in customers.filter(email=email):
                add(customer, "email")

    if not matches:
        for customer in customers_by_phone_suffix(merchant=merchant, query=query, limit=limit):
            add(customer, "phone_suffix")

    words = name_search_key(query).split()
    if words and any(ch.isalpha() for ch in query) and "@" not in query:
        by_name = customers.filter(anonymised_at__isnull=True)
        for word in words:
            by_name = by_name.filter(name_search__contains=word)
        for customer in by_name.order_by("name_search", "pk")[:limit]:
            add(customer, "name")
    return matches


# Digits with the separators people type between them: "4567", "45-67", "123 45 67".
_DIGITS_TYPED = re.compile(r"[\d\s().-]+")


def customers_by_phone_suffix(*, merchant: Merchant, query: str, limit: int = 20) -> list[Customer]:
    """Customers whose phone ends with the digits typed (at least PHONE_TAIL of them), oldest
    first. Read through customer_phone_tail_idx: the rows sharing the last 4 digits, then the
    longer suffix among them."""
    query = (query or "").strip()
    if not _DIGITS_TYPED.fullmatch(query):
        return []
    digits = re.sub(r"\D", "", query)
    if len(digits) < PHONE_TAIL:
        return []
    found = Customer.objects.filter(merchant=merchant, phone_tail=digits[-PHONE_TAIL:])
    if len(digits) > PHONE_TAIL:
        found = found.filter(phone__endswith=digits)
    return list(found.order_by("pk")[:limit])


@dataclass(frozen=True)
class Count:
    """How many rows a list holds: exact up to a bound, past it at least the bound and, where
    the database can say, its planner's estimate (None when it cannot)."""

    exact: int | None
    at_least: int = 0
    estimate: int | None = None


def count_bounded(queryset, *, exact_up_to: int) -> Count:
    """Count the rows of `queryset` reading at most `exact_up_to` + 1 of them (a COUNT over a
    LIMIT subquery), so a million matching customers cost what ten thousand do. Past the
    bound, PostgreSQL's planner estimates the whole figure from its statistics (EXPLAIN, no
    rows read)."""
    unordered = queryset.order_by()
    counted = unordered[: exact_up_to + 1].count()
    if counted <= exact_up_to:
        return Count(exact=counted)
    estimate = None
    if connections[queryset.db].vendor == "postgresql":
        plan = json.loads(unordered.explain(format="json"))
        estimate = int(plan[0]["Plan"]["Plan Rows"])
    return Count(
        exact=None,
        at_least=exact_up_to,
        estimate=estimate if estimate is not None and estimate > exact_up_to else None,
    )

"""The customer desk shared by every till face (the POS API and the cashier screen): find a
customer, register one at the till, edit their details, confirm with a one-time code, and mask
personal data.

Every lookup is scoped by the merchant; another merchant's customer is "not found". Rate
limits per register stay with the callers (they know the register), the per-customer code
limits are applied here.
"""

from __future__ import annotations

import datetime

import phonenumbers
from django.db import transaction
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kopilka.customers.card_types import card_type_for_number, card_type_get
from kopilka.customers.cards import normalize_card_number
from kopilka.customers.exceptions import CardTypeNotFound, CustomerNotFound, CustomerStatusConflict
from kopilka.customers.models import Card, CardType, Customer
from kopilka.customers.selectors import card_get_by_number, customer_find, customer_get
from kopilka.customers.services import (
    card_issue,
    customer_confirm,
    customer_register,
    customer_update,
)
from kopilka.errors import Conflict, ValidationFailed
from kopilka.ledger import services as ledger_services
from kopilka.ledger.selectors import account_balance, accounts_of_customer
from kopilka.limits import ratelimit
from kopilka.merchants.actors import Actor
from kopilka.programs.selectors import program_for_receipts, program_of_customer
from kopilka.programs.services import customer_enrol

from . import otp
from .exceptions import DetailsRequired
from .notifications import Channel, address
from .resolve import customer_from_reference

# A free query matching more customers than this is reported as "at least this many".
MATCH_LIMIT = 20


class IdentifyReferenceRequired(ValidationFailed):
    code = "customer_reference_required"
    default_message = _(
        "Give exactly one of: search query, customer id, card number, phone, e-mail, code word."
    )


class UnknownCardType(ValidationFailed):
    code = "unknown_card_type"
    default_message = _("There is no such card type: choose one of the merchant's card types.")


class CardTypeNeedsCard(ValidationFailed):
    code = "card_type_needs_card"
    default_message = _("A card type needs a card: give the card number or ask for a virtual card.")


class AmbiguousCustomer(Conflict):
    code = "ambiguous_customer"
    default_message = _("Several customers match; ask for the phone or the card.")

    def __init__(self, *, count: int):
        super().__init__(count=count)


# --- masking ---------------------------------------------------------------------------------


def mask_name(customer: Customer) -> str:
    """First name and the initial of the last name: "Иван И."."""
    parts = [customer.first_name.strip()] if customer.first_name.strip() else []
    if customer.last_name.strip():
        parts.append(customer.last_name.strip()[0].upper() + ".")
    return " ".join(parts)


def mask_phone(phone: str) -> str | None:
    """International format with the middle digits hidden: "+7 916 ***-**-67"."""
    if not phone:
        return None
    try:
        number = phonenumbers.parse(phone)
    except phonenumbers.NumberParseException:
        return "***"
    prefix = f"+{number.country_code}"
    rest = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    rest = rest.removeprefix(prefix)
    total = sum(ch.isdigit() for ch in rest)
    keep_head, keep_tail = min(3, total // 3), 2
    out, seen = [], 0
    for ch in rest:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen <= keep_head or seen > total - keep_tail else "*")
        else:
            out.append(ch)
    return prefix + "".join(out)


def mask_email(email: str) -> str | None:
    """The first letter of the mailbox and the domain: "i***@example.com"."""
    if not email:
        return None
    local, _at, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_card_number(number: str) -> str:
    visible = min(4, len(number) // 2)
    return "*" * (len(number) - visible) + number[len(number) - visible :]


def mask_address(customer: Customer, channel: str) -> str:
    value = address(customer, channel)
    return (mask_phone(value) if channel == Channel.SMS else mask_email(value)) or ""


# --- reads -----------------------------------------------------------------------------------


def balances(customer: Customer, now: datetime.datetime) -> list[dict]:
    """The customer's balance in each of their programs."""
    found = []
    for account in accounts_of_customer(customer).select_related("program").order_by("program_id"):
        balance = account_balance(account, now=now)
        found.append(
            {
                "program_id": account.program_id,
                "program": account.program.name,
                "available": balance.available,
                "pending": balance.pending,
                "held": balance.held,
            }
        )
    return found


def customer_summary(customer: Customer, *, card: Card | None = None, now=None) -> dict:
    """What a till may show about a customer: personal data masked, balances in full."""
    return {
        "id": customer.pk,
        "name": mask_name(customer),
        "phone": mask_phone(customer.phone),
        "email": mask_email(customer.email),
        "status": customer.status,
        "card": (
            {"number": mask_card_number(card.number), "kind": card.kind, "status": card.status}
            if card is not None
            else None
        ),
        "balances": balances(customer, now or timezone.now()),
    }


def _one(found: list):
    if not found:
        raise CustomerNotFound()
    if len(found) > 1:
        raise AmbiguousCustomer(count=len(found))
    return found[0]


def _by_query(merchant, query: str) -> tuple[Customer, Card | None]:
    """A cashier's free text: a card, phone or e-mail hit (else the last digits of a phone)
    wins over name hits."""
    matches = customer_find(merchant=merchant, query=query, limit=MATCH_LIMIT)
    exact = [m for m in matches if m.matched_by != "name"]
    match = _one(exact or matches)
    return match.customer, match.card


def _by_code_word(merchant, word: str) -> Customer:
    """Exact match, ignoring case, among the merchant's customers."""
    customers = Customer.objects.filter(merchant=merchant, anonymised_at__isnull=True).exclude(
        code_word=""
    )
    if word.isascii():
        found = list(customers.filter(code_word__iexact=word).order_by("pk")[: MATCH_LIMIT + 1])
    else:
        # SQLite (and PostgreSQL under the C locale) fold the case of ASCII letters only, so
        # other scripts are compared here, among the code words of the same length.
        folded = word.casefold()
        same_length = customers.annotate(length=Length("code_word")).filter(length=len(word))
        found = [
            c for c in same_length.order_by("pk").iterator() if c.code_word.casefold() == folded
        ]
    return _one(found)


def customer_identify(merchant, **given) -> tuple[Customer, Card | None]:
    """The customer named by exactly one of: a free `query` (card, phone, e-mail or name as
    typed or scanned), `code_word`, or an exact `id`, `card`, `phone` or `email`. Blocked
    customers are found too: the cashier must see why a card fails."""
    given = {
        name: value.strip() if isinstance(value, str) else value
        for name, value in given.items()
        if value is not None
    }
    given = {name: value for name, value in given.items() if value != ""}
    if len(given) != 1:
        raise IdentifyReferenceRequired()
    [(kind, value)] = given.items()
    if kind == "query":
        return _by_query(merchant, value)
    if kind == "code_word":
        return _by_code_word(merchant, value), None
    customer = customer_from_reference(merchant=merchant, allow_blocked=True, **{kind: value})
    card = card_get_by_number(merchant=merchant, number=value) if kind == "card" else None
    return customer, card


def customer_identify_typed(merchant, text: str) -> tuple[Customer, Card | None]:
    """What a cashier typed in the one search field: a card, phone, e-mail or name, and,
    when none of those matches, a code word."""
    try:
        return customer_identify(merchant, query=text)
    except CustomerNotFound:
        try:
            return customer_identify(merchant, code_word=text)
        except CustomerNotFound:
            raise CustomerNotFound() from None


def details_asked(program) -> list[str]:
    """The details of a new customer the program asks for (its `require_name`,
    `require_birthday`): "first_name", "birthday"; none without an enabled program."""
    if program is None or not program.enabled:
        return []
    asked = [("first_name", program.require_name), ("birthday", program.require_birthday)]
    return [name for name, required in asked if required]


def details_missing(program, *, first_name: str | None, birthday) -> list[str]:
    """The details the program asks for (`details_asked`) that a registration lacks."""
    given = {"first_name": bool((first_name or "").strip()), "birthday": birthday is not None}
    return [name for name in details_asked(program) if not given[name]]


# --- writes ----------------------------------------------------------------------------------


@transaction.atomic
def customer_register_at_till(
    *,
    merchant,
    actor: Actor,
    now,
    phone: str | None = None,
    email: str | None = None,
    first_name: str = "",
    last_name: str = "",
    code_word: str = "",
    birthday: datetime.date | None = None,
    card_number: str | None = None,
    card_secret: str | None = None,
    virtual_card: bool = False,
    marketing_consent: bool = False,
    card_type_id: int | None = None,
):
    """Customer, cards, program account and (when the program asks for it) a one-time code,
    all or nothing. Returns (customer, [(card, generated secret or None)], code row or None).

    `card_type_id` (the merchant's) is the type of every card issued here; without it a
    plastic card takes the type of its printed series, if any. The customer's program is the
    one of that type (else the default program): it decides the confirmation, the account
    and the welcome bonus. With confirmation required, the welcome bonus waits for the
    confirmation: an unconfirmed contact must not be worth points.
    """
    card_type = _card_type_to_issue(merchant, card_type_id, card_number, virtual_card)
    typed = card_type or (_type_of_plastic(merchant, card_number) if card_number else None)
    # The program the cards put the customer in (programs.selectors.program_of_customer).
    program = typed.program if typed is not None else program_for_receipts(merchant=merchant)
    if program is not None and not program.enabled:
        program = None  # a disabled program welcomes nobody
    needs_code = bool(program and program.require_confirmation)
    missing = details_missing(program, first_name=first_name, birthday=birthday)
    if missing:
        raise DetailsRequired(fields=missing)
    customer = customer_register(
        merchant=merchant,
        actor=actor,
        phone=phone or None,
        email=email or None,
        first_name=first_name or "",
        last_name=last_name or "",
        code_word=code_word or "",
        birthday=birthday,
        marketing_consent=marketing_consent,
        status=Customer.Status.PENDING if needs_code else Customer.Status.ACTIVE,
    )
    cards = []
    if card_number:
        cards.append(
            card_issue(
                customer=customer,
                kind=Card.Kind.PLASTIC,
                number=card_number,
                secret=card_secret,
                actor=actor,
                card_type=card_type,
            )
        )
    if virtual_card:
        cards.append(
            card_issue(customer=customer, kind=Card.Kind.VIRTUAL, actor=actor, card_type=card_type)
        )
    code = None
    if program is not None:
        if needs_code:
            ledger_services.account_open(customer=customer, program=program, actor=actor)
        else:
            customer_enrol(customer=customer, program=program, actor=actor, now=now)
    if needs_code:
        ratelimit.hit("code_send", f"customer:{customer.pk}", now=now)
        code = otp.code_issue(customer=customer, now=now)
    return customer, cards, code


def _type_of_plastic(merchant, number: str) -> CardType | None:
    """The type a plastic card will have: the one it was entered into the catalogue with,
    else its printed series'."""
    stock = (
        Card.objects.filter(merchant=merchant, number=normalize_card_number(number), customer=None)
        .select_related("card_type__program")
        .first()
    )
    if stock is not None and stock.card_type is not None:
        return stock.card_type
    return card_type_for_number(merchant=merchant, number=number)


def _card_type_to_issue(
    merchant, card_type_id, card_number: str | None, virtual_card: bool
) -> CardType | None:
    if card_type_id is None:
        return None
    if not card_number and not virtual_card:
        raise CardTypeNeedsCard(field="card_type_id")
    try:
        return card_type_get(merchant=merchant, pk=card_type_id)
    except CardTypeNotFound:
        # Another merchant's type reads exactly like a missing one; a bad field of the
        # request, not a missing resource.
        raise UnknownCardType(field="card_type_id", card_type_id=card_type_id) from None


def customer_confirm_with_code(*, customer: Customer, code: str, actor: Actor, now) -> Customer:
    """Check the one-time code; the customer becomes active and gets the welcome bonus.
    Confirming an active customer again is answered like the first time (till retries)."""
    if customer.status == Customer.Status.ACTIVE:
        return customer
    if customer.status != Customer.Status.PENDING:
        raise CustomerStatusConflict(_("A blocked customer cannot be confirmed."))
    ratelimit.hit("code_attempt", f"customer:{customer.pk}")
    with transaction.atomic():
        failure = otp.code_consume(customer=customer, code=code, now=now)
        if failure is None:
            customer = customer_confirm(customer=customer, actor=actor)
            program = program_of_customer(customer=customer, merchant=customer.merchant)
            if program is not None and program.enabled:
                customer_enrol(customer=customer, program=program, actor=actor, now=now)
    if failure is not None:
        # The code is gone because another till has just confirmed the customer with it?
        customer.refresh_from_db(fields=["status"])
        if not isinstance(failure, otp.CodeExpired) or customer.status != Customer.Status.ACTIVE:
            raise failure
    return customer


def confirmation_code_resend(*, customer: Customer, now):
    """Send a new one-time code; the previous one stops working. Returns the code's row."""
    if customer.status != Customer.Status.PENDING:
        raise CustomerStatusConflict(_("The customer is not awaiting confirmation."))
    ratelimit.hit("code_send", f"customer:{customer.pk}", now=now)
    return otp.code_issue(customer=customer, now=now)


# What a till may change about a customer: the profile without the back office's notes.
TILL_EDITABLE_FIELDS = (
    "first_name",
    "last_name",
    "middle_name",
    "phone",
    "email",
    "birthday",
    "gender",
    "code_word",
    "marketing_consent",
)


def customer_edit_at_till(*, merchant, customer_id: int, actor: Actor, **fields) -> Customer:
    """Change the details of the merchant's customer (any of TILL_EDITABLE_FIELDS; None
    clears a field). Another merchant's customer is "not found"; a contact that another
    customer has, or that is not valid, is refused and nothing changes."""
    unknown = set(fields) - set(TILL_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"customer_edit_at_till() got unexpected fields: {sorted(unknown)}")
    customer = customer_get(merchant=merchant, pk=customer_id)
    return customer_update(customer=customer, actor=actor, **fields)

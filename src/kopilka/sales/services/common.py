"""The steps a quote, a sale and a refund share: when a receipt happened, the program and
campaigns that apply, what the engine needs about the customer, the bounds across fields."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, Sum
from django.utils import timezone

from kopilka import bounds, rules
from kopilka.customers.exceptions import CustomerNotFound
from kopilka.customers.models import Customer
from kopilka.programs.models import Program
from kopilka.programs.selectors import (
    campaigns_for,
    program_for_receipts,
    program_of_customer,
    to_rules,
)
from kopilka.programs.standing import LevelInputs, customer_level_inputs
from kopilka.rules.engine import InvalidCart

from ..exceptions import (
    InvalidReceipt,
    OccurredInFuture,
    ReceiptAboveMaximum,
    ReceiptTooOld,
)
from ..models import Receipt
from ..resolve import count_lookup, customer_and_card_from_reference, names_contact

NO_PROGRAM = rules.ProgramConfig(id=0, enabled=False)


# A till's clock may run a little behind ours; older than this, the receipt is "offline".
CLOCK_SKEW = timedelta(minutes=5)


def _offline_window() -> timedelta:
    return timedelta(hours=settings.KOPILKA_OFFLINE_WINDOW_HOURS)


def moment_of(occurred_at: datetime | None, now: datetime) -> tuple[datetime, bool]:
    """The receipt's moment and whether it was sent after the fact."""
    if occurred_at is None:
        return now, False
    if timezone.is_naive(occurred_at):
        occurred_at = timezone.make_aware(occurred_at, timezone.get_current_timezone())
    if occurred_at > now + CLOCK_SKEW:
        raise OccurredInFuture(occurred_at=occurred_at.isoformat())
    if occurred_at < now - _offline_window():
        raise ReceiptTooOld(occurred_at=occurred_at.isoformat())
    return occurred_at, occurred_at < now - CLOCK_SKEW


def _purchase_total(customer: Customer) -> int:
    """Earlier purchases, refunds deducted (accumulative discounts step on it)."""
    totals = Receipt.objects.filter(
        merchant_id=customer.merchant_id, customer=customer, status=Receipt.Status.CONFIRMED
    ).aggregate(
        sales=Sum("subtotal", filter=Q(kind=Receipt.Kind.SALE), default=0),
        refunds=Sum("subtotal", filter=Q(kind=Receipt.Kind.REFUND), default=0),
    )
    return totals["sales"] - totals["refunds"]


def program_config(merchant, program, customer) -> rules.ProgramConfig:
    """The program as engine input, with the campaigns running for this customer."""
    config = to_rules(program) if program else NO_PROGRAM
    campaigns = campaigns_for(merchant=merchant, program=program, customer=customer)
    return replace(config, campaigns=campaigns) if campaigns else config


def customer_state(customer, program, config, now, balance) -> rules.CustomerState | None:
    """What the engine needs about the customer (`balance`: of their account, if any)."""
    if customer is None:
        return None
    available = balance.available if balance is not None else 0
    levels = (
        customer_level_inputs(customer=customer, program=program, now=now)
        if program is not None and config.levels
        else LevelInputs()
    )
    purchase_total = _purchase_total(customer) if program and config.discount_by_purchases else 0
    return rules.CustomerState(
        available=available,
        purchase_total=purchase_total,
        can_spend=customer.status == Customer.Status.ACTIVE,
        group_ids=levels.group_ids,
        activity=levels.activity,
        manual_level_id=levels.manual_level_id,
    )


def engine_quote(config, state, cart, occurred_at) -> rules.Outcome:
    try:
        return rules.quote(config, state, cart, now=occurred_at)
    except InvalidCart as error:
        raise InvalidReceipt(problem=str(error)) from error


def within_bounds(data) -> None:
    """Refuse a receipt above the documented maxima (`kopilka.bounds`), also for callers
    that did not go through the API's schemas."""
    violation = bounds.receipt_violation(data.lines, data.spend)
    if violation is not None:
        raise ReceiptAboveMaximum.of(violation)


def requested_spend(data) -> int | None:
    return None if data.spend == "max" else data.spend


def customer_and_program(merchant, data, when) -> tuple[Customer | None, Program | None]:
    """The receipt's customer and the program the receipt is booked in, as at `when` (the
    moment of the purchase: the default program is the one in its period then).

    A known customer is in the program of their card type (the type of the very card
    scanned, when the till sent a card number): `program_of_customer`. An anonymous receipt,
    or an online buyer not registered yet (customer None; enrolled by confirm), is in the
    merchant's default program.
    """
    if data.customer is not None:
        try:
            customer, card = customer_and_card_from_reference(
                merchant=merchant, **data.customer.model_dump()
            )
        except CustomerNotFound:
            program = program_for_receipts(merchant=merchant, now=when)
            if not _auto_enrols(data, program):
                raise
            return None, program
        return customer, program_of_customer(
            customer=customer, merchant=merchant, card=card, now=when
        )
    return None, program_for_receipts(merchant=merchant, now=when)


def _auto_enrols(data, program: Program | None) -> bool:
    ref = data.customer
    return bool(
        data.channel == Receipt.Channel.ONLINE
        and program is not None
        and program.auto_enrol_online
        and ref is not None
        and (ref.phone or ref.email)
        and not (ref.id or ref.card)
    )


def count_customer_lookup(register, data) -> None:
    """A receipt naming its customer by card, phone or e-mail is a look-up like identify's:
    counted first, outside the booking's transaction (a refused booking still counts)."""
    if names_contact(data.customer):
        ref = data.customer
        count_lookup(register.pk, card=ref.card, phone=ref.phone, email=ref.email)

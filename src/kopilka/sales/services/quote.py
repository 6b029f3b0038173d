"""A quote: what a receipt would be worth, writing nothing."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from kopilka import rules
from kopilka.ledger.models import Account
from kopilka.ledger.selectors import account_balance

from ..cart import build_cart, catalog_for_lines
from .bodies import balance_body, outcome_body
from .common import (
    count_customer_lookup,
    customer_and_program,
    customer_state,
    engine_quote,
    moment_of,
    program_config,
    requested_spend,
    within_bounds,
)


def receipt_quote(*, register, data, now: datetime | None = None) -> dict:
    """What the receipt would be worth. Writes nothing (unknown SKUs stay unknown) but the
    count of a look-up by card, phone or e-mail."""
    within_bounds(data)
    count_customer_lookup(register, data)
    now = now or timezone.now()
    merchant = register.merchant
    occurred_at, offline = moment_of(data.occurred_at, now)
    customer, program = customer_and_program(merchant, data, occurred_at)
    account = None
    if customer is not None and program is not None:
        account = Account.objects.filter(customer=customer, program=program).first()
    config = program_config(merchant, program, customer)
    # A quote writes nothing, so one reading of the balance serves the engine and the answer.
    balance = account_balance(account, now=now) if account is not None else None
    state = customer_state(customer, program, config, now, balance)
    if state is None and data.customer is not None:
        state = rules.CustomerState()
    cart = build_cart(
        data.lines,
        catalog_for_lines(merchant, data.lines, create_missing=False),
        requested_spend=requested_spend(data),
        store_accepts_bonus_payment=register.store.accepts_bonus_payment,
        spend_allowed=not offline,
        store_id=register.store_id,
    )
    outcome = engine_quote(config, state, cart, occurred_at)
    return outcome_body(outcome, customer, program, balance_body(account, program, now, balance))

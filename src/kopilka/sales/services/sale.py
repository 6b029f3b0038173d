"""A sale: the receipt, its lines, the bonus spend (or hold) and the accrual, in one
transaction, exactly once."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError
from django.utils import timezone

from kopilka import rules
from kopilka.customers import stats as customer_stats
from kopilka.customers.models import Customer
from kopilka.customers.services import customer_register
from kopilka.ledger import lots
from kopilka.ledger import services as ledger
from kopilka.ledger.exceptions import InsufficientBalance
from kopilka.ledger.models import EntryKind
from kopilka.ledger.selectors import Balance, account_balance
from kopilka.limits.services import LimitExceeded, record_refusal
from kopilka.merchants.actors import Actor
from kopilka.programs.exceptions import ProgramInactive
from kopilka.programs.models import CampaignUse, Program
from kopilka.programs.services import customer_enrol

from .. import sql
from ..cart import build_cart, catalog_for_lines
from ..exceptions import (
    DuplicateReceiptNumber,
    OfflineSpendNotAllowed,
    PaymentsMismatch,
    SpendNotAllowed,
)
from ..models import Receipt
from .bodies import balance_body, outcome_body, reason_list, receipt_body
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
from .idempotency import idempotent, request_hash
from .watch import watch_sale


def receipt_confirm(*, register, key: str | None, data, now: datetime | None = None) -> dict:
    """Book a sale exactly once: the receipt, its lines, the bonus spend (or hold) and the
    accrual, in one transaction."""
    within_bounds(data)
    count_customer_lookup(register, data)
    now = now or timezone.now()
    try:
        return idempotent(
            register=register,
            key=key,
            operation="confirm",
            request_hash=request_hash("confirm", data),
            book=lambda: _book_sale(register, data, now),
        )
    except LimitExceeded as refused:
        # The sale rolled back; its refusal is the owner's to see.
        record_refusal(refused, now=now)
        raise
    except IntegrityError:
        if Receipt.objects.filter(
            register=register, kind=Receipt.Kind.SALE, external_number=data.external_number
        ).exists():
            raise DuplicateReceiptNumber(external_number=data.external_number) from None
        raise


def _customer_for_sale(
    merchant, data, actor, now, occurred_at
) -> tuple[Customer | None, Program | None]:
    customer, program = customer_and_program(merchant, data, occurred_at)
    if customer is None and data.customer is not None:
        # An online buyer the program enrols on the spot (customer_and_program checked).
        customer = customer_register(
            merchant=merchant, actor=actor, phone=data.customer.phone, email=data.customer.email
        )
        customer_enrol(customer=customer, program=program, actor=actor, now=now)
    return customer, program


def _book_sale(register, data, now: datetime) -> dict:
    merchant = register.merchant
    actor = Actor.register(register)
    occurred_at, offline = moment_of(data.occurred_at, now)
    requested = requested_spend(data)
    if offline and requested != 0:
        raise OfflineSpendNotAllowed()
    # A number used twice is caught by the unique constraint, which receipt_confirm turns into
    # duplicate_receipt_number: no query for it on every sale.
    customer, program = _customer_for_sale(merchant, data, actor, now, occurred_at)
    account = None
    if customer is not None and program is not None:
        account = ledger.account_open_locked(customer=customer, program=program, actor=actor)
    config = program_config(merchant, program, customer)
    # The account stays locked until commit, so this reading and the sale's own movements
    # give the balance after the sale too (_balance_after).
    balance = account_balance(account, now=now) if account is not None else None
    state = customer_state(customer, program, config, now, balance)
    catalog = catalog_for_lines(merchant, data.lines, create_missing=True)
    cart = build_cart(
        data.lines,
        catalog,
        requested_spend=requested,
        store_accepts_bonus_payment=register.store.accepts_bonus_payment,
        spend_allowed=not offline,
        store_id=register.store_id,
    )
    outcome = _priced(config, state, cart, occurred_at, requested, data)
    held = data.hold and outcome.bonus_spent > 0
    receipt = _sale_receipt(register, data, customer, program, account, outcome, held)
    receipt.occurred_at, receipt.offline = occurred_at, offline  # when, and whether sent late
    # The customer's figures go in with the receipt; a held sale counts when it is captured.
    figures = None if held else customer_stats.sale_figures(receipt, now=now)
    previous_purchase_at = customer.last_purchase_at if customer is not None else None
    sql.insert_sale(receipt, _line_rows(data, catalog, cart, outcome), figures=figures)
    opened = _book_points(account, receipt, outcome.bonus_spent, held, actor, now)
    watch_sale(register, receipt, now, previous_purchase_at=previous_purchase_at)
    if customer is not None and outcome.campaigns_applied:
        CampaignUse.objects.bulk_create(
            CampaignUse(campaign_id=campaign_id, customer=customer, receipt=receipt)
            for campaign_id in outcome.campaigns_applied
        )
    if balance is not None:
        taken = outcome.bonus_spent
        balance = _balance_after(
            balance, now, taken=taken, held=taken if held else 0, opened=opened
        )
    body = outcome_body(outcome, customer, program, balance_body(account, program, now, balance))
    return receipt_body(receipt, body)


def _priced(config, state, cart, occurred_at, requested, data) -> rules.Outcome:
    """The engine's outcome of the sale, refused when it cannot be booked as asked: bonuses
    asked for outside the program's period or beyond what may be spent, payments that do not
    add up to what is left to pay."""
    if requested and not config.is_active(occurred_at):
        raise ProgramInactive(program=config.id)
    outcome = engine_quote(config, state, cart, occurred_at)
    if requested is not None and outcome.bonus_spent < requested:
        if state is not None and requested > state.available:
            raise InsufficientBalance(available=state.available, requested=requested)
        raise SpendNotAllowed(requested=requested, max_spend=outcome.max_spend)
    paid = sum(p.amount for p in data.payments)
    if data.payments and paid != outcome.to_pay:
        raise PaymentsMismatch(to_pay=outcome.to_pay, payments=paid)
    return outcome


def _sale_receipt(register, data, customer, program, account, outcome, held: bool) -> Receipt:
    """The sale's receipt row, unsaved, with the engine's figures (the caller sets its moment
    and whether it came late)."""
    return Receipt(
        merchant=register.merchant,
        store_id=register.store_id,
        register=register,
        customer=customer,
        program=program,
        kind=Receipt.Kind.SALE,
        status=Receipt.Status.HELD if held else Receipt.Status.CONFIRMED,
        channel=data.channel,
        cashier=data.cashier or "",
        external_number=data.external_number,
        subtotal=outcome.subtotal,
        discount=outcome.discount,
        bonus_spent=outcome.bonus_spent,
        to_pay=outcome.to_pay,
        accrued=outcome.accrual,
        campaign_bonus=outcome.campaign_bonus if account is not None else 0,
        accrual_available_from=outcome.accrual_available_from,
        accrual_expires_at=outcome.accrual_expires_at,
        payments=[p.model_dump() for p in data.payments],
        reasons=reason_list(outcome.reasons),
    )


def _line_rows(data, catalog, cart, outcome) -> list[dict]:
    """The receipt's lines as `sql.insert_sale` takes them: what the till sent, the product,
    the flags the engine used and the engine's figures of each line."""
    products = catalog.items
    by_no = {o.line_no: o for o in outcome.lines}
    flags = {line.line_no: line for line in cart.lines}
    return [
        {
            "line_no": line.line_no,
            "product_id": products[line.sku].pk,
            "sku": line.sku,
            "name": line.name,
            "qty": line.qty,
            "unit_price": line.unit_price,
            "pos_discount": line.pos_discount,
            "amount": by_no[line.line_no].amount,
            "discount": by_no[line.line_no].discount,
            "bonus_spent": by_no[line.line_no].bonus_spent,
            "accrued": by_no[line.line_no].accrual,
            "no_accrual": flags[line.line_no].no_accrual,
            "no_discount": flags[line.line_no].no_discount,
            "no_bonus_payment": flags[line.line_no].no_bonus_payment,
            "reasons": reason_list(by_no[line.line_no].reasons),
            "refunds_line_id": None,
        }
        for line in data.lines
    ]


def _book_points(account, receipt: Receipt, spent: int, held: bool, actor, now) -> list[lots.Lot]:
    """The ledger's side of the sale: the bonuses paid (spent, or held for a later capture)
    and, unless held, the accrual. Returns the lots opened."""
    if spent:
        move = ledger.hold if held else ledger.spend
        move(account=account, amount=spent, actor=actor, receipt=receipt, now=now)
    return [] if held else credit_accrual(account, receipt, actor, now)


def credit_accrual(account, receipt: Receipt, actor, now) -> list[lots.Lot]:
    """Credit the sale's campaign bonus and accrual; returns the lots opened."""
    if account is None:
        return []
    credits = []
    if receipt.campaign_bonus:
        credits.append((EntryKind.CAMPAIGN, receipt.campaign_bonus))
    # An old offline receipt's accrual is not credited when it would already have burnt.
    if receipt.accrued and (receipt.accrual_expires_at is None or receipt.accrual_expires_at > now):
        credits.append((EntryKind.ACCRUAL, receipt.accrued))
    available_from = receipt.accrual_available_from or now
    opened = []
    for kind, amount in credits:
        entry = ledger.credit(
            account=account,
            amount=amount,
            kind=kind,
            actor=actor,
            receipt=receipt,
            now=now,
            available_from=available_from,
            expires_at=receipt.accrual_expires_at,
        )
        opened.append(
            lots.Lot(
                entry.lot_id,
                amount,
                available_from=available_from,
                expires_at=receipt.accrual_expires_at,
                created_at=now,
            )
        )
    return opened


def _balance_after(balance: Balance, now, *, taken: int, held: int, opened) -> Balance:
    """The balance read before a sale, moved by the sale itself: the bonuses it paid with
    (`taken`, of which `held` only reserved) left the available points, and each lot it
    opened is available, pending or already expired at `now` (`lots.split`)."""
    new = lots.split(opened, now)
    return Balance(
        available=balance.available - taken + new.available,
        pending=balance.pending + new.pending,
        held=balance.held + held,
        expired=balance.expired + new.expired,
    )

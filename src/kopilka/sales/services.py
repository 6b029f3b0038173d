"""Receipts: quote (writes nothing), confirm (atomic, idempotent), capture / void of a hold,
and refunds. The engine says what a receipt is worth; the ledger books it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext

from kopilka import bounds, rules
from kopilka.customers import card_types
from kopilka.customers import stats as customer_stats
from kopilka.customers.exceptions import CustomerNotFound
from kopilka.customers.models import Customer
from kopilka.customers.services import customer_register
from kopilka.ledger import locks, lots
from kopilka.ledger import services as ledger
from kopilka.ledger.exceptions import InsufficientBalance
from kopilka.ledger.models import Account, Entry, EntryKind, Hold
from kopilka.ledger.selectors import Balance, account_balance, has_moved_out, moved_copies
from kopilka.merchants.actors import Actor
from kopilka.programs.exceptions import ProgramInactive
from kopilka.programs.models import CampaignUse, Program
from kopilka.programs.selectors import (
    campaigns_for,
    program_for_receipts,
    program_of_customer,
    to_rules,
)
from kopilka.programs.services import customer_enrol
from kopilka.programs.standing import LevelInputs, customer_level_inputs
from kopilka.rules.allocation import largest_remainder
from kopilka.rules.engine import InvalidCart

from . import sql
from .cart import build_cart, catalog_for_lines
from .exceptions import (
    CannotRefundRefund,
    DuplicateReceiptNumber,
    HoldExpired,
    IdempotencyConflict,
    IdempotencyKeyRequired,
    InvalidReceipt,
    NothingToRefund,
    OccurredInFuture,
    OfflineSpendNotAllowed,
    PaymentsMismatch,
    ReceiptAboveMaximum,
    ReceiptNotConfirmed,
    ReceiptNotHeld,
    ReceiptTooOld,
    RefundExceedsSale,
    SpendNotAllowed,
    UnknownLine,
)
from .models import IdempotencyRecord, Receipt, ReceiptLine
from .resolve import customer_and_card_from_reference
from .selectors import receipt_get

NO_PROGRAM = rules.ProgramConfig(id=0, enabled=False)
# A till's clock may run a little behind ours; older than this, the receipt is "offline".
CLOCK_SKEW = timedelta(minutes=5)


def _offline_window() -> timedelta:
    return timedelta(hours=settings.KOPILKA_OFFLINE_WINDOW_HOURS)


# ---- shared steps ---------------------------------------------------------------------------


def _when(occurred_at: datetime | None, now: datetime) -> tuple[datetime, bool]:
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


def _config(merchant, program, customer) -> rules.ProgramConfig:
    """The program as engine input, with the campaigns running for this customer."""
    config = to_rules(program) if program else NO_PROGRAM
    campaigns = campaigns_for(merchant=merchant, program=program, customer=customer)
    return replace(config, campaigns=campaigns) if campaigns else config


def _customer_state(customer, program, config, now, balance) -> rules.CustomerState | None:
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


def _quote(config, state, cart, occurred_at) -> rules.Outcome:
    try:
        return rules.quote(config, state, cart, now=occurred_at)
    except InvalidCart as error:
        raise InvalidReceipt(problem=str(error)) from error


def _reason_list(reasons) -> list[dict]:
    return [{"code": r.code, "source": r.source, "value": r.value} for r in reasons]


def _balance_body(
    account: Account | None, program: Program | None, now, balance=None
) -> dict | None:
    if account is None or program is None:
        return None
    balance = balance or account_balance(account, now=now)
    return {
        "program_id": program.pk,
        "program": program.name,
        "available": balance.available,
        "pending": balance.pending,
        "held": balance.held,
    }


def _outcome_body(outcome: rules.Outcome, customer, program, balance) -> dict:
    return {
        "customer_id": customer.pk if customer else None,
        "program_id": program.pk if program else None,
        "totals": {
            "subtotal": outcome.subtotal,
            "discount": outcome.discount,
            "max_spend": outcome.max_spend,
            "bonus_spent": outcome.bonus_spent,
            "to_pay": outcome.to_pay,
            "accrual": outcome.accrual,
            "campaign_bonus": outcome.campaign_bonus,
            "accrual_available_from": _iso(outcome.accrual_available_from),
            "accrual_expires_at": _iso(outcome.accrual_expires_at),
        },
        "lines": [
            {
                "line_no": o.line_no,
                "amount": o.amount,
                "discount": o.discount,
                "bonus_cap": o.bonus_cap,
                "bonus_spent": o.bonus_spent,
                "accrual": o.accrual,
                "to_pay": o.to_pay,
                "reasons": _reason_list(o.reasons),
            }
            for o in outcome.lines
        ],
        "reasons": _reason_list(outcome.reasons),
        "campaigns": list(outcome.campaigns_applied),
        "balance": balance,
        "level": _level_body(outcome),
    }


def _level_ref(level) -> dict | None:
    return {"id": level.id, "name": level.name} if level is not None else None


def _level_body(outcome: rules.Outcome) -> dict | None:
    if outcome.level_before is None and outcome.level_after is None:
        return None
    following = outcome.next_level
    return {
        "before": _level_ref(outcome.level_before),
        "after": _level_ref(outcome.level_after),
        "next": {
            "id": following.level_id,
            "name": following.name,
            "spend": following.spend,
            "spend_by_segment": [
                {"segment_id": segment_id, "amount": amount}
                for segment_id, amount in following.spend_by_segment
            ],
            "visits": following.visits,
        }
        if following is not None
        else None,
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _within_bounds(data) -> None:
    """Refuse a receipt above the documented maxima (`kopilka.bounds`), also for callers
    that did not go through the API's schemas."""
    violation = bounds.receipt_violation(data.lines, data.spend)
    if violation is not None:
        raise ReceiptAboveMaximum.of(violation)


def _requested_spend(data) -> int | None:
    return None if data.spend == "max" else data.spend


# ---- quote ----------------------------------------------------------------------------------


def receipt_quote(*, register, data, now: datetime | None = None) -> dict:
    """What the receipt would be worth. Writes nothing (unknown SKUs stay unknown)."""
    _within_bounds(data)
    now = now or timezone.now()
    merchant = register.merchant
    occurred_at, offline = _when(data.occurred_at, now)
    customer, program = _customer_and_program(merchant, data, occurred_at)
    account = None
    if customer is not None and program is not None:
        account = Account.objects.filter(customer=customer, program=program).first()
    config = _config(merchant, program, customer)
    # A quote writes nothing, so one reading of the balance serves the engine and the answer.
    balance = account_balance(account, now=now) if account is not None else None
    state = _customer_state(customer, program, config, now, balance)
    if state is None and data.customer is not None:
        state = rules.CustomerState()
    cart = build_cart(
        data.lines,
        catalog_for_lines(merchant, data.lines, create_missing=False),
        requested_spend=_requested_spend(data),
        store_accepts_bonus_payment=register.store.accepts_bonus_payment,
        spend_allowed=not offline,
        store_id=register.store_id,
    )
    outcome = _quote(config, state, cart, occurred_at)
    return _outcome_body(outcome, customer, program, _balance_body(account, program, now, balance))


def _customer_and_program(merchant, data, when) -> tuple[Customer | None, Program | None]:
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


# ---- idempotency ----------------------------------------------------------------------------


def _request_hash(operation: str, data, extra: dict | None = None) -> str:
    payload = {"operation": operation, "body": data.model_dump(mode="json"), **(extra or {})}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _replay(register, key: str, request_hash: str) -> dict | None:
    record = IdempotencyRecord.objects.filter(register=register, key=key).first()
    if record is None:
        return None
    if record.request_hash != request_hash:
        raise IdempotencyConflict(key=key)
    return record.response_body


def idempotent(
    *, register, key: str | None, operation: str, request_hash: str, book: Callable[[], dict]
) -> dict:
    """Run `book` once per (register, key): a retry with the same request gets the first
    response; the same key with another request is a conflict.

    The key's row is inserted first, in the booking's own transaction, so a concurrent retry
    waits on the unique index until the first one commits and then replays its response.
    """
    if not key or len(key) > 128:
        raise IdempotencyKeyRequired()
    # No read first: nearly every key is new, and a retry's insert fails on the unique index
    # (after waiting for the first request to commit), which sends it to the replay below.
    try:
        with transaction.atomic():
            record = IdempotencyRecord(
                register=register, key=key, operation=operation, request_hash=request_hash
            )
            sql.insert_record(record)
            body = book()
            sql.store_response(record, 201, body)
            return body
    except IntegrityError:
        replayed = _replay(register, key, request_hash)
        if replayed is not None:
            return replayed
        raise


# ---- confirm --------------------------------------------------------------------------------


def receipt_confirm(*, register, key: str | None, data, now: datetime | None = None) -> dict:
    """Book a sale exactly once: the receipt, its lines, the bonus spend (or hold) and the
    accrual, in one transaction."""
    _within_bounds(data)
    try:
        return idempotent(
            register=register,
            key=key,
            operation="confirm",
            request_hash=_request_hash("confirm", data),
            book=lambda: _book_sale(register, data, now or timezone.now()),
        )
    except IntegrityError:
        if Receipt.objects.filter(
            register=register, kind=Receipt.Kind.SALE, external_number=data.external_number
        ).exists():
            raise DuplicateReceiptNumber(external_number=data.external_number) from None
        raise


def _customer_for_sale(
    merchant, data, actor, now, occurred_at
) -> tuple[Customer | None, Program | None]:
    customer, program = _customer_and_program(merchant, data, occurred_at)
    if customer is None and data.customer is not None:
        # An online buyer the program enrols on the spot (_customer_and_program checked).
        customer = customer_register(
            merchant=merchant, actor=actor, phone=data.customer.phone, email=data.customer.email
        )
        customer_enrol(customer=customer, program=program, actor=actor, now=now)
    return customer, program


def _book_sale(register, data, now: datetime) -> dict:
    merchant = register.merchant
    actor = Actor.register(register)
    occurred_at, offline = _when(data.occurred_at, now)
    requested = _requested_spend(data)
    if offline and requested != 0:
        raise OfflineSpendNotAllowed()
    # A number used twice is caught by the unique constraint, which receipt_confirm turns into
    # duplicate_receipt_number: no query for it on every sale.
    customer, program = _customer_for_sale(merchant, data, actor, now, occurred_at)
    account = None
    if customer is not None and program is not None:
        account = ledger.account_open_locked(customer=customer, program=program, actor=actor)
    config = _config(merchant, program, customer)
    # The account stays locked until commit, so this reading and the sale's own movements
    # give the balance after the sale too (_balance_after).
    balance = account_balance(account, now=now) if account is not None else None
    state = _customer_state(customer, program, config, now, balance)
    catalog = catalog_for_lines(merchant, data.lines, create_missing=True)
    products = catalog.items
    cart = build_cart(
        data.lines,
        catalog,
        requested_spend=requested,
        store_accepts_bonus_payment=register.store.accepts_bonus_payment,
        spend_allowed=not offline,
        store_id=register.store_id,
    )
    if requested and not config.is_active(occurred_at):
        raise ProgramInactive(program=config.id)
    outcome = _quote(config, state, cart, occurred_at)
    if requested is not None and outcome.bonus_spent < requested:
        if state is not None and requested > state.available:
            raise InsufficientBalance(available=state.available, requested=requested)
        raise SpendNotAllowed(requested=requested, max_spend=outcome.max_spend)
    if data.payments and sum(p.amount for p in data.payments) != outcome.to_pay:
        raise PaymentsMismatch(to_pay=outcome.to_pay, payments=sum(p.amount for p in data.payments))

    held = data.hold and outcome.bonus_spent > 0
    receipt = Receipt(
        merchant=merchant,
        store_id=register.store_id,
        register=register,
        customer=customer,
        program=program,
        kind=Receipt.Kind.SALE,
        status=Receipt.Status.HELD if held else Receipt.Status.CONFIRMED,
        channel=data.channel,
        external_number=data.external_number,
        occurred_at=occurred_at,
        offline=offline,
        subtotal=outcome.subtotal,
        discount=outcome.discount,
        bonus_spent=outcome.bonus_spent,
        to_pay=outcome.to_pay,
        accrued=outcome.accrual,
        campaign_bonus=outcome.campaign_bonus if account is not None else 0,
        accrual_available_from=outcome.accrual_available_from,
        accrual_expires_at=outcome.accrual_expires_at,
        payments=[p.model_dump() for p in data.payments],
        reasons=_reason_list(outcome.reasons),
    )
    by_no = {o.line_no: o for o in outcome.lines}
    flags = {line.line_no: line for line in cart.lines}
    # The customer's figures go in with the receipt; a held sale counts when it is captured.
    figures = None if held else customer_stats.sale_figures(receipt, now=now)
    sql.insert_sale(
        receipt,
        [
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
                "reasons": _reason_list(by_no[line.line_no].reasons),
                "refunds_line_id": None,
            }
            for line in data.lines
        ],
        figures=figures,
    )
    if outcome.bonus_spent:
        if held:
            ledger.hold(
                account=account, amount=outcome.bonus_spent, actor=actor, receipt=receipt, now=now
            )
        else:
            ledger.spend(
                account=account, amount=outcome.bonus_spent, actor=actor, receipt=receipt, now=now
            )
    credits = []
    if not held:
        credits = _credit_accrual(account, receipt, actor, now)
    if customer is not None and outcome.campaigns_applied:
        CampaignUse.objects.bulk_create(
            CampaignUse(campaign_id=campaign_id, customer=customer, receipt=receipt)
            for campaign_id in outcome.campaigns_applied
        )
    if balance is not None:
        balance = _balance_after(
            balance,
            now,
            taken=outcome.bonus_spent,
            held=outcome.bonus_spent if held else 0,
            opened=credits,
        )
    body = _outcome_body(outcome, customer, program, _balance_body(account, program, now, balance))
    return _receipt_body(receipt, body)


def _credit_accrual(account, receipt: Receipt, actor, now) -> list[lots.Lot]:
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


def _receipt_body(receipt: Receipt, body: dict) -> dict:
    return {
        "receipt_id": receipt.pk,
        "external_number": receipt.external_number,
        "status": receipt.status,
        "offline": receipt.offline,
        **body,
    }


# ---- two-phase: capture and void ------------------------------------------------------------


def _held_receipt(register, receipt_id) -> tuple[Receipt, Account, Hold]:
    """The receipt, its locked account and its hold; refuses a receipt that never held."""
    receipt = receipt_get(merchant=register.merchant, pk=receipt_id)
    receipt = Receipt.objects.select_for_update().get(pk=receipt.pk)
    account = Account.objects.filter(
        customer_id=receipt.customer_id, program_id=receipt.program_id
    ).first()
    the_hold = (
        Hold.objects.filter(account=account, receipt=receipt).order_by("-id").first()
        if account is not None and receipt.kind == Receipt.Kind.SALE
        else None
    )
    if the_hold is None:
        raise ReceiptNotHeld(receipt=receipt.pk, receipt_status=receipt.status)
    [account] = locks.lock_accounts([account.pk])
    return receipt, account, the_hold


def _state_body(receipt: Receipt, account: Account, now) -> dict:
    return {
        "receipt_id": receipt.pk,
        "external_number": receipt.external_number,
        "status": receipt.status,
        "bonus_spent": receipt.bonus_spent if receipt.status == Receipt.Status.CONFIRMED else 0,
        "accrued": receipt.accrued if receipt.status == Receipt.Status.CONFIRMED else 0,
        "balance": _balance_body(account, receipt.program, now),
    }


def receipt_capture(*, register, receipt_id, now: datetime | None = None) -> dict:
    """Spend the held bonuses and credit the accrual. Capturing twice changes nothing.

    A hold past its timeout has already given its bonuses back: the receipt is voided (if
    `kopilka tick` has not done so already) and the till is told the hold expired.
    """
    now = now or timezone.now()
    with transaction.atomic():
        receipt, account, the_hold = _held_receipt(register, receipt_id)
        if receipt.status == Receipt.Status.CONFIRMED:
            return _state_body(receipt, account, now)
        voided_by_job = (
            receipt.status == Receipt.Status.VOIDED and the_hold.status == Hold.Status.EXPIRED
        )
        if receipt.status != Receipt.Status.HELD and not voided_by_job:
            raise ReceiptNotHeld(receipt=receipt.pk, receipt_status=receipt.status)
        expired = voided_by_job or the_hold.expires_at <= now
        if expired and not voided_by_job:
            ledger.expire_holds(account=account, now=now)
            receipt.status = Receipt.Status.VOIDED
            receipt.save(update_fields=["status"])
        elif not expired:
            actor = Actor.register(register)
            ledger.capture(
                account=account, hold_id=the_hold.pk, actor=actor, receipt=receipt, now=now
            )
            receipt.status = Receipt.Status.CONFIRMED
            receipt.save(update_fields=["status"])
            _credit_accrual(account, receipt, actor, now)
            sql.apply_sale_figures(customer_stats.sale_figures(receipt, now=now))
    if expired:
        raise HoldExpired(receipt=receipt.pk, expired_at=the_hold.expires_at.isoformat())
    return _state_body(receipt, account, now)


@transaction.atomic
def receipt_void(*, register, receipt_id, now: datetime | None = None) -> dict:
    """Release the held bonuses; the sale earns nothing. Voiding twice changes nothing."""
    now = now or timezone.now()
    receipt, account, the_hold = _held_receipt(register, receipt_id)
    if receipt.status == Receipt.Status.VOIDED:
        return _state_body(receipt, account, now)
    if receipt.status != Receipt.Status.HELD:
        raise ReceiptNotHeld(receipt=receipt.pk, receipt_status=receipt.status)
    if the_hold.status == Hold.Status.ACTIVE and the_hold.expires_at > now:
        ledger.void(account=account, hold_id=the_hold.pk, actor=Actor.register(register), now=now)
    receipt.status = Receipt.Status.VOIDED
    receipt.save(update_fields=["status"])
    return _state_body(receipt, account, now)


# ---- refunds --------------------------------------------------------------------------------


def receipt_refund(*, register, receipt_id, key: str | None, data, now=None) -> dict:
    return idempotent(
        register=register,
        key=key,
        operation="refund",
        request_hash=_request_hash("refund", data, {"receipt": str(receipt_id)}),
        book=lambda: _book_refund(register, receipt_id, data, now or timezone.now()),
    )


def _book_refund(register, receipt_id, data, now: datetime) -> dict:
    original = receipt_get(merchant=register.merchant, pk=receipt_id)
    if original.kind == Receipt.Kind.REFUND:
        raise CannotRefundRefund(receipt=original.pk)
    # Refunds of one receipt queue up here, so two tills cannot both refund the last unit.
    original = Receipt.objects.select_for_update().get(pk=original.pk)
    if original.status != Receipt.Status.CONFIRMED:
        raise ReceiptNotConfirmed(receipt=original.pk, receipt_status=original.status)
    lines = {line.line_no: line for line in original.lines.all()}
    refunded = {
        row["refunds_line"]: row["qty"]
        for row in ReceiptLine.objects.filter(refunds_line__receipt=original)
        .values("refunds_line")
        .annotate(qty=Sum("qty"))
    }
    if data.lines is None:
        wanted = {
            no: line.qty - refunded.get(line.pk, Decimal(0))
            for no, line in lines.items()
            if line.qty > refunded.get(line.pk, Decimal(0))
        }
        if not wanted:
            raise NothingToRefund(receipt=original.pk)
    else:
        wanted = {}
        for item in data.lines:
            if item.line_no not in lines:
                raise UnknownLine(line_no=item.line_no)
            wanted[item.line_no] = wanted.get(item.line_no, Decimal(0)) + item.qty
    parts = []
    for no, qty in sorted(wanted.items()):
        line = lines[no]
        before = Fraction(refunded.get(line.pk, Decimal(0)))
        after = before + Fraction(qty)
        if after > Fraction(line.qty):
            raise RefundExceedsSale(
                line_no=no, sold=str(line.qty), already_refunded=str(before), asked=str(qty)
            )
        total = Fraction(line.qty)

        def share(value, before=before, after=after, total=total):
            return lots.refund_share(value, before, after, total)

        parts.append(
            (
                line,
                qty,
                share(line.amount),
                share(line.discount),
                share(line.bonus_spent),
                share(line.accrued),
            )
        )

    program = original.program
    account = moved_to = None
    if original.customer_id and program is not None:
        account, moved_to = _refund_accounts(original, program)
    return_spent = program is not None and program.return_spent_on_refund
    number = data.external_number or f"{original.external_number}/R{original.refunds.count() + 1}"
    refund = Receipt.objects.create(
        merchant=original.merchant,
        store_id=register.store_id,
        register=register,
        customer_id=original.customer_id,
        program=program,
        kind=Receipt.Kind.REFUND,
        refund_of=original,
        channel=original.channel,
        external_number=number,
        occurred_at=now,
        subtotal=sum(p[2] for p in parts),
        discount=sum(p[3] for p in parts),
        bonus_spent=sum(p[4] for p in parts),
        to_pay=sum(p[2] - p[3] - p[4] for p in parts),
        accrued=sum(p[5] for p in parts),
    )
    ReceiptLine.objects.bulk_create(
        ReceiptLine(
            receipt=refund,
            line_no=line.line_no,
            product_id=line.product_id,
            sku=line.sku,
            name=line.name,
            qty=qty,
            unit_price=line.unit_price,
            amount=amount,
            discount=discount,
            bonus_spent=spent,
            accrued=accrued,
            refunds_line=line,
        )
        for line, qty, amount, discount, spent, accrued in parts
    )
    actor = Actor.register(register)
    returned = clawed = 0
    if account is not None:
        if return_spent and refund.bonus_spent:
            returned = _return_spent(account, original, refund, actor, now)
            if moved_to is not None and returned:
                # Given back to the lots they came from, then on to where that balance went.
                ledger.transfer(
                    source=account,
                    target=moved_to,
                    actor=actor,
                    reason=gettext("Refund %(number)s: returned bonuses follow the card type")
                    % {"number": refund.external_number},
                    now=now,
                )
        if refund.accrued:
            prefer = list(
                Entry.objects.filter(
                    account=account, receipt=original, kind=EntryKind.ACCRUAL
                ).values_list("lot_id", flat=True)
            )
            # Moved away and back again, the purchase's points sit in copies of its lots.
            prefer += moved_copies(prefer, account=account)
            clawed = _clawback(account, refund.accrued, prefer, refund, actor, now)
            if moved_to is not None and clawed < refund.accrued:
                # The purchase's points moved with the balance: take them where they are now.
                copies = moved_copies(prefer, account=moved_to)
                clawed += _clawback(moved_to, refund.accrued - clawed, copies, refund, actor, now)
    # Lines show what was really booked: the ledger may have covered less than planned.
    returned_by_line = _split(returned, [p[4] for p in parts])
    clawed_by_line = _split(clawed, [p[5] for p in parts])
    refund.returned = returned
    refund.clawed_back = clawed
    refund.clawback_shortfall = refund.accrued - clawed
    refund.save(update_fields=["returned", "clawed_back", "clawback_shortfall"])
    customer_stats.record_refund(refund)
    return {
        "refund_id": refund.pk,
        "receipt_id": original.pk,
        "external_number": refund.external_number,
        "amount": refund.to_pay,
        "bonus_returned": returned,
        "accrual_clawed_back": clawed,
        "clawback_shortfall": refund.clawback_shortfall,
        "lines": [
            {
                "line_no": line.line_no,
                "qty": f"{Decimal(qty).normalize():f}",
                "amount": amount - discount - spent,
                "bonus_returned": returned_by_line[i],
                "accrual_clawed_back": clawed_by_line[i],
            }
            for i, (line, qty, amount, discount, spent, _accrued) in enumerate(parts)
        ],
        "balance": _balance_body(
            moved_to or account, moved_to.program if moved_to else program, now
        ),
    }


def _refund_accounts(original: Receipt, program: Program) -> tuple[Account | None, Account | None]:
    """The account the purchase was booked in and, when a card-type move has since taken that
    balance to the customer's account in another program, that account too; both locked."""
    account = Account.objects.filter(customer_id=original.customer_id, program=program).first()
    if account is None:
        return None, None
    locked: dict[int, Account] = {}
    moved_to = None
    for _ in range(2):  # once more if a move committed while the locks were taken
        if has_moved_out(account):
            now_in = card_types.program_id_of(original.customer)
            if now_in is not None and now_in != program.pk:
                moved_to = Account.objects.filter(
                    customer_id=original.customer_id, program_id=now_in
                ).first()
        wanted = {account.pk} | ({moved_to.pk} if moved_to else set())
        if wanted <= locked.keys():
            break
        locked.update((a.pk, a) for a in locks.lock_accounts(sorted(wanted - locked.keys())))
    return locked[account.pk], (locked[moved_to.pk] if moved_to else None)


def _clawback(account, amount: int, prefer: list[int], refund: Receipt, actor, now) -> int:
    taken = ledger.clawback(
        account=account, amount=amount, actor=actor, prefer_lot_ids=prefer, receipt=refund, now=now
    )
    return -sum(e.amount for e in taken)


def _split(total: int, weights: list[int]) -> list[int]:
    return largest_remainder(total, weights) if total else [0] * len(weights)


def _return_spent(account, original: Receipt, refund: Receipt, actor, now) -> int:
    """Give back the refund's share of the bonuses paid, to the lots they came from, in the
    order they were taken, skipping what earlier refunds already gave back."""
    spent_by_lot: dict[int, int] = {}
    for entry in Entry.objects.filter(
        account=account, receipt=original, kind__in=[EntryKind.SPEND, EntryKind.CAPTURE]
    ).order_by("id"):
        spent_by_lot[entry.lot_id] = spent_by_lot.get(entry.lot_id, 0) - entry.amount
    for row in (
        Entry.objects.filter(
            account=account, receipt__refund_of=original, kind=EntryKind.REFUND_RETURN
        )
        .values("lot_id")
        .annotate(total=Sum("amount"))
    ):
        spent_by_lot[row["lot_id"]] = spent_by_lot.get(row["lot_id"], 0) - row["total"]
    left, parts = refund.bonus_spent, []
    for lot_id, open_amount in spent_by_lot.items():
        give = min(open_amount, left)
        if give > 0:
            parts.append((lot_id, give))
            left -= give
    if parts:
        ledger.refund_return(account=account, parts=parts, actor=actor, receipt=refund, now=now)
    return refund.bonus_spent - left

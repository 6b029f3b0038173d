"""Two-phase sales: capture or void a receipt whose bonuses are held."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from kopilka.customers import stats as customer_stats
from kopilka.ledger import locks
from kopilka.ledger import services as ledger
from kopilka.ledger.models import Account, Hold
from kopilka.merchants.actors import Actor

from .. import sql
from ..exceptions import (
    HoldExpired,
    ReceiptNotHeld,
)
from ..models import Receipt
from ..selectors import receipt_get
from .bodies import state_body
from .sale import credit_accrual


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


def receipt_capture(*, register, receipt_id, now: datetime | None = None) -> dict:
    """Spend the held bonuses and credit the accrual. Capturing twice changes nothing.

    A hold past its timeout has already given its bonuses back: the receipt is voided (if
    `kopilka tick` has not done so already) and the till is told the hold expired.
    """
    now = now or timezone.now()
    with transaction.atomic():
        receipt, account, the_hold = _held_receipt(register, receipt_id)
        if receipt.status == Receipt.Status.CONFIRMED:
            return state_body(receipt, account, now)
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
            credit_accrual(account, receipt, actor, now)
            sql.apply_sale_figures(customer_stats.sale_figures(receipt, now=now))
    if expired:
        raise HoldExpired(receipt=receipt.pk, expired_at=the_hold.expires_at.isoformat())
    return state_body(receipt, account, now)


@transaction.atomic
def receipt_void(*, register, receipt_id, now: datetime | None = None) -> dict:
    """Release the held bonuses; the sale earns nothing. Voiding twice changes nothing."""
    now = now or timezone.now()
    receipt, account, the_hold = _held_receipt(register, receipt_id)
    if receipt.status == Receipt.Status.VOIDED:
        return state_body(receipt, account, now)
    if receipt.status != Receipt.Status.HELD:
        raise ReceiptNotHeld(receipt=receipt.pk, receipt_status=receipt.status)
    if the_hold.status == Hold.Status.ACTIVE and the_hold.expires_at > now:
        ledger.void(account=account, hold_id=the_hold.pk, actor=Actor.register(register), now=now)
    receipt.status = Receipt.Status.VOIDED
    receipt.save(update_fields=["status"])
    return state_body(receipt, account, now)

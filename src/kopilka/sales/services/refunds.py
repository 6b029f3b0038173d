"""Refunds of a sale's lines: the refund receipt, its lines' shares of the sale's figures
(`refund_lines`, pure), spent bonuses given back and accrual clawed back."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from functools import partial
from typing import NamedTuple

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext

from kopilka.customers import card_types
from kopilka.customers import stats as customer_stats
from kopilka.ledger import locks, lots
from kopilka.ledger import services as ledger
from kopilka.ledger.models import Account, Entry, EntryKind
from kopilka.ledger.selectors import has_moved_out, moved_copies
from kopilka.merchants.actors import Actor
from kopilka.programs.models import Program
from kopilka.rules.allocation import largest_remainder

from ..exceptions import (
    CannotRefundRefund,
    NothingToRefund,
    ReceiptNotConfirmed,
    RefundExceedsSale,
    UnknownLine,
)
from ..models import Receipt, ReceiptLine
from ..selectors import receipt_get
from .bodies import balance_body
from .idempotency import idempotent, request_hash


def receipt_refund(*, register, receipt_id, key: str | None, data, now=None) -> dict:
    return idempotent(
        register=register,
        key=key,
        operation="refund",
        request_hash=request_hash("refund", data, {"receipt": str(receipt_id)}),
        book=lambda: _book_refund(register, receipt_id, data, now or timezone.now()),
    )


class RefundLine(NamedTuple):
    """One sold line coming back: `qty` of it, and its share of each of the sale line's
    figures (`refund_lines`)."""

    line: ReceiptLine
    qty: Decimal
    amount: int
    discount: int
    bonus_spent: int
    accrued: int

    @property
    def to_pay(self) -> int:
        return self.amount - self.discount - self.bonus_spent


def refund_lines(lines: dict, refunded: dict, wanted: dict) -> list[RefundLine]:
    """Each wanted line's share of its sale line's amount, discount, bonuses paid and accrual:
    what brings the refunded quantity from what earlier refunds took to that plus `qty`
    (`lots.refund_share`), so successive refunds of a line add up to the whole line exactly.
    Pure: `lines` by line number, quantities already refunded by sale-line id, `wanted`
    quantities by line number."""
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
        share = partial(lots.refund_share, before=before, after=after, total=total)
        parts.append(
            RefundLine(
                line,
                qty,
                share(line.amount),
                share(line.discount),
                share(line.bonus_spent),
                share(line.accrued),
            )
        )
    return parts


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
    parts = refund_lines(lines, refunded, _wanted(original, lines, refunded, data))
    program = original.program
    account = moved_to = None
    if original.customer_id and program is not None:
        account, moved_to = _refund_accounts(original, program)
    refund = _refund_receipt(register, original, parts, data, now)
    returned = clawed = 0
    if account is not None:
        actor = Actor.register(register)
        if program.return_spent_on_refund and refund.bonus_spent:
            returned = _give_back_spent(account, moved_to, original, refund, actor, now)
        if refund.accrued:
            clawed = _claw_back_accrual(account, moved_to, original, refund, actor, now)
    refund.returned = returned
    refund.clawed_back = clawed
    refund.clawback_shortfall = refund.accrued - clawed
    refund.save(update_fields=["returned", "clawed_back", "clawback_shortfall"])
    customer_stats.record_refund(refund)
    balance_in = moved_to.program if moved_to else program
    return _refund_body(refund, original, parts, moved_to or account, balance_in, now)


def _wanted(original: Receipt, lines: dict, refunded: dict, data) -> dict:
    """The quantities asked back by line number: the request's, or all not refunded yet."""
    if data.lines is None:
        wanted = {
            no: line.qty - refunded.get(line.pk, Decimal(0))
            for no, line in lines.items()
            if line.qty > refunded.get(line.pk, Decimal(0))
        }
        if not wanted:
            raise NothingToRefund(receipt=original.pk)
        return wanted
    wanted = {}
    for item in data.lines:
        if item.line_no not in lines:
            raise UnknownLine(line_no=item.line_no)
        wanted[item.line_no] = wanted.get(item.line_no, Decimal(0)) + item.qty
    return wanted


def _refund_receipt(register, original: Receipt, parts: list[RefundLine], data, now) -> Receipt:
    """The refund receipt and its lines."""
    number = data.external_number or f"{original.external_number}/R{original.refunds.count() + 1}"
    refund = Receipt.objects.create(
        merchant=original.merchant,
        store_id=register.store_id,
        register=register,
        customer_id=original.customer_id,
        program=original.program,
        kind=Receipt.Kind.REFUND,
        refund_of=original,
        channel=original.channel,
        external_number=number,
        occurred_at=now,
        subtotal=sum(p.amount for p in parts),
        discount=sum(p.discount for p in parts),
        bonus_spent=sum(p.bonus_spent for p in parts),
        to_pay=sum(p.to_pay for p in parts),
        accrued=sum(p.accrued for p in parts),
    )
    ReceiptLine.objects.bulk_create(
        ReceiptLine(
            receipt=refund,
            line_no=p.line.line_no,
            product_id=p.line.product_id,
            sku=p.line.sku,
            name=p.line.name,
            qty=p.qty,
            unit_price=p.line.unit_price,
            amount=p.amount,
            discount=p.discount,
            bonus_spent=p.bonus_spent,
            accrued=p.accrued,
            refunds_line=p.line,
        )
        for p in parts
    )
    return refund


def _give_back_spent(account, moved_to, original, refund, actor, now) -> int:
    """The refund's share of the bonuses paid, back to the lots they came from (and on to
    where the balance has moved since, with a card-type move). Returns what was given."""
    returned = _return_spent(account, original, refund, actor, now)
    if moved_to is not None and returned:
        ledger.transfer(
            source=account,
            target=moved_to,
            actor=actor,
            reason=gettext("Refund %(number)s: returned bonuses follow the card type")
            % {"number": refund.external_number},
            now=now,
        )
    return returned


def _claw_back_accrual(account, moved_to, original, refund, actor, now) -> int:
    """The refund's share of the accrual, taken back from the purchase's own lots first
    (or their copies, after moves), then from any spendable points. Returns what was taken:
    less than asked when the customer has spent it."""
    prefer = list(
        Entry.objects.filter(account=account, receipt=original, kind=EntryKind.ACCRUAL).values_list(
            "lot_id", flat=True
        )
    )
    # Moved away and back again, the purchase's points sit in copies of its lots.
    prefer += moved_copies(prefer, account=account)
    clawed = _clawback(account, refund.accrued, prefer, refund, actor, now)
    if moved_to is not None and clawed < refund.accrued:
        # The purchase's points moved with the balance: take them where they are now.
        copies = moved_copies(prefer, account=moved_to)
        clawed += _clawback(moved_to, refund.accrued - clawed, copies, refund, actor, now)
    return clawed


def _refund_body(
    refund: Receipt, original: Receipt, parts: list[RefundLine], account, program, now
):
    # Lines show what was really booked: the ledger may have covered less than planned.
    returned_by_line = _split(refund.returned, [p.bonus_spent for p in parts])
    clawed_by_line = _split(refund.clawed_back, [p.accrued for p in parts])
    return {
        "refund_id": refund.pk,
        "receipt_id": original.pk,
        "external_number": refund.external_number,
        "amount": refund.to_pay,
        "bonus_returned": refund.returned,
        "accrual_clawed_back": refund.clawed_back,
        "clawback_shortfall": refund.clawback_shortfall,
        "lines": [
            {
                "line_no": p.line.line_no,
                "qty": f"{Decimal(p.qty).normalize():f}",
                "amount": p.to_pay,
                "bonus_returned": returned_by_line[i],
                "accrual_clawed_back": clawed_by_line[i],
            }
            for i, p in enumerate(parts)
        ],
        "balance": balance_body(account, program, now),
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

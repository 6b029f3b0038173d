"""Errors of the POS layer."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from kopilka import numfmt
from kopilka.bounds import Violation
from kopilka.errors import AboveMaximum, Conflict, KopilkaError, NotFound, ValidationFailed


class ReceiptNotFound(NotFound):
    code = "receipt_not_found"
    default_message = _("Receipt not found.")


class IdempotencyKeyRequired(KopilkaError):
    code = "idempotency_key_required"
    status = 428
    default_message = _("This request needs an Idempotency-Key header.")


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"
    default_message = _("This Idempotency-Key was already used with a different request.")


class DuplicateReceiptNumber(Conflict):
    code = "duplicate_receipt_number"
    default_message = _("This register already booked a receipt with this number.")


class SpendNotAllowed(Conflict):
    code = "spend_not_allowed"
    default_message = _("The customer cannot pay this much with bonuses on this receipt.")


class OfflineSpendNotAllowed(ValidationFailed):
    code = "offline_spend_not_allowed"
    default_message = _("A receipt sent after the fact can accrue bonuses but not spend them.")


class ReceiptTooOld(ValidationFailed):
    code = "receipt_too_old"
    default_message = _("The receipt is older than the offline window allows.")


class OccurredInFuture(ValidationFailed):
    code = "occurred_in_future"
    default_message = _("The receipt's time is in the future.")


class PaymentsMismatch(ValidationFailed):
    code = "payments_mismatch"
    default_message = _("The payments do not add up to the amount to pay.")


class ReceiptAboveMaximum(AboveMaximum):
    """A receipt breaking one of the bounds of `kopilka.bounds.receipt_violation`."""

    @classmethod
    def of(cls, violation: Violation) -> ReceiptAboveMaximum:
        kind, maximum, line_no = violation.kind, violation.maximum, violation.line_no
        if kind == "receipt_lines":
            message = ngettext(
                "A receipt has at most %(maximum)s line.",
                "A receipt has at most %(maximum)s lines.",
                maximum,
            )
        else:
            message = {
                "qty": gettext(
                    "Line %(line_no)s: the quantity is above the maximum of %(maximum)s."
                ),
                "unit_price": gettext(
                    "Line %(line_no)s: the unit price is above the maximum of %(maximum)s."
                ),
                "pos_discount": gettext(
                    "Line %(line_no)s: the till's discount is above the maximum of %(maximum)s."
                ),
                "line_amount": gettext(
                    "Line %(line_no)s: quantity × price is above the maximum line amount of "
                    "%(maximum)s."
                ),
                "receipt_total": gettext("The receipt total is above the maximum of %(maximum)s."),
                "spend": gettext("The bonus payment is above the maximum of %(maximum)s."),
            }[kind]
        shown = numfmt.count(maximum) if kind in ("qty", "receipt_lines") else numfmt.money(maximum)
        value = violation.value
        if isinstance(value, Decimal):
            value = int(value) if value == value.to_integral_value() else f"{value.normalize():f}"
        details = {"field": violation.field, "maximum": maximum, "value": value}
        if line_no is not None:
            details["line_no"] = line_no
        return cls(message % {"line_no": line_no, "maximum": shown}, **details)


class InvalidReceipt(ValidationFailed):
    code = "invalid_receipt"
    default_message = _("The receipt lines are not valid.")


class CannotRefundRefund(Conflict):
    code = "cannot_refund_a_refund"
    default_message = _("A refund cannot be refunded.")


class ReceiptNotConfirmed(Conflict):
    code = "receipt_not_confirmed"
    default_message = _("Only a confirmed receipt can be refunded.")


class RefundExceedsSale(ValidationFailed):
    code = "refund_exceeds_sale"
    default_message = _("The refund is larger than what was sold and not yet refunded.")


class UnknownLine(ValidationFailed):
    code = "unknown_line"
    default_message = _("The receipt has no such line.")


class NothingToRefund(Conflict):
    code = "nothing_to_refund"
    default_message = _("Everything on this receipt has already been refunded.")


class ReceiptNotHeld(Conflict):
    code = "receipt_not_held"
    default_message = _("The receipt has no bonuses on hold.")


class HoldExpired(Conflict):
    code = "hold_expired"
    default_message = _(
        "The bonuses were held too long and have been released; the receipt is voided."
    )


class DetailsRequired(ValidationFailed):
    """The customer's program asks for details the registration lacks (`fields`: first_name,
    birthday)."""

    code = "details_required"
    default_message = _("The program asks for more details of a new customer.")

    LABELS = {"first_name": _("the first name"), "birthday": _("the birthday")}

    def __init__(self, *, fields: list[str]):
        message = gettext("The loyalty program asks for %(details)s of a new customer.") % {
            "details": gettext(" and ").join(str(self.LABELS[name]) for name in fields)
        }
        super().__init__(message, fields=fields)

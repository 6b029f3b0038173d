"""Typed errors of the ledger."""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kopilka import bounds, numfmt
from kopilka.errors import AboveMaximum, Conflict, KopilkaError, NotFound, ValidationFailed


class InsufficientBalance(KopilkaError):
    code = "insufficient_balance"
    status = 409
    default_message = _("Not enough bonuses available.")

    def __init__(self, *, available: int, requested: int):
        super().__init__(available=available, requested=requested)
        self.available = available
        self.requested = requested


class InvalidAmount(ValidationFailed):
    code = "invalid_amount"
    default_message = _("The amount must be a positive whole number of minor units.")


class MovementTooLarge(AboveMaximum):
    """The ledger's last line of defence (kopilka.bounds.MAX_LEDGER_MOVEMENT): every door
    has a lower bound of its own, so this means a configuration beyond its bounds."""

    default_message = _("The amount is above the largest movement the ledger books.")


class ManualAdjustmentTooLarge(AboveMaximum):
    @classmethod
    def of(cls, amount: int) -> ManualAdjustmentTooLarge:
        maximum = bounds.MAX_MANUAL_ADJUSTMENT
        message = gettext("A manual change of bonuses is at most %(maximum)s.") % {
            "maximum": numfmt.points(maximum)
        }
        return cls(message, field="amount", maximum=maximum, value=amount)


class ReasonRequired(ValidationFailed):
    code = "reason_required"
    default_message = _("A manual change of bonuses needs a reason.")


class HoldNotActive(Conflict):
    code = "hold_not_active"
    default_message = _("The hold is already captured, voided or expired.")


class AlreadyReversed(Conflict):
    code = "already_reversed"
    default_message = _("This operation has already been reversed.")


class ReversalNotPossible(Conflict):
    code = "reversal_not_possible"
    default_message = _("This operation cannot be reversed: its bonuses are already used.")


class AccountNotLocked(RuntimeError):
    """A programming error: ledger writes must run on accounts from locks.lock_accounts()."""


class AccountNotFound(NotFound):
    code = "account_not_found"
    default_message = _("Bonus account not found.")

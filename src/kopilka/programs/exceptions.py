"""Errors of programs, enrolment and the balances changed or imported by hand."""

from __future__ import annotations

from datetime import date

from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kopilka import bounds, numfmt
from kopilka.errors import AboveMaximum, KopilkaError, NotFound, ValidationFailed


class ProgramNotFound(NotFound):
    code = "program_not_found"
    default_message = _("Loyalty program not found.")


class ProgramInactive(KopilkaError):
    code = "program_inactive"
    status = 409
    default_message = _("The loyalty program is not active.")


class InvalidProgram(ValidationFailed):
    code = "invalid_program"
    default_message = _("The program settings are not valid.")


class InvalidAccrualRule(InvalidProgram):
    code = "invalid_accrual_rule"
    default_message = _("The accrual rule is not valid.")


class InvalidLevel(InvalidProgram):
    code = "invalid_level"
    default_message = _("The level settings are not valid.")


class InvalidCampaign(InvalidProgram):
    code = "invalid_campaign"
    default_message = _("The campaign settings are not valid.")


class CampaignsCollide(InvalidCampaign):
    """Two campaigns the engine could only order by their ids (an exclusive one at the same
    priority as another running at the same time and place)."""

    code = "campaigns_collide"
    default_message = _("The campaign collides with another one.")


class ArchivedConfiguration(InvalidProgram):
    code = "archived"
    default_message = _("This was switched off: switch it on again first.")


class NoProgram(KopilkaError):
    code = "no_program"
    status = 409
    default_message = _("There is no enabled bonus program to open an account in.")


class AdjustNotAllowed(KopilkaError):
    code = "adjust_not_allowed"
    status = 403
    default_message = _("Your role may not change balances by hand.")


class AdjustLimitExceeded(KopilkaError):
    code = "adjust_limit_exceeded"
    status = 403
    default_message = _("The amount is above the limit of your role for one operation.")


class NoAccountToDebit(KopilkaError):
    code = "no_account_to_debit"
    status = 409
    default_message = _(
        "The customer has no bonus account in their program yet: there is nothing to debit."
    )


class OpeningBalanceTooLarge(AboveMaximum):
    """An imported opening balance above kopilka.bounds.MAX_OPENING_BALANCE."""

    @classmethod
    def of(cls, amount: int) -> OpeningBalanceTooLarge:
        maximum = bounds.MAX_OPENING_BALANCE
        message = gettext("An opening balance is at most %(maximum)s.") % {
            "maximum": numfmt.points(maximum)
        }
        return cls(message, field="opening_balance", maximum=maximum, value=amount)


class ExpiryInPast(ValidationFailed):
    code = "expiry_in_past"
    default_message = _("The expiry date is in the past.")

    @classmethod
    def of(cls, day: date) -> ExpiryInPast:
        message = gettext("The expiry date %(date)s is in the past.") % {
            "date": date_format(day, "SHORT_DATE_FORMAT")
        }
        return cls(message, field="expires_on", value=day.isoformat())

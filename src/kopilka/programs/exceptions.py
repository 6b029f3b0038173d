"""Errors of programs."""

from django.utils.translation import gettext_lazy as _

from kopilka.errors import KopilkaError, NotFound, ValidationFailed


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

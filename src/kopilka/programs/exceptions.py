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

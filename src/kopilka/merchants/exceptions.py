"""Errors of tenancy and staff."""

from django.utils.translation import gettext_lazy as _

from kopilka.errors import KopilkaError


class InvalidApiKey(KopilkaError):
    code = "invalid_api_key"
    status = 401
    default_message = _("The register API key is missing, wrong or revoked.")

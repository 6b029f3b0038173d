"""Errors of the POS layer."""

from django.utils.translation import gettext_lazy as _

from kopilka.errors import NotFound


class ReceiptNotFound(NotFound):
    code = "receipt_not_found"
    default_message = _("Receipt not found.")

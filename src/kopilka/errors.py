"""Typed domain errors with stable machine codes; the API maps them to problem documents."""

from django.utils.translation import gettext_lazy as _


class KopilkaError(Exception):
    """Base of every error a user can cause. `code` is stable; `message` is translatable."""

    code = "error"
    status = 400
    default_message = _("The request cannot be processed.")

    def __init__(self, message=None, **details):
        self.message = message if message is not None else self.default_message
        self.details = details
        super().__init__(str(self.message))


class NotFound(KopilkaError):
    code = "not_found"
    status = 404
    default_message = _("Not found.")


class ValidationFailed(KopilkaError):
    code = "validation_error"
    status = 422
    default_message = _("The data is not valid.")


class Conflict(KopilkaError):
    code = "conflict"
    status = 409
    default_message = _("The request conflicts with the current state.")


class AboveMaximum(ValidationFailed):
    """A figure above its documented maximum (`kopilka.bounds`). The details name the
    `field` and give the `maximum` in the field's own units (kopecks, units, lines)."""

    code = "above_maximum"
    default_message = _("A figure is above its maximum.")

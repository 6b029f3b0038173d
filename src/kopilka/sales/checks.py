"""System checks of the till side's settings (`kopilka check`, and every `runserver`)."""

from django.conf import settings
from django.core.checks import Warning, register

from .notifications import DEFAULT_BACKEND, backend_path


@register()
def codes_reach_customers(app_configs=None, **kwargs):
    """Without debug, a server whose one-time codes only go to the log confirms nobody."""
    if settings.DEBUG or backend_path() != DEFAULT_BACKEND:
        return []
    return [
        Warning(
            "One-time codes are only written to the log: customers of programs that require "
            "confirmation never get them.",
            hint="Set KOPILKA_NOTIFICATION_BACKEND to kopilka.sales.notifications.WebhookBackend "
            "(with KOPILKA_NOTIFICATION_WEBHOOK_URL) or kopilka.sales.notifications.EmailBackend.",
            id="kopilka.W001",
        )
    ]

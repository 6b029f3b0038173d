from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "kopilka.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self):
        from . import checks  # noqa: F401  (registers the system checks)

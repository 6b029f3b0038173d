from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PosConfig(AppConfig):
    name = "kopilka.pos"
    label = "pos"
    verbose_name = _("Pos")

    def ready(self):
        from . import checks  # noqa: F401  (registers the system checks)

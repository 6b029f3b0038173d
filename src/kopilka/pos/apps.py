from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PosConfig(AppConfig):
    """The POS API: routers, request authentication by register key, problem documents. Its
    migrations keep the history of the tables that now belong to `sales`."""

    name = "kopilka.pos"
    label = "pos"
    verbose_name = _("Pos")

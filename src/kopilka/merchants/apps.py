from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class MerchantsConfig(AppConfig):
    name = "kopilka.merchants"
    label = "merchants"
    verbose_name = _("Merchants")

    def ready(self) -> None:
        from .roles import sync_role_groups

        post_migrate.connect(sync_role_groups, dispatch_uid="kopilka.sync_role_groups")

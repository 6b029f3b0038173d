"""Loyalty programs of a merchant. (Levels, accrual rules and campaigns join here later.)"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from kopilka.merchants.models import Merchant


class Program(models.Model):
    class Kind(models.TextChoices):
        BONUS = "bonus", _("bonus points")
        ACCUMULATIVE_DISCOUNT = "accumulative_discount", _("accumulative discount")
        FIXED_DISCOUNT = "fixed_discount", _("fixed discount")

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="programs")
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices, default=Kind.BONUS)
    enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        verbose_name = _("program")
        verbose_name_plural = _("programs")

    def __str__(self) -> str:
        return self.name

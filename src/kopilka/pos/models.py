"""Receipts booked through the POS API. (Lines, refunds and idempotency records join here later.)"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from kopilka.customers.models import Customer
from kopilka.merchants.models import Merchant, Register, Store


class Receipt(models.Model):
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="receipts")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+")
    register = models.ForeignKey(Register, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="receipts"
    )
    external_number = models.CharField(_("receipt number"), max_length=64)
    occurred_at = models.DateTimeField(_("occurred at"))
    total = models.BigIntegerField(_("total, minor units"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        constraints = [
            models.UniqueConstraint(
                fields=["register", "external_number"], name="receipt_number_unique"
            ),
        ]
        indexes = [models.Index(fields=["merchant", "occurred_at"])]

    def __str__(self) -> str:
        return self.external_number

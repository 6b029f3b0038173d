"""Daily rollups the reports read: sales per store and bonus movements per store, program and
kind, one row per merchant-local day. Rebuilt from the raw rows by `reports.rollups`; never
edited by hand, so the back office shows them read-only."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from kopilka.merchants.models import Merchant, Store


class DailySales(models.Model):
    """A store's sales on one day (merchant time zone): confirmed sale receipts and refunds.

    "Card" receipts name a customer; "new" ones are receipts of customers on the day of their
    first purchase (their later receipts, even in the same week, count as returning)."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("day"))
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")
    receipts = models.BigIntegerField(_("receipts"), default=0)
    revenue = models.BigIntegerField(_("revenue"), default=0)
    discount = models.BigIntegerField(_("discount"), default=0)
    bonus_paid = models.BigIntegerField(_("paid with bonuses"), default=0)
    card_receipts = models.BigIntegerField(_("receipts with a card"), default=0)
    card_revenue = models.BigIntegerField(_("revenue with a card"), default=0)
    new_customers = models.BigIntegerField(_("new customers"), default=0)
    new_receipts = models.BigIntegerField(_("receipts of new customers"), default=0)
    new_revenue = models.BigIntegerField(_("revenue of new customers"), default=0)
    refunds = models.BigIntegerField(_("refunds"), default=0)
    refunded = models.BigIntegerField(_("refunded amount"), default=0)

    class Meta:
        verbose_name = _("daily sales")
        verbose_name_plural = _("daily sales")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "day", "store"], name="daily_sales_unique")
        ]

    def __str__(self) -> str:
        return f"{self.day} store {self.store_id}: {self.receipts} receipts"


class DailyBonus(models.Model):
    """The sum of ledger entries of one kind on one day, per store (None: not from a receipt,
    e.g. expiry or a manual credit) and program. Signed like the entries: credits positive."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("day"))
    store = models.ForeignKey(
        Store, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    program_id = models.BigIntegerField(_("program"))
    kind = models.CharField(_("kind"), max_length=16)
    amount = models.BigIntegerField(_("amount"), default=0)
    entries = models.BigIntegerField(_("entries"), default=0)
    # Receipts among the entries: for spends, how many purchases were paid with bonuses (one
    # receipt's spend is several entries when it takes points from several lots).
    receipts = models.BigIntegerField(_("receipts"), default=0)

    class Meta:
        verbose_name = _("daily bonus movement")
        verbose_name_plural = _("daily bonus movements")
        indexes = [models.Index(fields=["merchant", "day"])]

    def __str__(self) -> str:
        return f"{self.day} {self.kind}: {self.amount}"


class RollupState(models.Model):
    """How far the rollups of a merchant have read: rows with larger ids are new since."""

    merchant = models.OneToOneField(
        Merchant, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    receipts_done = models.BigIntegerField(default=0)
    entries_done = models.BigIntegerField(default=0)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"rollups of merchant {self.merchant_id} as of {self.refreshed_at}"

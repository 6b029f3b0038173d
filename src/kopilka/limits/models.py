"""Counters of the rate limits (`limits.ratelimit`), and the safe operations' day counters and
alerts (`limits.services`)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RateCounter(models.Model):
    """Requests counted in one fixed time window for one bucket ("identify:register:7").

    Kept in the database so that every worker process shares the same counts. Windows are
    integer seconds since the epoch: the counter is bumped by one upsert statement.
    """

    key = models.CharField(max_length=150)
    window_start = models.BigIntegerField()
    window_end = models.BigIntegerField(db_index=True)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "pos_ratecounter"  # where it was born, in the POS API's app
        constraints = [
            models.UniqueConstraint(fields=["key", "window_start"], name="rate_counter_window")
        ]

    def __str__(self) -> str:
        return f"{self.key}@{self.window_start}: {self.count}"


class LimitUsage(models.Model):
    """What one subject (a card, register, cashier or staff member) moved today under one
    safe-operations limit (`limits.safe`), bumped by one upsert in the booking's transaction:
    the row's lock makes two tills wait for each other instead of passing a limit together."""

    merchant = models.ForeignKey(
        "merchants.Merchant", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    name = models.CharField(max_length=40)  # the limit: "accrual:card"
    subject = models.CharField(max_length=150)
    day = models.DateField()  # the merchant's day
    amount = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "name", "subject", "day"], name="limit_usage_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.subject} {self.day}: {self.amount}"


class LimitAlert(models.Model):
    """A movement that crossed a soft threshold, was refused at a hard one, or matched a
    pattern of abuse: what the owner reviews, with the receipt and people behind it."""

    class Kind(models.TextChoices):
        SOFT = "soft", _("threshold passed")
        REFUSED = "refused", _("refused")
        PATTERN = "pattern", _("suspicious pattern")

    merchant = models.ForeignKey(
        "merchants.Merchant",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        verbose_name=_("merchant"),
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    rule = models.CharField(_("limit or pattern"), max_length=40)
    subject = models.CharField(_("subject"), max_length=150, blank=True)
    amount = models.BigIntegerField(_("amount"), null=True, blank=True)
    total = models.BigIntegerField(_("total"), null=True, blank=True)
    threshold = models.BigIntegerField(_("threshold"), null=True, blank=True)
    receipt = models.ForeignKey(
        "sales.Receipt",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("receipt"),
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer"),
    )
    register = models.ForeignKey(
        "merchants.Register",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("register"),
    )
    cashier = models.CharField(_("cashier"), max_length=150, blank=True)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("staff member"),
    )
    # A pattern is flagged once per customer and hour, a day's threshold once per day.
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("safe operations alert")
        verbose_name_plural = _("safe operations alerts")
        indexes = [models.Index(fields=["merchant", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.rule}"

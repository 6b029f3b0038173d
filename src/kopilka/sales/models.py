"""Receipts (sales and refunds), their lines, idempotency keys and one-time codes: the till's
domain, below every face (the POS API, the cashier screen, the back office). The tables keep
the names they were born with in the POS API's app."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kopilka.catalog.models import Product
from kopilka.customers.models import Customer
from kopilka.merchants.models import Merchant, Register, Store
from kopilka.programs.models import Program


class Receipt(models.Model):
    """A confirmed sale or a refund of one. Money in kopecks; a refund's figures are what it
    gave back (positive numbers)."""

    class Kind(models.TextChoices):
        SALE = "sale", _("sale")
        REFUND = "refund", _("refund")

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("confirmed")
        HELD = "held", _("bonuses held, awaiting capture")
        VOIDED = "voided", _("voided")

    class Channel(models.TextChoices):
        POS = "pos", _("till")
        ONLINE = "online", _("online")

    # No index of their own where a composite index or unique constraint leads with the
    # column (Meta): every sale writes each index of its receipt and of each line.
    merchant = models.ForeignKey(
        Merchant,
        on_delete=models.PROTECT,
        related_name="receipts",
        db_index=False,
        verbose_name=_("merchant"),
    )
    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, related_name="+", verbose_name=_("store")
    )
    register = models.ForeignKey(
        Register,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("register"),
    )
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="receipts",
        db_index=False,
        verbose_name=_("customer"),
    )
    program = models.ForeignKey(
        Program,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("program"),
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.SALE)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.CONFIRMED
    )
    channel = models.CharField(
        _("channel"), max_length=8, choices=Channel.choices, default=Channel.POS
    )
    # Who sold, as the till names them (the cashier screen: the staff member's user name);
    # safe operations count per cashier.
    cashier = models.CharField(_("cashier"), max_length=150, blank=True, default="")
    refund_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="refunds",
        verbose_name=_("refund of"),
    )
    external_number = models.CharField(_("receipt number"), max_length=64)
    occurred_at = models.DateTimeField(_("occurred at"))
    offline = models.BooleanField(_("sent after the fact (offline)"), default=False)
    subtotal = models.BigIntegerField(_("purchase sum"), default=0)
    discount = models.BigIntegerField(_("discount"), default=0)
    bonus_spent = models.BigIntegerField(_("paid with bonuses"), default=0)
    to_pay = models.BigIntegerField(_("paid with money"), default=0)
    accrued = models.BigIntegerField(_("bonuses accrued"), default=0)
    campaign_bonus = models.BigIntegerField(_("campaign bonus"), default=0)
    # When the accrual's lot opens and closes; kept so a held receipt credits it at capture.
    accrual_available_from = models.DateTimeField(
        null=True, blank=True, verbose_name=_("bonuses available from")
    )
    accrual_expires_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("bonuses expire at")
    )
    clawed_back = models.BigIntegerField(_("bonuses clawed back"), default=0)
    clawback_shortfall = models.BigIntegerField(_("clawback not covered by balance"), default=0)
    returned = models.BigIntegerField(_("spent bonuses returned"), default=0)
    payments = models.JSONField(_("payments"), default=list, blank=True)
    reasons = models.JSONField(default=list, blank=True, verbose_name=_("reasons"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        db_table = "pos_receipt"  # born in the POS API's app
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        constraints = [
            models.UniqueConstraint(
                fields=["register", "kind", "external_number"], name="receipt_number_unique"
            ),
            models.CheckConstraint(
                condition=Q(kind="sale", refund_of__isnull=True)
                | Q(kind="refund", refund_of__isnull=False),
                name="receipt_refund_has_origin",
            ),
        ]
        indexes = [
            models.Index(fields=["merchant", "occurred_at"]),
            models.Index(fields=["customer", "occurred_at"]),
            # The safe operations' "anonymous receipts, then one card" pattern counts a
            # register's recent anonymous sales; only those sales write this index.
            models.Index(
                fields=["register", "occurred_at"],
                condition=Q(customer__isnull=True),
                name="receipt_anonymous_recent",
            ),
        ]

    def __str__(self) -> str:
        return self.external_number


class ReceiptLine(models.Model):
    # Indexed by receipt_line_unique (receipt, line_no).
    receipt = models.ForeignKey(
        Receipt,
        on_delete=models.CASCADE,
        related_name="lines",
        db_index=False,
        verbose_name=_("receipt"),
    )
    line_no = models.PositiveIntegerField(_("line"))
    product = models.ForeignKey(
        Product,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("product"),
    )
    sku = models.CharField(_("SKU"), max_length=64)
    name = models.CharField(_("name"), max_length=300, blank=True)
    qty = models.DecimalField(_("quantity"), max_digits=14, decimal_places=3)
    unit_price = models.BigIntegerField(_("unit price"))
    pos_discount = models.BigIntegerField(_("till discount"), default=0)
    amount = models.BigIntegerField(_("amount"))
    discount = models.BigIntegerField(_("discount"), default=0)
    bonus_spent = models.BigIntegerField(_("paid with bonuses"), default=0)
    accrued = models.BigIntegerField(_("bonuses accrued"), default=0)
    no_accrual = models.BooleanField(default=False, verbose_name=_("no bonus accrual"))
    no_discount = models.BooleanField(default=False, verbose_name=_("no discounts"))
    no_bonus_payment = models.BooleanField(default=False, verbose_name=_("no payment by bonuses"))
    reasons = models.JSONField(default=list, blank=True, verbose_name=_("reasons"))
    refunds_line = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="refund_lines",
        verbose_name=_("refunds line"),
    )

    class Meta:
        db_table = "pos_receiptline"  # born in the POS API's app
        verbose_name = _("receipt line")
        verbose_name_plural = _("receipt lines")
        constraints = [
            models.UniqueConstraint(fields=["receipt", "line_no"], name="receipt_line_unique"),
            models.CheckConstraint(condition=Q(qty__gt=0), name="receipt_line_qty_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.line_no}. {self.sku}"


class IdempotencyRecord(models.Model):
    """The first response to a key, replayed for every retry with the same request."""

    # Indexed by idempotency_key_unique (register, key).
    register = models.ForeignKey(
        Register, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    key = models.CharField(max_length=128)
    operation = models.CharField(max_length=32)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(default=0)
    response_body = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "pos_idempotencyrecord"  # born in the POS API's app
        constraints = [
            models.UniqueConstraint(fields=["register", "key"], name="idempotency_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.operation} {self.key}"


class OneTimeCode(models.Model):
    """The one-time code that confirms a customer registered at a till. Only a keyed hash of
    the code is kept; one live code per customer and purpose (a resend replaces it)."""

    class Purpose(models.TextChoices):
        CONFIRM = "confirm", _("confirm registration")

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    purpose = models.CharField(max_length=16, choices=Purpose.choices, default=Purpose.CONFIRM)
    channel = models.CharField(max_length=16)
    salt = models.CharField(max_length=32)
    code_hash = models.CharField(max_length=64)
    attempts_left = models.PositiveSmallIntegerField()
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField()

    class Meta:
        db_table = "pos_onetimecode"  # born in the POS API's app
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "purpose"], name="one_time_code_per_customer"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} code of customer {self.customer_id}"

"""Tenancy: the merchant (tenant), its stores and registers, its staff and the audit trail."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Merchant(models.Model):
    name = models.CharField(_("name"), max_length=200)
    currency = models.CharField(_("currency"), max_length=3, default="RUB")
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Moscow")
    phone_region = models.CharField(_("phone region"), max_length=2, default="RU")
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default="ru"
    )
    # Off by default: a message about points is marketing in many places, so the merchant
    # decides. Only customers who consented to marketing get one (pos.reminders).
    expiry_reminders = models.BooleanField(
        _("remind customers before their bonuses expire"),
        default=False,
        help_text=_(
            "An SMS or e-mail, through the one-time code gateway, to customers who agreed to "
            "receive messages, a few days before their bonuses burn."
        ),
    )
    plan_name = models.CharField(_("plan"), max_length=50, default="unlimited")
    customer_limit = models.PositiveIntegerField(
        _("customer limit"), null=True, blank=True, help_text=_("Empty means unlimited.")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("merchant")
        verbose_name_plural = _("merchants")

    def __str__(self) -> str:
        return self.name


class Store(models.Model):
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="stores")
    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=300, blank=True)
    accepts_bonus_payment = models.BooleanField(_("accepts payment by bonuses"), default=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "name"], name="store_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Register(models.Model):
    """A till. It authenticates with an API key of which only a hash is kept."""

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="registers")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="registers")
    name = models.CharField(_("name"), max_length=200)
    key_prefix = models.CharField(_("key prefix"), max_length=16, blank=True, db_index=True)
    key_hash = models.CharField(max_length=64, blank=True, editable=False)
    key_issued_at = models.DateTimeField(_("key issued at"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("register")
        verbose_name_plural = _("registers")
        constraints = [
            models.UniqueConstraint(fields=["store", "name"], name="register_name_unique")
        ]

    def __str__(self) -> str:
        return f"{self.store} / {self.name}"


class Role(models.TextChoices):
    OWNER = "owner", _("owner")
    ADMIN = "admin", _("administrator")
    MARKETER = "marketer", _("marketer")
    CASHIER = "cashier", _("cashier")
    AUDITOR = "auditor", _("auditor")


class StaffMember(models.Model):
    """Ties a Django user to exactly one merchant with one role (mirrored as a Django group)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff"
    )
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="staff")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"


class AuditEvent(models.Model):
    """Who did what, when and why. Written in the same transaction as the change it records."""

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="+")
    actor = models.CharField(_("actor"), max_length=200)
    action = models.CharField(_("action"), max_length=64)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    reason = models.TextField(_("reason"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [models.Index(fields=["merchant", "object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}#{self.object_id} by {self.actor}"


class OutboxEvent(models.Model):
    """A notification waiting to be sent (by a sender outside the transaction that wrote it).

    Written in the same transaction as what it reports; `dedupe_key` makes a job that runs
    twice write the event once. A sender picks rows with `sent_at` empty and sets it.
    """

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=64)
    customer_id = models.BigIntegerField(_("customer"), null=True, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    dedupe_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # Plumbing for senders, not a back-office screen: no translated names of its own.
        indexes = [models.Index(fields=["merchant", "sent_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.dedupe_key}"

"""Tenancy: the merchant (tenant), its stores and registers, its staff and the audit trail."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
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
    # decides. Only customers who consented to marketing get one (sales.reminders).
    expiry_reminders = models.BooleanField(
        _("remind customers before their bonuses expire"),
        default=False,
        help_text=_(
            "An SMS or e-mail, through the one-time code gateway, to customers who agreed to "
            "receive messages, a few days before their bonuses burn."
        ),
    )
    # The safe operations' limits and patterns as `limits.safe.stored_form` writes them;
    # empty: `limits.safe.DEFAULTS`. Loaded with the register on every till request.
    safe_operations = models.JSONField(_("safe operations"), default=dict, blank=True)
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
    merchant = models.ForeignKey(
        Merchant, on_delete=models.PROTECT, related_name="stores", verbose_name=_("merchant")
    )
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

    merchant = models.ForeignKey(
        Merchant, on_delete=models.PROTECT, related_name="registers", verbose_name=_("merchant")
    )
    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, related_name="registers", verbose_name=_("store")
    )
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
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="staff",
        verbose_name=_("user"),
    )
    merchant = models.ForeignKey(
        Merchant, on_delete=models.PROTECT, related_name="staff", verbose_name=_("merchant")
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"


class AuditAction(models.TextChoices):
    """What an audit event records: one value per kind of change, written by the service that
    makes the change (merchants.services.audit_record). The stored values are the strings the
    trail always had, so old rows read the same."""

    MERCHANT_CREATE = "merchant.create", _("merchant created")
    MERCHANT_UPDATE = "merchant.update", _("merchant changed")
    STORE_CREATE = "store.create", _("store created")
    STORE_UPDATE = "store.update", _("store changed")
    REGISTER_CREATE = "register.create", _("register created")
    REGISTER_UPDATE = "register.update", _("register changed")
    REGISTER_KEY_ISSUE = "register.key_issue", _("register API key issued")
    REGISTER_KEY_REVOKE = "register.key_revoke", _("register API key revoked")
    STAFF_CREATE = "staff.create", _("staff member added")
    STAFF_UPDATE = "staff.update", _("staff member changed")
    CUSTOMER_REGISTER = "customer.register", _("customer registered")
    CUSTOMER_UPDATE = "customer.update", _("customer changed")
    CUSTOMER_CONFIRM = "customer.confirm", _("customer confirmed")
    CUSTOMER_BLOCK = "customer.block", _("customer blocked")
    CUSTOMER_UNBLOCK = "customer.unblock", _("customer unblocked")
    CUSTOMER_ANONYMISE = "customer.anonymise", _("customer anonymised")
    CUSTOMER_SET_GROUPS = "customer.set_groups", _("customer's groups set")
    CARD_ISSUE = "card.issue", _("card issued")
    CARD_STOCK = "card.stock", _("cards added to stock")
    CARD_ASSIGN = "card.assign", _("card assigned")
    CARD_BLOCK = "card.block", _("card blocked")
    CARD_UNBLOCK = "card.unblock", _("card unblocked")
    CARD_REGENERATE_SECRET = "card.regenerate_secret", _("card secret code regenerated")
    CARD_REISSUE = "card.reissue", _("card reissued")
    CARD_TYPE_CREATE = "card_type.create", _("card type created")
    CARD_TYPE_UPDATE = "card_type.update", _("card type changed")
    CARD_TYPE_MOVE_CARDS = "card_type.move_cards", _("cards moved to another type")
    GROUP_CREATE = "group.create", _("customer group created")
    GROUP_ADD_CUSTOMERS = "group.add_customers", _("customers added to a group")
    GROUP_REMOVE_CUSTOMERS = "group.remove_customers", _("customers removed from a group")
    ACCOUNT_OPEN = "account.open", _("bonus account opened")
    ACCOUNT_WELCOME = "account.welcome", _("welcome bonus given")
    LEDGER_MANUAL_ADJUST = "ledger.manual_adjust", _("balance changed by hand")
    LEDGER_BALANCE_IMPORT = "ledger.balance_import", _("opening balance imported")
    LEDGER_REVERSE = "ledger.reverse", _("operation reversed")
    PROGRAM_CREATE = "program.create", _("program created")
    PROGRAM_UPDATE = "program.update", _("program changed")
    PROGRAM_ACCRUAL_RULE_SET = "program.accrual_rule_set", _("accrual rule set")
    PROGRAM_ACCRUAL_RULE_SWITCH_ON = "program.accrual_rule_switch_on", _("accrual rule switched on")
    PROGRAM_ACCRUAL_RULE_SWITCH_OFF = (
        "program.accrual_rule_switch_off",
        _("accrual rule switched off"),
    )
    PROGRAM_ACCRUAL_RULE_DELETE = "program.accrual_rule_delete", _("accrual rule removed")
    PROGRAM_SEGMENT_CAP = "program.segment_cap", _("segment cap set")
    PROGRAM_SEGMENT_CAP_REMOVE = "program.segment_cap_remove", _("segment cap removed")
    PROGRAM_DISCOUNT_STEPS = "program.discount_steps", _("discount steps set")
    PROGRAM_BALANCES_FOLLOW = "program.balances_follow", _("balances moved to another program")
    PROGRAM_FROM_TEMPLATE = "program.from_template", _("program made from a template")
    LEVEL_CREATE = "level.create", _("level created")
    LEVEL_UPDATE = "level.update", _("level changed")
    LEVEL_SWITCH_ON = "level.switch_on", _("level switched on")
    LEVEL_SWITCH_OFF = "level.switch_off", _("level switched off")
    LEVEL_REMOVE = "level.remove", _("level removed")
    LEVEL_ASSIGN = "level.assign", _("level assigned by hand")
    LEVEL_ASSIGNMENT_END = "level.assignment_end", _("level assignment ended")
    CAMPAIGN_CREATE = "campaign.create", _("campaign created")
    CAMPAIGN_UPDATE = "campaign.update", _("campaign changed")
    CAMPAIGN_SWITCH_ON = "campaign.switch_on", _("campaign switched on")
    CAMPAIGN_SWITCH_OFF = "campaign.switch_off", _("campaign switched off")
    CAMPAIGN_REMOVE = "campaign.remove", _("campaign removed")
    CATEGORY_CREATE = "category.create", _("category created")
    CATEGORY_UPDATE = "category.update", _("category changed")
    CATEGORY_MOVE = "category.move", _("category moved")
    CATEGORY_SET_FLAG = "category.set_flag", _("categories' flag set")
    PRODUCT_CREATE = "product.create", _("product created")
    PRODUCT_AUTO_CREATE = "product.auto_create", _("product created from a receipt")
    PRODUCT_UPDATE = "product.update", _("product changed")
    PRODUCT_SET_FLAG = "product.set_flag", _("products' flag set")
    SEGMENT_CREATE = "segment.create", _("segment created")
    SEGMENT_RENAME = "segment.rename", _("segment renamed")
    SEGMENT_SET_MEMBERS = "segment.set_members", _("segment's members set")
    SAFE_OPERATIONS_SET = "safe_operations.set", _("safe operations' limits set")


class AuditEvent(models.Model):
    """Who did what, when and why. Written in the same transaction as the change it records."""

    merchant = models.ForeignKey(
        Merchant, on_delete=models.PROTECT, related_name="+", verbose_name=_("merchant")
    )
    actor = models.CharField(_("actor"), max_length=200)
    action = models.CharField(_("action"), max_length=64, choices=AuditAction.choices)
    object_type = models.CharField(max_length=64, verbose_name=_("object type"))
    object_id = models.CharField(max_length=64, verbose_name=_("object ID"))
    reason = models.TextField(_("reason"), blank=True)
    data = models.JSONField(default=dict, blank=True, verbose_name=_("details"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [models.Index(fields=["merchant", "object_type", "object_id"])]

    def __str__(self) -> str:
        return gettext("%(action)s: %(object)s, %(actor)s") % {
            "action": self.get_action_display(),
            "object": f"{self.object_type}#{self.object_id}",
            # as people read it when the back office has looked it up (actors.actor_label)
            "actor": getattr(self, "actor_label", None) or self.actor,
        }


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

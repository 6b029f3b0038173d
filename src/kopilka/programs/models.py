"""Loyalty programs of a merchant, their accrual rules, bonus-payment caps and discount steps."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from kopilka import numfmt
from kopilka.catalog.models import Segment
from kopilka.merchants.models import Merchant
from kopilka.rules import burns_before_usable, lot_terms

PERCENT = [MinValueValidator(0), MaxValueValidator(100)]


def percent_field(verbose_name, **kwargs):
    """A percent with three decimals, 0 to 100 (defaults to 0; pass null=True for "unset")."""
    if not kwargs.get("null"):
        kwargs.setdefault("default", 0)
    return models.DecimalField(
        verbose_name, max_digits=6, decimal_places=3, validators=PERCENT, **kwargs
    )


class Program(models.Model):
    class Kind(models.TextChoices):
        BONUS = "bonus", _("bonus points")
        ACCUMULATIVE_DISCOUNT = "accumulative_discount", _("accumulative discount")
        FIXED_DISCOUNT = "fixed_discount", _("fixed discount")
        # Seed 002: "совмещённые системы": a discount and bonuses on the same receipt.
        COMBINED = "combined", _("combined: discount and bonuses")

    class LifetimeStart(models.TextChoices):
        ACCRUAL = "accrual", _("from accrual")
        FREEZE_END = "freeze_end", _("from the end of the freeze")

    class Rounding(models.TextChoices):
        WHOLE = "whole", _("down to whole bonuses")
        KOPECK = "kopeck", _("down to kopecks")

    merchant = models.ForeignKey(
        Merchant, on_delete=models.PROTECT, related_name="programs", verbose_name=_("merchant")
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices, default=Kind.BONUS)
    enabled = models.BooleanField(_("enabled"), default=True)
    active_from = models.DateTimeField(_("active from"), null=True, blank=True)
    active_to = models.DateTimeField(_("active until"), null=True, blank=True)
    terms_url = models.URLField(_("terms and conditions"), blank=True)
    # Where the program works (accrual, discounts, payment by bonuses); elsewhere a receipt
    # gets nothing from it, as outside its period.
    stores = models.ManyToManyField(
        "merchants.Store",
        blank=True,
        related_name="+",
        verbose_name=_("stores"),
        help_text=_("Empty: every store."),
    )
    accrue_on_discounted = models.BooleanField(_("accrue on discounted items"), default=True)
    accrue_when_paid_with_bonuses = models.BooleanField(
        _("accrue on the money part of receipts partly paid with bonuses"), default=True
    )
    return_spent_on_refund = models.BooleanField(_("return spent bonuses on refund"), default=True)
    require_confirmation = models.BooleanField(
        _("require confirmation of new customers"), default=False
    )
    auto_enrol_online = models.BooleanField(_("online buyers join automatically"), default=True)
    require_name = models.BooleanField(_("ask for the name at registration"), default=False)
    require_birthday = models.BooleanField(_("ask for the birthday at registration"), default=False)
    welcome_bonus = models.BigIntegerField(_("welcome bonus, kopecks"), default=0)
    welcome_lifetime_days = models.PositiveIntegerField(
        _("welcome bonus lifetime, days"), null=True, blank=True
    )
    lifetime_days = models.PositiveIntegerField(_("bonus lifetime, days"), null=True, blank=True)
    freeze_days = models.PositiveIntegerField(_("freeze, days"), default=0)
    # Seed 004 counts the lifetime from the accrual (the default of new programs); programs
    # made before this setting keep counting it from the end of the freeze (migration 0008).
    lifetime_start = models.CharField(
        _("bonus lifetime counts"),
        max_length=16,
        choices=LifetimeStart.choices,
        default=LifetimeStart.ACCRUAL,
        help_text=_("Bonuses already accrued keep their burn dates when this changes."),
    )
    max_share_percent = percent_field(_("max share payable by bonuses, %"), default=100)
    spend_whole_bonuses = models.BooleanField(_("spend whole bonuses only"), default=False)
    accrual_rounding = models.CharField(
        _("accrual rounding"), max_length=8, choices=Rounding.choices, default=Rounding.WHOLE
    )
    fixed_discount_percent = percent_field(_("fixed discount, %"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("program")
        verbose_name_plural = _("programs")
        constraints = [
            models.CheckConstraint(condition=Q(welcome_bonus__gte=0), name="welcome_bonus_gte_0"),
            models.CheckConstraint(
                condition=Q(active_to__isnull=True)
                | Q(active_from__isnull=True)
                | Q(active_to__gt=models.F("active_from")),
                name="program_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def lifetime_from_accrual(self) -> bool:
        return self.lifetime_start == self.LifetimeStart.ACCRUAL

    def clean(self):
        # The engine gives a program discount only in discount and combined programs: a
        # figure it would ignore must not be accepted as if it worked.
        if (
            self.kind not in (self.Kind.FIXED_DISCOUNT, self.Kind.COMBINED)
            and self.fixed_discount_percent
        ):
            raise ValidationError(
                {
                    "fixed_discount_percent": _(
                        "Only a fixed discount or combined program gives a fixed discount: "
                        "leave it at 0 or change the kind."
                    )
                }
            )
        if (
            self.pk
            and self.kind == self.Kind.COMBINED
            and self.fixed_discount_percent
            and self.discount_steps.exists()
        ):
            raise ValidationError({"fixed_discount_percent": FIXED_OR_STEPS})
        self._clean_lifetime()
        if (
            self.pk
            and self.kind == self.Kind.BONUS
            and self.levels.filter(
                discount_percent__isnull=False, archived_at__isnull=True
            ).exists()
        ):
            raise ValidationError(
                {"kind": _("Levels of this program give discounts: clear them first.")}
            )

    def _clean_lifetime(self):
        """With the lifetime counted from the accrual, a freeze as long as the lifetime would
        burn the points before they could be spent: refused, for the program and each level
        (a level's own freeze or lifetime replaces the program's)."""
        if not self.lifetime_from_accrual:
            return
        if burns_before_usable(
            freeze_days=self.freeze_days,
            lifetime_days=self.lifetime_days,
            lifetime_from_accrual=True,
        ):
            raise ValidationError(
                {"freeze_days": burns_message(self.freeze_days, self.lifetime_days)}
            )
        if not self.pk:
            return
        for level in self.levels.all():
            freeze, lifetime = lot_terms(self.freeze_days, self.lifetime_days, level)
            if burns_before_usable(
                freeze_days=freeze, lifetime_days=lifetime, lifetime_from_accrual=True
            ):
                raise ValidationError(
                    {
                        "lifetime_start": _("Level %(level)s: %(problem)s")
                        % {"level": level.name, "problem": burns_message(freeze, lifetime)}
                    }
                )


FIXED_OR_STEPS = _(
    "A combined program gives either a fixed discount or accumulative discount steps: "
    "remove the steps or set the fixed discount to 0."
)


def _days(n: int) -> str:
    return ngettext("%(days)s day", "%(days)s days", n) % {"days": n}


def burns_message(freeze_days, lifetime_days) -> str:
    return _(
        "With the lifetime counted from accrual, bonuses would burn before they could be "
        "spent: the freeze (%(freeze)s) must be shorter than the lifetime (%(lifetime)s), or "
        "count the lifetime from the end of the freeze."
    ) % {"freeze": _days(freeze_days or 0), "lifetime": _days(lifetime_days)}


class AccrualRule(models.Model):
    """Cashback percent by receipt-total steps, over the whole receipt or some segments."""

    program = models.ForeignKey(
        Program, on_delete=models.CASCADE, related_name="accrual_rules", verbose_name=_("program")
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    segments = models.ManyToManyField(
        Segment,
        blank=True,
        related_name="+",
        help_text=_("Empty: the whole receipt."),
        verbose_name=_("segments"),
    )
    # Switched off or removed while history refers to it: kept for that history, out of the
    # engine's configuration and of the pickers.
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True, editable=False)
    # Receipts booked before it existed cannot name it (None: made before this was kept).
    created_at = models.DateTimeField(auto_now_add=True, null=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("accrual rule")
        verbose_name_plural = _("accrual rules")

    def __str__(self) -> str:
        return self.name or f"#{self.pk}"


class AccrualStep(models.Model):
    rule = models.ForeignKey(
        AccrualRule, on_delete=models.CASCADE, related_name="steps", verbose_name=_("accrual rule")
    )
    min_receipt_total = models.BigIntegerField(_("from receipt total, kopecks"), default=0)
    percent = percent_field(_("accrual, %"))

    class Meta:
        verbose_name = _("accrual step")
        verbose_name_plural = _("accrual steps")
        constraints = [
            models.UniqueConstraint(fields=["rule", "min_receipt_total"], name="step_unique"),
            models.CheckConstraint(condition=Q(min_receipt_total__gte=0), name="step_min_gte_0"),
        ]

    def __str__(self) -> str:
        return gettext("%(percent)s from %(amount)s") % {
            "percent": numfmt.percent(self.percent),
            "amount": numfmt.money(self.min_receipt_total),
        }


class SegmentCap(models.Model):
    """A segment's own max share payable by bonuses (e.g. tickets 10 %)."""

    program = models.ForeignKey(
        Program, on_delete=models.CASCADE, related_name="segment_caps", verbose_name=_("program")
    )
    segment = models.ForeignKey(
        Segment, on_delete=models.CASCADE, related_name="+", verbose_name=_("segment")
    )
    max_share_percent = percent_field(_("max share payable by bonuses, %"))

    class Meta:
        verbose_name = _("segment cap")
        verbose_name_plural = _("segment caps")
        constraints = [
            models.UniqueConstraint(fields=["program", "segment"], name="segment_cap_unique")
        ]

    def __str__(self) -> str:
        return f"{self.segment}: {self.max_share_percent}%"


class DiscountStep(models.Model):
    """Accumulative discount: `percent` once earlier purchases reach `min_purchase_total`."""

    program = models.ForeignKey(
        Program, on_delete=models.CASCADE, related_name="discount_steps", verbose_name=_("program")
    )
    min_purchase_total = models.BigIntegerField(_("from purchases total, kopecks"), default=0)
    percent = percent_field(_("discount, %"))

    class Meta:
        verbose_name = _("discount step")
        verbose_name_plural = _("discount steps")
        constraints = [
            models.UniqueConstraint(
                fields=["program", "min_purchase_total"], name="discount_step_unique"
            )
        ]

    def __str__(self) -> str:
        return gettext("%(percent)s from %(amount)s") % {
            "percent": numfmt.percent(self.percent),
            "amount": numfmt.money(self.min_purchase_total),
        }


class Level(models.Model):
    """A tier of a program: reached by spend (total and per segment) or by visits within a
    window; it changes cashback, discount, caps, lifetime and freeze while held."""

    program = models.ForeignKey(
        Program, on_delete=models.CASCADE, related_name="levels", verbose_name=_("program")
    )
    name = models.CharField(_("name"), max_length=100)
    priority = models.PositiveSmallIntegerField(_("priority"), help_text=_("1 is the lowest."))
    groups = models.ManyToManyField(
        "customers.Group",
        blank=True,
        related_name="+",
        help_text=_("Empty: every customer."),
        verbose_name=_("groups"),
    )
    window_days = models.PositiveIntegerField(
        _("qualification window, days"), default=0, help_text=_("0: all purchases ever.")
    )
    min_spend = models.BigIntegerField(_("spend threshold, kopecks"), default=0)
    min_visits = models.PositiveIntegerField(_("visits threshold"), default=0)
    cashback_percent = percent_field(_("cashback, %"), null=True, blank=True)
    discount_percent = percent_field(_("discount, %"), null=True, blank=True)
    max_share_percent = percent_field(_("max share payable by bonuses, %"), null=True, blank=True)
    lifetime_days = models.PositiveIntegerField(_("bonus lifetime, days"), null=True, blank=True)
    freeze_days = models.PositiveIntegerField(_("freeze, days"), null=True, blank=True)
    # Switched off or removed while history refers to it: kept for that history, out of the
    # engine's configuration and of the pickers.
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True, editable=False)
    # Receipts booked before it existed cannot name it (None: made before this was kept).
    created_at = models.DateTimeField(auto_now_add=True, null=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("level")
        verbose_name_plural = _("levels")
        constraints = [
            models.UniqueConstraint(
                fields=["program", "priority"],
                condition=Q(archived_at__isnull=True),
                name="level_priority_unique",
            ),
            models.CheckConstraint(condition=Q(min_spend__gte=0), name="level_min_spend_gte_0"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        cached = self._meta.get_field("program").is_cached(self)
        program = self.program if self.program_id or cached else None
        if (
            self.discount_percent is not None
            and program is not None
            and program.kind == Program.Kind.BONUS
        ):
            raise ValidationError(
                {
                    "discount_percent": _(
                        "Levels of a bonus program give cashback, not a discount: a discount "
                        "needs a discount or combined program."
                    )
                }
            )
        if program is not None:
            freeze, lifetime = lot_terms(program.freeze_days, program.lifetime_days, self)
            if burns_before_usable(
                freeze_days=freeze,
                lifetime_days=lifetime,
                lifetime_from_accrual=program.lifetime_from_accrual,
            ):
                field = "freeze_days" if self.freeze_days is not None else "lifetime_days"
                raise ValidationError({field: burns_message(freeze, lifetime)})


class LevelSegment(models.Model):
    """A level's figures for one segment: spend threshold, cashback, max share."""

    level = models.ForeignKey(
        Level, on_delete=models.CASCADE, related_name="segments", verbose_name=_("level")
    )
    segment = models.ForeignKey(
        Segment, on_delete=models.CASCADE, related_name="+", verbose_name=_("segment")
    )
    min_spend = models.BigIntegerField(_("spend threshold, kopecks"), default=0)
    cashback_percent = percent_field(_("cashback, %"), null=True, blank=True)
    max_share_percent = percent_field(_("max share payable by bonuses, %"), null=True, blank=True)

    class Meta:
        verbose_name = _("level segment")
        verbose_name_plural = _("level segments")
        constraints = [
            models.UniqueConstraint(fields=["level", "segment"], name="level_segment_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.level} / {self.segment}"


class LevelAssignment(models.Model):
    """A level given by hand, in force until `until` (None: until revoked)."""

    level = models.ForeignKey(
        Level, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("level")
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="level_assignments",
        verbose_name=_("customer"),
    )
    until = models.DateTimeField(_("until"), null=True, blank=True)
    reason = models.TextField(_("reason"))
    actor = models.CharField(_("actor"), max_length=200)
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("manual level")
        verbose_name_plural = _("manual levels")
        indexes = [models.Index(fields=["customer", "until"])]

    def __str__(self) -> str:
        return f"{self.customer} → {self.level}"


class Campaign(models.Model):
    """A promotion that applies by itself at the till: inside a program or standalone."""

    class Kind(models.TextChoices):
        NTH_FREE = "nth_free", _("N-th item free")
        GIFT = "gift", _("gift for buying a set")
        MULTIPLIER = "multiplier", _("bonus multiplier")
        EXTRA_PERCENT = "extra_percent", _("extra cashback percent")
        FIXED_BONUS = "fixed_bonus", _("fixed bonus for buying something")
        BIRTHDAY = "birthday", _("birthday bonus")

    merchant = models.ForeignKey(
        Merchant, on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("merchant")
    )
    program = models.ForeignKey(
        Program,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="campaigns",
        help_text=_("Empty: a standalone campaign (works for anonymous receipts too)."),
        verbose_name=_("program"),
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    enabled = models.BooleanField(_("enabled"), default=True)
    priority = models.IntegerField(_("priority"), default=0, help_text=_("Higher wins."))
    exclusive = models.BooleanField(_("exclusive (never combined with others)"), default=False)
    starts_at = models.DateTimeField(_("starts at"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    stores = models.ManyToManyField(
        "merchants.Store",
        blank=True,
        related_name="+",
        help_text=_("Empty: every store."),
        verbose_name=_("stores"),
    )
    segment = models.ForeignKey(
        Segment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("segment"),
    )
    groups = models.ManyToManyField(
        "customers.Group",
        blank=True,
        related_name="+",
        help_text=_("Empty: everyone."),
        verbose_name=_("groups"),
    )
    usage_limit = models.PositiveIntegerField(
        _("uses per customer"), null=True, blank=True, help_text=_("Empty: unlimited.")
    )
    n = models.PositiveSmallIntegerField(_("every N-th item"), default=0)
    set_items = models.JSONField(
        _("set to buy"), default=list, blank=True, help_text=_('[{"sku": "A", "qty": 2}, …]')
    )
    gift_sku = models.CharField(_("gift SKU"), max_length=64, blank=True)
    multiplier = models.DecimalField(_("multiplier"), max_digits=6, decimal_places=3, default=1)
    extra_percent = percent_field(_("extra cashback, %"))
    bonus = models.BigIntegerField(_("bonus, kopecks"), default=0)
    min_amount = models.BigIntegerField(_("minimum purchase, kopecks"), default=0)
    bonus_lifetime_days = models.PositiveIntegerField(
        _("bonus lifetime, days"), null=True, blank=True
    )
    days_around = models.PositiveSmallIntegerField(_("days around the birthday"), default=0)
    # Switched off or removed while history refers to it: kept for that history, out of the
    # engine's configuration and of the pickers.
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True, editable=False)
    # Receipts booked before it existed cannot name it (None: made before this was kept).
    created_at = models.DateTimeField(auto_now_add=True, null=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        constraints = [
            models.CheckConstraint(condition=Q(bonus__gte=0), name="campaign_bonus_gte_0"),
            models.CheckConstraint(condition=Q(multiplier__gte=0), name="campaign_mult_gte_0"),
        ]

    def __str__(self) -> str:
        return self.name


class CampaignUse(models.Model):
    """One use of a campaign by a customer (usage limits count these)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="uses")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="campaign_uses"
    )
    receipt = models.ForeignKey(
        "sales.Receipt", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # Birthday bonuses: the year granted, so a birthday is celebrated once a year.
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("campaign use")
        verbose_name_plural = _("campaign uses")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "customer", "year"],
                condition=Q(year__isnull=False),
                name="campaign_use_once_a_year",
            )
        ]
        indexes = [models.Index(fields=["campaign", "customer"])]

    def __str__(self) -> str:
        return f"{self.campaign} / {self.customer}"


class LevelChange(models.Model):
    """A customer's level moved in a program, as `kopilka tick` found it (history, not state:
    the till computes the level itself). The latest row per (program, customer) is the level
    last recorded; `from_level` None: the first record, `to_level` None: no level held."""

    class Reason(models.TextChoices):
        COMPUTED = "computed", _("computed from purchases")
        MANUAL = "manual", _("assigned by hand")

    program = models.ForeignKey(
        Program, on_delete=models.CASCADE, related_name="level_changes", verbose_name=_("program")
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="level_changes",
        verbose_name=_("customer"),
    )
    from_level = models.ForeignKey(
        Level,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("from level"),
    )
    to_level = models.ForeignKey(
        Level,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("to level"),
    )
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)
    reason = models.CharField(_("reason"), max_length=8, choices=Reason.choices)

    class Meta:
        verbose_name = _("level change")
        verbose_name_plural = _("level changes")
        indexes = [models.Index(fields=["program", "customer", "changed_at"])]

    def __str__(self) -> str:
        return f"{self.customer}: {self.from_level} → {self.to_level}"

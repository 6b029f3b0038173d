"""Customers of a merchant, their groups and their loyalty cards."""

from django.db import models
from django.db.models.functions import ExtractDay, ExtractMonth, Right
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kopilka.merchants.models import Merchant


class Group(models.Model):
    merchant = models.ForeignKey(
        Merchant, on_delete=models.PROTECT, related_name="+", verbose_name=_("merchant")
    )
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("customer group")
        verbose_name_plural = _("customer groups")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "name"], name="group_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


# How many trailing digits of the phone `Customer.phone_tail` keeps: the shortest suffix the
# search looks up (customers.selectors.customer_find).
PHONE_TAIL = 4


class Customer(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("awaiting confirmation")
        ACTIVE = "active", _("active")
        BLOCKED = "blocked", _("blocked")

    class Gender(models.TextChoices):
        FEMALE = "f", _("female")
        MALE = "m", _("male")

    # Indexed by the (merchant, ...) indexes of Meta: a sale's UPDATE of the figures writes
    # every index of the row.
    merchant = models.ForeignKey(
        Merchant,
        on_delete=models.PROTECT,
        related_name="customers",
        db_index=False,
        verbose_name=_("merchant"),
    )
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    middle_name = models.CharField(_("middle name"), max_length=100, blank=True)
    # E.164, normalised with the merchant's phone region; empty when unknown.
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    email = models.CharField(_("e-mail"), max_length=254, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, blank=True)
    code_word = models.CharField(_("code word"), max_length=100, blank=True)
    groups = models.ManyToManyField(
        Group, blank=True, related_name="customers", verbose_name=_("groups")
    )
    marketing_consent = models.BooleanField(_("marketing consent"), default=False)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    notes = models.TextField(_("notes"), blank=True)
    # Case-folded "last first middle" (see normalize.name_search_key), kept by the services.
    name_search = models.CharField(max_length=310, blank=True, editable=False)
    anonymised_at = models.DateTimeField(_("anonymised at"), null=True, blank=True)
    created_at = models.DateTimeField(_("registered at"), default=timezone.now)
    # Birthday as month * 100 + day, computed by the database, so "born in March" and
    # "birthday within a week" are range lookups on an index instead of a date function
    # evaluated on every row.
    birthday_md = models.GeneratedField(
        expression=ExtractMonth("birthday") * 100 + ExtractDay("birthday"),
        output_field=models.PositiveSmallIntegerField(),
        db_persist=True,
        verbose_name=_("birthday (month and day)"),
    )
    # The phone's last 4 digits, computed by the database (so every writer keeps it, bulk
    # inserts included): "find by the last digits of the phone" is an equality lookup on
    # customer_phone_tail_idx, then a suffix check on the few rows sharing those 4 digits.
    phone_tail = models.GeneratedField(
        expression=Right("phone", PHONE_TAIL),
        output_field=models.CharField(max_length=PHONE_TAIL),
        db_persist=True,
        verbose_name=_("last digits of the phone"),
    )
    # Figures for filtering and sorting the back-office list without reading receipts or
    # lots; customers.stats owns them (who keeps them current, and how fresh they are).
    visits = models.PositiveIntegerField(_("visits"), default=0, editable=False)
    purchases_total = models.BigIntegerField(_("total spent"), default=0, editable=False)
    last_purchase_at = models.DateTimeField(
        _("last purchase"), null=True, blank=True, editable=False
    )
    balance = models.BigIntegerField(_("bonus balance"), default=0, editable=False)
    balance_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "phone"],
                condition=~models.Q(phone=""),
                name="customer_phone_unique",
            ),
            models.UniqueConstraint(
                fields=["merchant", "email"],
                condition=~models.Q(email=""),
                name="customer_email_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["merchant", "last_name", "first_name"]),
            models.Index(fields=["merchant", "created_at"]),
            # The back-office list sorts by these (the admin adds the id as a tie-breaker),
            # and filters by ranges of them.
            models.Index(fields=["merchant", "purchases_total", "id"], name="customer_spent_idx"),
            models.Index(fields=["merchant", "balance", "id"], name="customer_balance_idx"),
            models.Index(fields=["merchant", "last_purchase_at", "id"], name="customer_seen_idx"),
            models.Index(fields=["merchant", "visits", "id"], name="customer_visits_idx"),
            models.Index(fields=["merchant", "birthday_md", "id"], name="customer_birthday_idx"),
            models.Index(fields=["merchant", "phone_tail"], name="customer_phone_tail_idx"),
        ]

    def __str__(self) -> str:
        name = " ".join(p for p in (self.last_name, self.first_name) if p)
        return name or self.phone or self.email or f"#{self.pk}"


class Card(models.Model):
    class Kind(models.TextChoices):
        PLASTIC = "plastic", _("plastic")
        VIRTUAL = "virtual", _("virtual")

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        BLOCKED = "blocked", _("blocked")
        LOST = "lost", _("lost (reissued)")

    merchant = models.ForeignKey(
        Merchant, on_delete=models.PROTECT, related_name="cards", verbose_name=_("merchant")
    )
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        related_name="cards",
        null=True,
        blank=True,
        verbose_name=_("customer"),
    )
    number = models.CharField(_("number"), max_length=32)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    secret_hash = models.CharField(max_length=128, blank=True, editable=False)
    # The card's series, which decides the customer's program (see CardType). A string
    # reference: CardType is defined below.
    card_type = models.ForeignKey(
        "CardType",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cards",
        verbose_name=_("card type"),
    )
    replaced_by = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("replaced by"),
    )
    issued_at = models.DateTimeField(_("issued at"), auto_now_add=True)

    class Meta:
        verbose_name = _("card")
        verbose_name_plural = _("cards")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "number"], name="card_number_unique")
        ]

    def __str__(self) -> str:
        return self.number


class CardType(models.Model):
    """A series of cards (say, "Silver" and "Gold" plastic) bound to a program.

    A customer whose active card has a type is in that type's program: it decides how the
    customer earns and spends (programs.selectors.program_of_customer). Cards move between
    types, balances included, with customers.card_types.cards_move_to_type.
    """

    merchant = models.ForeignKey(
        Merchant, on_delete=models.PROTECT, related_name="card_types", verbose_name=_("merchant")
    )
    name = models.CharField(_("name"), max_length=100)
    # A string reference: programs depend on customers (levels, campaigns), not the reverse.
    program = models.ForeignKey(
        "programs.Program",
        on_delete=models.PROTECT,
        related_name="card_types",
        verbose_name=_("program"),
    )
    # Virtual cards of this type get numbers starting with these digits (in-store EAN-13
    # range, "29..."); empty: the merchant's default prefix.
    number_prefix = models.CharField(_("virtual card number prefix"), max_length=6, blank=True)
    # The printed plastic series: a plastic card issued without a type whose number starts
    # with these digits gets this type (card_types.card_type_for_number). A merchant's series
    # never overlap (the services refuse one that starts with another), so a number belongs to
    # at most one series; empty: no plastic series.
    plastic_prefix = models.CharField(
        _("plastic card series"),
        max_length=16,
        blank=True,
        help_text=_(
            "The digits the numbers of this type's plastic cards start with, e.g. 2950. "
            "A plastic card registered without a type gets the type of its series."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("card type")
        verbose_name_plural = _("card types")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "name"], name="card_type_name_unique"),
            # Also the index card_type_for_number looks series up by.
            models.UniqueConstraint(
                fields=["merchant", "plastic_prefix"],
                condition=~models.Q(plastic_prefix=""),
                name="card_type_series_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class FiguresRefresh(models.Model):
    """How far `customers.stats.refresh_balances` has caught up with a merchant's ledger."""

    merchant = models.OneToOneField(Merchant, on_delete=models.CASCADE, related_name="+")
    refreshed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.merchant_id}: {self.refreshed_at:%Y-%m-%d %H:%M}"

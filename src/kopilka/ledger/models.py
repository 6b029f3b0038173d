"""The points ledger: accounts, lots, immutable entries, and holds (two-phase reservations).

Every entry is posted against one lot, so for each lot the sum of its entries equals its
`remaining + held`; that per-lot identity is the invariant `kopilka verify-ledger` checks.
Amounts are integers in minor units (1 bonus = 100).
"""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kopilka import numfmt
from kopilka.customers.models import Customer
from kopilka.merchants.models import Merchant
from kopilka.programs.models import Program
from kopilka.sales.models import Receipt


class Account(models.Model):
    """A customer's bonus account in one program. Its balance lives in its lots."""

    merchant = models.ForeignKey(
        Merchant, on_delete=models.PROTECT, related_name="+", verbose_name=_("merchant")
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="accounts", verbose_name=_("customer")
    )
    program = models.ForeignKey(
        Program, on_delete=models.PROTECT, related_name="accounts", verbose_name=_("program")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("bonus account")
        verbose_name_plural = _("bonus accounts")
        constraints = [
            models.UniqueConstraint(fields=["customer", "program"], name="account_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.customer} / {self.program}"


class EntryKind(models.TextChoices):
    ACCRUAL = "accrual", _("accrual")
    WELCOME = "welcome", _("welcome bonus")
    BIRTHDAY = "birthday", _("birthday bonus")
    CAMPAIGN = "campaign", _("campaign bonus")
    MANUAL_CREDIT = "manual_credit", _("manual credit")
    REFUND_RETURN = "refund_return", _("returned on refund")
    SPEND = "spend", _("spent")
    MANUAL_DEBIT = "manual_debit", _("manual debit")
    EXPIRY = "expiry", _("expired")
    REFUND_CLAWBACK = "refund_clawback", _("clawed back on refund")
    CAPTURE = "capture", _("spent (captured hold)")
    CORRECTION = "correction", _("correction (reversal)")
    # A balance moved to another account of the same customer (a card changed its type):
    # out of each lot of the old account, into a lot of the new one with the same dates.
    TRANSFER_OUT = "transfer_out", _("moved to another program")
    TRANSFER_IN = "transfer_in", _("moved from another program")


# Kinds that open a new lot, and kinds that take points out of lots.
CREDIT_KINDS = (
    EntryKind.ACCRUAL,
    EntryKind.WELCOME,
    EntryKind.BIRTHDAY,
    EntryKind.CAMPAIGN,
    EntryKind.MANUAL_CREDIT,
    EntryKind.TRANSFER_IN,
)
DEBIT_KINDS = (
    EntryKind.SPEND,
    EntryKind.MANUAL_DEBIT,
    EntryKind.EXPIRY,
    EntryKind.REFUND_CLAWBACK,
    EntryKind.CAPTURE,
    EntryKind.TRANSFER_OUT,
)


class Lot(models.Model):
    """Points from one credit: spendable from `available_from` until `expires_at` (None: never)."""

    # Every index is paid for on each credit and spend; the composite indexes below serve
    # the lookups by merchant and by account, so the foreign keys get no index of their own.
    merchant = models.ForeignKey(
        Merchant,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("merchant"),
    )
    account = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        related_name="lots",
        db_index=False,
        verbose_name=_("account"),
    )
    kind = models.CharField(max_length=16, choices=EntryKind.choices, verbose_name=_("kind"))
    amount = models.BigIntegerField(_("amount"))
    remaining = models.BigIntegerField(_("remaining"))
    held = models.BigIntegerField(_("held"), default=0)
    available_from = models.DateTimeField(_("available from"))
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # For a transfer_in lot: the lot of the other account its points came from.
    moved_from = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("moved from"),
    )

    class Meta:
        verbose_name = _("lot")
        verbose_name_plural = _("lots")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="lot_amount_positive"),
            models.CheckConstraint(condition=Q(remaining__gte=0), name="lot_remaining_gte_0"),
            models.CheckConstraint(condition=Q(held__gte=0), name="lot_held_gte_0"),
            models.CheckConstraint(
                condition=Q(remaining__lte=models.F("amount") - models.F("held")),
                name="lot_remaining_plus_held_lte_amount",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__isnull=True) | Q(expires_at__gt=models.F("available_from")),
                name="lot_expires_after_available",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "expires_at"]),
            models.Index(fields=["merchant", "expires_at"]),
        ]

    def __str__(self) -> str:
        return gettext("%(kind)s %(amount)s (%(left)s left)") % {
            "kind": self.get_kind_display(),
            "amount": numfmt.points(self.amount),
            "left": numfmt.points(self.remaining),
        }


class Hold(models.Model):
    """A two-phase reservation: points leave `remaining` for `held` until captured or voided."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        CAPTURED = "captured", _("captured")
        VOIDED = "voided", _("voided")
        EXPIRED = "expired", _("expired")

    merchant = models.ForeignKey(
        Merchant, on_delete=models.PROTECT, related_name="+", verbose_name=_("merchant")
    )
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="holds", verbose_name=_("account")
    )
    amount = models.BigIntegerField(_("amount"))
    captured_amount = models.BigIntegerField(_("captured amount"), default=0)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.ACTIVE, verbose_name=_("status")
    )
    receipt = models.ForeignKey(
        Receipt, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("receipt")
    )
    actor = models.CharField(_("actor"), max_length=200)
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    expires_at = models.DateTimeField(_("expires at"))
    closed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("closed at"))

    class Meta:
        verbose_name = _("hold")
        verbose_name_plural = _("holds")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="hold_amount_positive"),
            models.CheckConstraint(
                condition=Q(captured_amount__gte=0, captured_amount__lte=models.F("amount")),
                name="hold_captured_within_amount",
            ),
        ]
        indexes = [models.Index(fields=["status", "expires_at"])]

    def __str__(self) -> str:
        return f"hold {self.amount} ({self.get_status_display()})"


class HoldAllocation(models.Model):
    """How much of a hold came from which lot, so voiding gives the same lots back."""

    hold = models.ForeignKey(Hold, on_delete=models.PROTECT, related_name="allocations")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="hold_allocations")
    amount = models.BigIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="holdalloc_amount_positive"),
            models.UniqueConstraint(fields=["hold", "lot"], name="holdalloc_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} from lot {self.lot_id}"


class Entry(models.Model):
    """One immutable movement of points into or out of one lot.

    Entries of one operation share a `transfer_id`. A reversal posts the opposite amount with
    `reverses` pointing at the original; the one-to-one makes a second reversal impossible.
    """

    merchant = models.ForeignKey(
        Merchant,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        verbose_name=_("merchant"),
    )
    account = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        related_name="entries",
        db_index=False,
        verbose_name=_("account"),
    )
    lot = models.ForeignKey(
        Lot, on_delete=models.PROTECT, related_name="entries", verbose_name=_("lot")
    )
    transfer_id = models.UUIDField(default=uuid.uuid4, db_index=True, verbose_name=_("transfer ID"))
    kind = models.CharField(_("kind"), max_length=16, choices=EntryKind.choices)
    amount = models.BigIntegerField(_("amount"))
    receipt = models.ForeignKey(
        Receipt,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="entries",
        verbose_name=_("receipt"),
    )
    hold = models.ForeignKey(
        Hold,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="entries",
        verbose_name=_("hold"),
    )
    reverses = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversed_by",
        verbose_name=_("reverses"),
    )
    actor = models.CharField(_("actor"), max_length=200)
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind__in=[*CREDIT_KINDS, EntryKind.REFUND_RETURN], amount__gt=0)
                    | Q(kind__in=DEBIT_KINDS, amount__lt=0)
                    | (Q(kind=EntryKind.CORRECTION) & ~Q(amount=0))
                ),
                name="entry_sign_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(kind=EntryKind.CORRECTION) | Q(reverses__isnull=True),
                name="entry_only_corrections_reverse",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "created_at"]),
            models.Index(fields=["merchant", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount:+d}"

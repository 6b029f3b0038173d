"""The ledger's invariants, checked with set-based queries over every account.

Used by `kopilka verify-ledger` and by the tests after every operation.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce

from .models import CREDIT_KINDS, Entry, EntryKind, Hold, Lot


@dataclass(frozen=True)
class Breach:
    rule: str
    object: str
    detail: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.object}: {self.detail}"


def verify_ledger(*, merchant=None, account=None) -> list[Breach]:
    lots = Lot.objects.all()
    entries = Entry.objects.all()
    holds = Hold.objects.all()
    if merchant is not None:
        lots, entries, holds = (q.filter(merchant=merchant) for q in (lots, entries, holds))
    if account is not None:
        lots, entries, holds = (q.filter(account=account) for q in (lots, entries, holds))
    breaches: list[Breach] = []

    def add(rule, rows, detail):
        breaches.extend(Breach(rule, f"{type(row).__name__} {row.pk}", detail(row)) for row in rows)

    add(
        "lot_sum_of_entries",
        lots.annotate(posted=Coalesce(Sum("entries__amount"), 0)).exclude(
            posted=F("remaining") + F("held")
        ),
        lambda lot: f"entries {lot.posted} != remaining {lot.remaining} + held {lot.held}",
    )
    add(
        "lot_held_matches_active_holds",
        lots.annotate(
            holding=Coalesce(
                Sum(
                    "hold_allocations__amount",
                    filter=Q(hold_allocations__hold__status=Hold.Status.ACTIVE),
                ),
                0,
            )
        ).exclude(held=F("holding")),
        lambda lot: f"held {lot.held} != active holds {lot.holding}",
    )
    add(
        "lot_bounds",
        lots.filter(Q(remaining__lt=0) | Q(held__lt=0) | Q(remaining__gt=F("amount") - F("held"))),
        lambda lot: f"amount {lot.amount} remaining {lot.remaining} held {lot.held}",
    )
    add(
        "lot_opened_by_one_credit",
        lots.annotate(
            credits=Count("entries", filter=Q(entries__kind__in=CREDIT_KINDS)),
            credited=Coalesce(Sum("entries__amount", filter=Q(entries__kind__in=CREDIT_KINDS)), 0),
        ).exclude(credits=1, credited=F("amount")),
        lambda lot: f"{lot.credits} credit entries worth {lot.credited} for amount {lot.amount}",
    )
    add(
        "entry_same_account_as_lot",
        entries.filter(
            ~Q(account_id=F("lot__account_id")) | ~Q(merchant_id=F("account__merchant_id"))
        ),
        lambda e: f"entry account {e.account_id} vs lot account",
    )
    add(
        "spend_only_when_available",
        entries.filter(kind__in=[EntryKind.SPEND, EntryKind.MANUAL_DEBIT]).filter(
            Q(created_at__lt=F("lot__available_from")) | Q(created_at__gte=F("lot__expires_at"))
        ),
        lambda e: f"{e.kind} at {e.created_at} outside the lot's life",
    )
    add(
        "reversal_mirrors_original",
        entries.filter(reverses__isnull=False).exclude(
            amount=-F("reverses__amount"), lot_id=F("reverses__lot_id")
        ),
        lambda e: f"reversal {e.amount} of entry {e.reverses_id}",
    )
    add(
        "hold_allocations_add_up",
        holds.annotate(allocated=Coalesce(Sum("allocations__amount"), 0)).exclude(
            allocated=F("amount")
        ),
        lambda h: f"allocations {h.allocated} != amount {h.amount}",
    )
    add(
        "capture_matches_hold",
        holds.filter(status=Hold.Status.CAPTURED)
        .annotate(
            posted=Coalesce(Sum("entries__amount", filter=Q(entries__kind=EntryKind.CAPTURE)), 0)
        )
        .exclude(posted=-F("captured_amount")),
        lambda h: f"capture entries {h.posted} for captured {h.captured_amount}",
    )
    if account is None:
        # Both sides of a transfer together: what left one account arrived in the other.
        # (Filtered to one account, only one side is in view, so the check is skipped.)
        unbalanced = (
            entries.filter(kind__in=[EntryKind.TRANSFER_OUT, EntryKind.TRANSFER_IN])
            .values("transfer_id")
            .annotate(total=Sum("amount"))
            .exclude(total=0)
        )
        breaches.extend(
            Breach("transfer_balanced", f"transfer {row['transfer_id']}", f"sum {row['total']}")
            for row in unbalanced
        )
    return breaches

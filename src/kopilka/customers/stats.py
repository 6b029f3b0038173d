"""Per-customer figures behind the back-office customer list: visits, total spent, last
purchase and a bonus balance snapshot, kept in columns of Customer so the list filters and
sorts on indexes instead of reading receipts and lots for a million customers.

Visits, total spent and last purchase are exact: the sale and refund path updates them in its
own transaction (a sale's `sale_figures`, applied by the sale's own statements in `sales.sql`;
`record_refund`: one UPDATE). A held sale counts when it is captured, never when it is
voided.

The balance is a snapshot, and here is why. A balance lives in lots and depends on time
(points unfreeze, lots expire), so an exact balance filter would have to sum the lots of
every candidate customer on every page: its cost grows with the list. Instead `balance` holds
the customer's unexpired points (available + pending + held, over all their accounts) as of
`balance_at`:

* a sale or refund adds what it credited and subtracts what it debited (same UPDATE);
* every other ledger write (manual adjustments, welcome, birthday and campaign bonuses,
  transfers, captures) and every lot expiry is caught by `refresh_balances`, which
  recomputes the customers whose accounts got entries, or whose lots expired, since its last
  run; both are found through existing indexes (entries by merchant and time, lots by
  merchant and expiry), so it costs what changed, not what exists. `kopilka tick` runs it;
* the back-office card page shows the exact balance (`ledger.selectors.account_balance`)
  and refreshes the snapshot after its own adjustments.

So the list's balance filter is exact up to the last tick for changes outside sales and
refunds. `rebuild` recomputes every figure from receipts and lots (backfill and repair).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, F, Max, Q, Sum
from django.db.models.functions import Coalesce

from kopilka.ledger.models import Entry, Lot
from kopilka.ledger.selectors import points_of_customers
from kopilka.merchants.models import Merchant
from kopilka.sales.models import Receipt

from .models import Customer, FiguresRefresh

BATCH = 1000
# Entries are dated by the writer's clock and commit a moment after it: read a little back
# from the last run so a transaction that committed late is not missed (recomputing a
# customer twice is harmless).
OVERLAP = timedelta(minutes=10)


def _spent(receipt) -> int:
    return receipt.subtotal - receipt.discount


@dataclass(frozen=True, slots=True)
class SaleFigures:
    """What a confirmed sale (or a captured held one) adds to its customer's figures: one
    visit, what was spent, the purchase's moment (the last purchase unless a later one is
    known) and the points it credited less those it paid with."""

    customer_id: int
    spent: int
    occurred_at: datetime
    balance_delta: int


def sale_figures(receipt, *, now: datetime) -> SaleFigures | None:
    """The sale's figures for its customer (None for an anonymous receipt). The sale path
    applies them in its own statements (`sales.sql`), in the receipt's transaction."""
    if receipt.customer_id is None:
        return None
    accrual_credited = receipt.accrual_expires_at is None or receipt.accrual_expires_at > now
    return SaleFigures(
        customer_id=receipt.customer_id,
        spent=_spent(receipt),
        occurred_at=receipt.occurred_at,
        balance_delta=receipt.campaign_bonus
        + (receipt.accrued if accrual_credited else 0)
        - receipt.bonus_spent,
    )


def record_refund(refund) -> None:
    """A refund booked for a known customer: one UPDATE (visits and last purchase stay)."""
    if refund.customer_id is None:
        return
    Customer.objects.filter(pk=refund.customer_id).update(
        purchases_total=F("purchases_total") - _spent(refund),
        balance=F("balance") + refund.returned - refund.clawed_back,
    )


# ---- balances -------------------------------------------------------------------------------


def _set_balances(customer_ids: list[int], now: datetime) -> None:
    totals = points_of_customers(customer_ids, now=now)
    Customer.objects.bulk_update(
        [Customer(pk=pk, balance=totals.get(pk) or 0, balance_at=now) for pk in customer_ids],
        ["balance", "balance_at"],
        batch_size=BATCH,
    )


def refresh_customer_balances(customer_ids: Iterable[int], *, now: datetime) -> None:
    """Recompute these customers' balance snapshots now (after writes made outside sales)."""
    ids = sorted(set(customer_ids))
    for start in range(0, len(ids), BATCH):
        with transaction.atomic():
            _set_balances(ids[start : start + BATCH], now)


def refresh_balances(*, now: datetime, merchant: Merchant | None = None) -> int:
    """Bring every merchant's (or one merchant's) balance snapshots up to `now`: the customers
    whose accounts got entries, or whose lots expired, since the last run. Returns how many
    customers were recomputed. Idempotent; the first run of a merchant recomputes all."""
    merchants = [merchant] if merchant is not None else Merchant.objects.order_by("pk")
    recomputed = 0
    for one in merchants:
        mark = FiguresRefresh.objects.filter(merchant=one).first()
        if mark is None:
            ids = Customer.objects.filter(merchant=one).values_list("pk", flat=True)
        else:
            since = mark.refreshed_at - OVERLAP
            touched = Entry.objects.filter(merchant=one, created_at__gt=since).values_list(
                "account__customer_id", flat=True
            )
            expired = Lot.objects.filter(
                merchant=one, expires_at__gt=since, expires_at__lte=now
            ).values_list("account__customer_id", flat=True)
            ids = {*touched.order_by().distinct(), *expired.order_by().distinct()}
        ids = list(ids)
        refresh_customer_balances(ids, now=now)
        FiguresRefresh.objects.update_or_create(merchant=one, defaults={"refreshed_at": now})
        recomputed += len(ids)
    return recomputed


# ---- rebuild --------------------------------------------------------------------------------


def rebuild(*, merchant: Merchant, now: datetime) -> int:
    """Recompute every figure of the merchant's customers from receipts and lots, in batches
    (backfill for existing data, repair after an incident). Returns the customers done."""
    done, after = 0, 0
    while True:
        ids = list(
            Customer.objects.filter(merchant=merchant, pk__gt=after)
            .order_by("pk")
            .values_list("pk", flat=True)[:BATCH]
        )
        if not ids:
            FiguresRefresh.objects.update_or_create(
                merchant=merchant, defaults={"refreshed_at": now}
            )
            return done
        with transaction.atomic():
            _rebuild_batch(merchant, ids, now)
        done += len(ids)
        after = ids[-1]


def _rebuild_batch(merchant: Merchant, ids: list[int], now: datetime) -> None:
    spent = F("subtotal") - F("discount")
    rows = {
        row["customer_id"]: row
        for row in Receipt.objects.filter(
            merchant=merchant, customer_id__in=ids, status=Receipt.Status.CONFIRMED
        )
        .order_by()
        .values("customer_id")
        .annotate(
            visits=Count("pk", filter=Q(kind=Receipt.Kind.SALE)),
            sales=Coalesce(Sum(spent, filter=Q(kind=Receipt.Kind.SALE)), 0),
            refunds=Coalesce(Sum(spent, filter=Q(kind=Receipt.Kind.REFUND)), 0),
            last=Max("occurred_at", filter=Q(kind=Receipt.Kind.SALE)),
        )
    }
    empty = {"visits": 0, "sales": 0, "refunds": 0, "last": None}
    Customer.objects.bulk_update(
        [
            Customer(
                pk=pk,
                visits=rows.get(pk, empty)["visits"],
                purchases_total=rows.get(pk, empty)["sales"] - rows.get(pk, empty)["refunds"],
                last_purchase_at=rows.get(pk, empty)["last"],
            )
            for pk in ids
        ],
        ["visits", "purchases_total", "last_purchase_at"],
        batch_size=BATCH,
    )
    _set_balances(ids, now)

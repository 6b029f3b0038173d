"""Every figure about bonuses and customers that staff see for a period or at a moment, each
computed by one function here and defined in docs/figures.md. The dashboard, the reports and
their exports read them from here; the simulator's current-program column and the customer
card are checked against them.

Period figures come from the daily rollups for the days they have settled and, by the rollups'
own code, from the raw rows for days still open (today, yesterday, days that late rows touched):
no figure waits for `kopilka tick`, and each is current at the `now` it is asked for. Points
whose expiry has passed but that the tick has not written off yet count as expired on the day
they expired, as the tick will book them: a figure is the same before and after the tick.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Sum

from kopilka.customers.models import Customer
from kopilka.ledger.models import EntryKind, Lot
from kopilka.ledger.selectors import expired_unbooked_before, expiries_due, not_burnt
from kopilka.merchants.models import Merchant

from . import rollups

# How entry kinds add up into the bonus figures. Debits are negative in the ledger and shown
# as positive amounts; "manual" stays signed (credits less debits by hand).
BONUS_GROUPS: dict[str, tuple[str, ...]] = {
    "accrued": (EntryKind.ACCRUAL, EntryKind.CAMPAIGN),
    "gifts": (EntryKind.WELCOME, EntryKind.BIRTHDAY),
    "spent": (EntryKind.SPEND, EntryKind.CAPTURE),
    "expired": (EntryKind.EXPIRY,),
    "returned": (EntryKind.REFUND_RETURN,),
    "clawed_back": (EntryKind.REFUND_CLAWBACK,),
    "manual": (EntryKind.MANUAL_CREDIT, EntryKind.MANUAL_DEBIT),
}
NEGATIVE_GROUPS = {"spent", "expired", "clawed_back"}
GROUP_OF = {kind: group for group, kinds in BONUS_GROUPS.items() for kind in kinds}


def _zone(merchant: Merchant) -> ZoneInfo:
    return ZoneInfo(merchant.time_zone)


# ---- bonuses ----------------------------------------------------------------------------------


@dataclass
class BonusDay:
    day: date
    amounts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    net: int = 0  # every point credited less every point debited that day (all stores)
    payments: int = 0  # receipts paid (partly) with bonuses


def bonus_days(
    *,
    merchant: Merchant,
    start: date,
    end: date,
    now: datetime,
    store_ids: Iterable[int] | None = None,
    program_id: int | None = None,
    open_: set[date] | None = None,
) -> list[BonusDay]:
    """Each local day of [start, end] with its bonus movements by group (as of `now`).
    `open_`: `rollups.open_days` when the caller has read it already."""
    stores = None if store_ids is None else set(store_ids)
    days = {
        start + timedelta(days=n): BonusDay(start + timedelta(days=n))
        for n in range((end - start).days + 1)
    }
    for row in rollups.bonus_rows(merchant, start, end, now, open_):
        if program_id is not None and row.program_id != program_id:
            continue
        target = days[row.day]
        target.net += row.amount
        if stores is not None and row.store_id not in stores:
            continue
        group = GROUP_OF.get(row.kind)
        if group is None:
            continue
        target.amounts[group] += -row.amount if group in NEGATIVE_GROUPS else row.amount
        if group == "spent":
            target.payments += row.receipts
    zone = _zone(merchant)
    lower = rollups.day_bounds(start, zone)[0]
    upper = min(now, rollups.day_bounds(end, zone)[1])
    due = expiries_due(
        merchant=merchant, since=lower, until=upper, zone=zone, program_id=program_id
    )
    for day, points in due.items():
        if day not in days:
            continue
        days[day].net -= points
        if stores is None:  # expiries belong to no store
            days[day].amounts["expired"] += points
    return [days[day] for day in sorted(days)]


def outstanding_before(
    *,
    merchant: Merchant,
    day: date,
    now: datetime,
    program_id: int | None = None,
    open_: set[date] | None = None,
) -> int:
    """The liability when the local `day` began: points customers held, available, frozen or
    held for a payment. Add a day's `net` to carry it to the day's end (or to `now`)."""
    lower = rollups.day_bounds(day, _zone(merchant))[0]
    total = rollups.bonus_net_before(merchant, day, now, program_id, open_)
    return total - expired_unbooked_before(
        merchant=merchant, before=min(now, lower), program_id=program_id
    )


def pending_now(*, merchant: Merchant, now: datetime, program_id: int | None = None) -> int:
    """Of the liability, the points still frozen at `now` (credited, not yet spendable)."""
    lots = Lot.objects.filter(merchant=merchant, remaining__gt=0, available_from__gt=now).filter(
        not_burnt(now)
    )
    if program_id is not None:
        lots = lots.filter(account__program_id=program_id)
    return lots.aggregate(total=Sum("remaining", default=0))["total"]


# ---- sales and customers ----------------------------------------------------------------------

SALES_FIELDS = (
    "receipts",
    "revenue",
    "discount",
    "bonus_paid",
    "card_receipts",
    "card_revenue",
    "new_customers",
    "new_receipts",
    "new_revenue",
    "refunds",
    "refunded",
)


def sales_days(
    *,
    merchant: Merchant,
    start: date,
    end: date,
    now: datetime,
    store_ids: Iterable[int] | None = None,
    open_: set[date] | None = None,
) -> dict[date, dict[str, int]]:
    """Each local day of [start, end] with its sales figures (as of `now`): receipts,
    revenue, receipts with a card, new customers (their first purchase that day), refunds."""
    stores = None if store_ids is None else set(store_ids)
    days = {
        start + timedelta(days=n): dict.fromkeys(SALES_FIELDS, 0)
        for n in range((end - start).days + 1)
    }
    for row in rollups.sales_rows(merchant, start, end, now, open_):
        if stores is not None and row.store_id not in stores:
            continue
        target = days[row.day]
        for name in SALES_FIELDS:
            target[name] += getattr(row, name)
    return days


def customers_registered(*, merchant: Merchant, start: datetime, end: datetime) -> int:
    """Customers who joined (their registration date) within [start, end]."""
    return Customer.objects.filter(
        merchant=merchant, created_at__gte=start, created_at__lte=end
    ).count()


def customers_total(*, merchant: Merchant) -> int:
    """Every customer of the merchant, anonymised ones included (they were customers)."""
    return Customer.objects.filter(merchant=merchant).count()

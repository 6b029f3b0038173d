"""Keeps the daily rollups (reports.models) in step with the raw receipts and ledger entries.

`refresh` rebuilds, from the raw rows, every day touched by rows added since its last run, plus
today and yesterday (held receipts still settle there). Run by `kopilka tick`; idempotent, and
safe twice or in parallel: each day is rebuilt under a lock on the merchant's state row. Rows
still in flight when it runs (created in the last few minutes) are read again next time, so a
transaction that commits late is never skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Count, DateField, Max, Min, Sum, Value
from django.db.models.functions import TruncDate
from django.utils import timezone

from kopilka.ledger.models import Entry
from kopilka.merchants.models import Merchant
from kopilka.sales.models import Receipt

from .models import DailyBonus, DailySales, RollupState

# Rows younger than this may belong to transactions not yet committed (ids are handed out at
# insert, commits land in any order): the watermark stays below them.
SETTLING = timedelta(minutes=5)
# Customers per look-up of first purchases: a day of a busy merchant has tens of thousands of
# buyers, and the dashboard reads today's figures live (an IN list this long still uses the
# customer index on both databases).
CUSTOMERS_CHUNK = 5000
MANY_DAYS = 31
SALE, REFUND, CONFIRMED = Receipt.Kind.SALE, Receipt.Kind.REFUND, Receipt.Status.CONFIRMED


@dataclass
class RefreshResult:
    merchants: int = 0
    days: int = 0


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC-aware [start, end) of a local day (23 or 25 hours long on DST changes)."""
    start = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return start, end


def local_day(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def refresh(*, now: datetime | None = None, merchant: Merchant | None = None) -> RefreshResult:
    """Bring the rollups of one merchant (or all) up to date."""
    now = now or timezone.now()
    result = RefreshResult()
    merchants = [merchant] if merchant is not None else Merchant.objects.order_by("pk")
    for m in merchants:
        result.days += _refresh_merchant(m, now)
        result.merchants += 1
    return result


def _refresh_merchant(merchant: Merchant, now: datetime) -> int:
    tz = ZoneInfo(merchant.time_zone)
    state, _ = RollupState.objects.get_or_create(merchant=merchant)
    settled = now - SETTLING
    receipts_done = _last_settled_id(Receipt, merchant, settled, state.receipts_done)
    entries_done = _last_settled_id(Entry, merchant, settled, state.entries_done)
    days = _dirty_days(merchant, state, tz, now)
    # Rebuilding many days (a first run, a long pause): every customer's first purchase in one
    # pass, rather than looking up each day's customers.
    firsts = _first_purchases(merchant) if len(days) > MANY_DAYS else None
    for day in sorted(days):
        with transaction.atomic():
            RollupState.objects.select_for_update().get(pk=merchant.pk)
            rebuild_day(merchant, day, tz, firsts=firsts)
    with transaction.atomic():
        RollupState.objects.select_for_update().filter(pk=merchant.pk).update(
            receipts_done=receipts_done, entries_done=entries_done, refreshed_at=now
        )
    return len(days)


def _last_settled_id(model, merchant: Merchant, settled: datetime, done: int) -> int:
    """The largest id whose row is older than `settled`, or `done` if none is newer."""
    last = (
        model.objects.filter(merchant=merchant, pk__gt=done, created_at__lt=settled)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    return last if last is not None else done


def _dirty_days(merchant: Merchant, state: RollupState, tz: ZoneInfo, now: datetime) -> set[date]:
    today = local_day(now, tz)
    days = {today, today - timedelta(days=1)}
    spans = [
        _span(Receipt, merchant, "occurred_at", state.receipts_done),
        _span(Entry, merchant, "created_at", state.entries_done),
    ]
    for first, last in spans:
        if first is None:
            continue
        day, end = local_day(first, tz), local_day(last, tz)
        while day <= end:
            days.add(day)
            day += timedelta(days=1)
    return {day for day in days if day <= today}


def _span(model, merchant: Merchant, field: str, after: int):
    found = model.objects.filter(merchant=merchant, pk__gt=after).aggregate(
        first=Min(field), last=Max(field)
    )
    return found["first"], found["last"]


def rebuild_day(merchant: Merchant, day: date, tz: ZoneInfo, firsts=None) -> None:
    """Replace the day's rollup rows with figures computed from the raw rows. `firsts` maps
    customers to their first purchase when the caller has read them all already."""
    DailySales.objects.filter(merchant=merchant, day=day).delete()
    DailyBonus.objects.filter(merchant=merchant, day=day).delete()
    DailySales.objects.bulk_create(_sales(merchant, [day], tz, firsts))
    DailyBonus.objects.bulk_create(_bonuses(merchant, [day], tz))


def _bounds_of(days: list[date], tz: ZoneInfo) -> tuple[datetime, datetime]:
    return day_bounds(min(days), tz)[0], day_bounds(max(days), tz)[1]


def _sales(merchant: Merchant, days: list[date], tz: ZoneInfo, firsts=None) -> list[DailySales]:
    """The DailySales rows of these local days, in three queries whatever their number."""
    if not days:
        return []
    wanted, (lower, upper) = set(days), _bounds_of(days, tz)
    rows: dict[tuple[date, int], DailySales] = {}

    def row(day: date, store_id: int) -> DailySales:
        if (day, store_id) not in rows:
            rows[(day, store_id)] = DailySales(merchant=merchant, day=day, store_id=store_id)
        return rows[(day, store_id)]

    receipts = []
    for at, *rest in (
        Receipt.objects.filter(
            merchant=merchant,
            kind=SALE,
            status=CONFIRMED,
            occurred_at__gte=lower,
            occurred_at__lt=upper,
        )
        .order_by("occurred_at", "pk")
        .values_list(
            "occurred_at", "store_id", "customer_id", "subtotal", "discount", "bonus_spent"
        )
    ):
        day = local_day(at, tz)
        if day in wanted:
            receipts.append((day, *rest))
    starts = {day: day_bounds(day, tz)[0] for day in wanted}
    if firsts is None:
        firsts = _first_purchases_of({r[2] for r in receipts if r[2]})
    new_on: set[tuple[date, int]] = set()
    for day, store_id, customer_id, subtotal, discount, bonus_spent in receipts:
        r = row(day, store_id)
        r.receipts += 1
        r.revenue += subtotal
        r.discount += discount
        r.bonus_paid += bonus_spent
        if customer_id is None:
            continue
        r.card_receipts += 1
        r.card_revenue += subtotal
        if firsts[customer_id] >= starts[day]:  # no purchase before this day
            r.new_receipts += 1
            r.new_revenue += subtotal
            if (day, customer_id) not in new_on:  # once, in the store of the first receipt
                new_on.add((day, customer_id))
                r.new_customers += 1
    refunds = Receipt.objects.filter(
        merchant=merchant,
        kind=REFUND,
        status=CONFIRMED,
        occurred_at__gte=lower,
        occurred_at__lt=upper,
    ).values_list("occurred_at", "store_id", "subtotal")
    for at, store_id, subtotal in refunds:
        if local_day(at, tz) in wanted:
            r = row(local_day(at, tz), store_id)
            r.refunds += 1
            r.refunded += subtotal
    return list(rows.values())


def _first_purchases_of(customer_ids: Iterable[int]) -> dict[int, datetime]:
    """Each of these customers' first purchase.

    Looked up by customer (their own index), not by merchant and time: the earlier history of
    a merchant grows without end, a customer's stays short."""
    ids = sorted(customer_ids)
    firsts: dict[int, datetime] = {}
    for i in range(0, len(ids), CUSTOMERS_CHUNK):
        chunk = ids[i : i + CUSTOMERS_CHUNK]
        firsts.update(
            Receipt.objects.filter(customer_id__in=chunk, kind=SALE, status=CONFIRMED)
            .values("customer_id")
            .annotate(first=Min("occurred_at"))
            .values_list("customer_id", "first")
            .order_by()
        )
    return firsts


def _first_purchases(merchant: Merchant) -> dict[int, datetime]:
    return dict(
        Receipt.objects.filter(
            merchant=merchant, kind=SALE, status=CONFIRMED, customer_id__isnull=False
        )
        .values("customer_id")
        .annotate(first=Min("occurred_at"))
        .values_list("customer_id", "first")
        .order_by()
    )


def _bonuses(merchant: Merchant, days: list[date], tz: ZoneInfo) -> list[DailyBonus]:
    """The DailyBonus rows of these local days, in one query whatever their number."""
    if not days:
        return []
    wanted, (lower, upper) = set(days), _bounds_of(days, tz)
    entries = Entry.objects.filter(merchant=merchant, created_at__gte=lower, created_at__lt=upper)
    # One day (the tick's rebuild): every row is that day, no date to compute per row.
    day = (
        Value(days[0], output_field=DateField())
        if len(days) == 1
        else TruncDate("created_at", tzinfo=tz)
    )
    found = (
        entries.annotate(day=day)
        .values("day", "receipt__store_id", "account__program_id", "kind")
        .annotate(
            total=Sum("amount"),
            count=Count("pk"),
            receipts=Count("receipt_id", distinct=True),
        )
        .order_by()
    )
    return [
        DailyBonus(
            merchant=merchant,
            day=row["day"],
            store_id=row["receipt__store_id"],
            program_id=row["account__program_id"],
            kind=row["kind"],
            amount=int(row["total"]),
            entries=row["count"],
            receipts=row["receipts"],
        )
        for row in found
        if row["day"] in wanted
    ]


# ---- reading: settled days from the rollups, open days from the raw rows ----------------------


def last_run(merchant: Merchant) -> datetime | None:
    """When `refresh` (a step of `kopilka tick`) last ran for the merchant, if ever."""
    return (
        RollupState.objects.filter(merchant=merchant).values_list("refreshed_at", flat=True).first()
    )


def open_days(merchant: Merchant, now: datetime) -> set[date]:
    """The days whose rollup rows may miss rows: those `refresh` would rebuild at `now` (today,
    yesterday and every day touched by rows added since its last run; every day with rows
    when it never ran). The readers below take it as `open_` when a caller reads several."""
    tz = ZoneInfo(merchant.time_zone)
    state = RollupState.objects.filter(merchant=merchant).first() or RollupState(merchant=merchant)
    return _dirty_days(merchant, state, tz, now)


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def _current(model, build, merchant: Merchant, start: date, end: date, now, open_):
    """The `model` rows of the days [start, end]: as stored for settled days, computed by
    `build` (`rebuild_day`'s own code, not saved) for open ones, so they are current at `now`."""
    tz = ZoneInfo(merchant.time_zone)
    open_ = open_days(merchant, now) if open_ is None else open_
    rows = list(
        model.objects.filter(merchant=merchant, day__range=(start, end)).exclude(day__in=open_)
    )
    rows.extend(build(merchant, [d for d in _days(start, end) if d in open_], tz))
    return rows


def sales_rows(
    merchant: Merchant, start: date, end: date, now: datetime, open_: set[date] | None = None
) -> list[DailySales]:
    """The DailySales rows of the days [start, end], current at `now`."""
    return _current(DailySales, _sales, merchant, start, end, now, open_)


def bonus_rows(
    merchant: Merchant, start: date, end: date, now: datetime, open_: set[date] | None = None
) -> list[DailyBonus]:
    """The DailyBonus rows of the days [start, end], current at `now`."""
    return _current(DailyBonus, _bonuses, merchant, start, end, now, open_)


def bonus_net_before(
    merchant: Merchant,
    day: date,
    now: datetime,
    program_id: int | None = None,
    open_: set[date] | None = None,
) -> int:
    """Every point credited less every point debited before the local `day` (all stores, all
    kinds): stored sums for settled days, the raw entries of open ones."""
    tz = ZoneInfo(merchant.time_zone)
    open_ = open_days(merchant, now) if open_ is None else open_
    settled = DailyBonus.objects.filter(merchant=merchant, day__lt=day).exclude(day__in=open_)
    raw = Entry.objects.filter(merchant=merchant)
    if program_id is not None:
        settled = settled.filter(program_id=program_id)
        raw = raw.filter(account__program_id=program_id)
    total = settled.aggregate(total=Sum("amount", default=0))["total"]
    earlier = sorted(d for d in open_ if d < day)
    # Open days come in runs (the span since the last refresh): one range per run.
    runs: list[list[date]] = []
    for d in earlier:
        if runs and runs[-1][1] + timedelta(days=1) == d:
            runs[-1][1] = d
        else:
            runs.append([d, d])
    for first, last in runs:
        lower, upper = day_bounds(first, tz)[0], day_bounds(last, tz)[1]
        total += raw.filter(created_at__gte=lower, created_at__lt=upper).aggregate(
            total=Sum("amount", default=0)
        )["total"]
    return total

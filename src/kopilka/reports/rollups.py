"""Keeps the daily rollups (reports.models) in step with the raw receipts and ledger entries.

`refresh` rebuilds, from the raw rows, every day touched by rows added since its last run, plus
today and yesterday (held receipts still settle there). Run by `kopilka tick`; idempotent, and
safe twice or in parallel: each day is rebuilt under a lock on the merchant's state row. Rows
still in flight when it runs (created in the last few minutes) are read again next time, so a
transaction that commits late is never skipped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone

from kopilka.ledger.models import Entry
from kopilka.merchants.models import Merchant
from kopilka.pos.models import Receipt

from .models import DailyBonus, DailySales, RollupState

# Rows younger than this may belong to transactions not yet committed (ids are handed out at
# insert, commits land in any order): the watermark stays below them.
SETTLING = timedelta(minutes=5)
CHUNK = 500
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
    start, end = day_bounds(day, tz)
    DailySales.objects.filter(merchant=merchant, day=day).delete()
    DailyBonus.objects.filter(merchant=merchant, day=day).delete()
    DailySales.objects.bulk_create(_sales(merchant, day, start, end, firsts))
    DailyBonus.objects.bulk_create(_bonuses(merchant, day, start, end))


def _sales(
    merchant: Merchant, day: date, start: datetime, end: datetime, firsts
) -> list[DailySales]:
    rows: dict[int, DailySales] = {}

    def row(store_id: int) -> DailySales:
        if store_id not in rows:
            rows[store_id] = DailySales(merchant=merchant, day=day, store_id=store_id)
        return rows[store_id]

    receipts = list(
        Receipt.objects.filter(
            merchant=merchant,
            kind=SALE,
            status=CONFIRMED,
            occurred_at__gte=start,
            occurred_at__lt=end,
        )
        .order_by("occurred_at", "pk")
        .values_list("store_id", "customer_id", "subtotal", "discount", "bonus_spent")
    )
    customers = {r[1] for r in receipts if r[1]}
    if firsts is None:
        returning = _customers_seen_before(merchant, start, customers)
    else:
        returning = {c for c in customers if firsts[c] < start}
    new_today: set[int] = set()
    for store_id, customer_id, subtotal, discount, bonus_spent in receipts:
        r = row(store_id)
        r.receipts += 1
        r.revenue += subtotal
        r.discount += discount
        r.bonus_paid += bonus_spent
        if customer_id is None:
            continue
        r.card_receipts += 1
        r.card_revenue += subtotal
        if customer_id not in returning:
            r.new_receipts += 1
            r.new_revenue += subtotal
            if customer_id not in new_today:  # counted once, in the store of the first receipt
                new_today.add(customer_id)
                r.new_customers += 1
    refunds = Receipt.objects.filter(
        merchant=merchant,
        kind=REFUND,
        status=CONFIRMED,
        occurred_at__gte=start,
        occurred_at__lt=end,
    ).values_list("store_id", "subtotal")
    for store_id, subtotal in refunds:
        r = row(store_id)
        r.refunds += 1
        r.refunded += subtotal
    return list(rows.values())


def _customers_seen_before(merchant: Merchant, start: datetime, customer_ids: Iterable[int]):
    """Those of the customers whose first purchase was before `start`.

    Looked up by customer (their own index), not by merchant and time: the earlier history of
    a merchant grows without end, a customer's stays short."""
    ids = sorted(customer_ids)
    seen: set[int] = set()
    for i in range(0, len(ids), CHUNK):
        seen.update(
            Receipt.objects.filter(customer_id__in=ids[i : i + CHUNK], kind=SALE, status=CONFIRMED)
            .values("customer_id")
            .annotate(first=Min("occurred_at"))
            .filter(first__lt=start)
            .values_list("customer_id", flat=True)
        )
    return seen


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


def _bonuses(merchant: Merchant, day: date, start: datetime, end: datetime) -> list[DailyBonus]:
    db = connection.ops
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT r.store_id, a.program_id, e.kind, SUM(e.amount), COUNT(*), "
            "COUNT(DISTINCT e.receipt_id) "
            "FROM ledger_entry e JOIN ledger_account a ON a.id = e.account_id "
            "LEFT JOIN pos_receipt r ON r.id = e.receipt_id "
            "WHERE e.merchant_id = %s AND e.created_at >= %s AND e.created_at < %s "
            "GROUP BY r.store_id, a.program_id, e.kind",
            [merchant.pk, db.adapt_datetimefield_value(start), db.adapt_datetimefield_value(end)],
        )
        found = cursor.fetchall()
    totals: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    for store_id, program_id, kind, amount, count, receipts in found:
        row = totals[(store_id, program_id, kind)]
        row[0] += int(amount)
        row[1] += int(count)
        row[2] += int(receipts)
    return [
        DailyBonus(
            merchant=merchant,
            day=day,
            store_id=store_id,
            program_id=program_id,
            kind=kind,
            amount=amount,
            entries=count,
            receipts=receipts,
        )
        for (store_id, program_id, kind), (amount, count, receipts) in totals.items()
    ]

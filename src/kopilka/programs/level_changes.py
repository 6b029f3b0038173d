"""Level changes for `kopilka tick`: each account holder's level, as the till would compute it
at `now`, compared with the level last recorded; a `LevelChange` row where they differ.

Set-based and batched: a batch is the next `batch_size` customers holding an account in the
program, in customer id order (keyset cursor); their activity, groups, manual levels and last
recorded levels are a handful of aggregate queries over the whole batch, whatever its size.
Idempotent: a second run at the same `now` finds every level already recorded.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)

from kopilka import rules
from kopilka.catalog.selectors import SegmentIndex, category_tree
from kopilka.customers.models import Customer
from kopilka.ledger.models import Account
from kopilka.pos.models import Receipt, ReceiptLine
from kopilka.rules.levels import standing

from .models import LevelAssignment, LevelChange, Program
from .selectors import _level, levels_of

BATCH_CUSTOMERS = 2000


def __init__(self, pk, category_id):
    self.pk = pk
    self.category_id = category_id


def activities_of(*, merchant, customer_ids, windows, now, index: SegmentIndex | None = None):
    """{customer id: ((window, Activity), ...)} for these customers of the merchant, in two
    aggregate queries over all of them (per customer; per customer, product and category for
    segments): spend after discounts with refunds deducted, per segment too, and visits
    (confirmed sales). Customers without purchases get empty activities."""
    windows = sorted(set(windows))
    customer_ids = list(customer_ids)
    empty = tuple((window, rules.Activity()) for window in windows)
    result = dict.fromkeys(customer_ids, empty)
    if not windows or not customer_ids:
        return result
    if index is None:
        index = SegmentIndex(merchant, category_tree(merchant=merchant))
    lines = ReceiptLine.objects.filter(
        receipt__merchant_id=merchant.pk,
        receipt__customer_id__in=customer_ids,
        receipt__status=Receipt.Status.CONFIRMED,
    )
    if 0 not in windows:
        lines = lines.filter(receipt__occurred_at__gte=now - timedelta(days=max(windows)))
    value = ExpressionWrapper(
        Case(When(receipt__kind=Receipt.Kind.REFUND, then=Value(-1)), default=Value(1))
        * (F("amount") - F("discount")),
        output_field=BigIntegerField(),
    )

    def within(window: int) -> Q | None:
        return None if window == 0 else Q(receipt__occurred_at__gte=now - timedelta(days=window))

    # Sum(...) is NULL when no line falls within the window: the customer bought nothing there.
    totals = (
        lines.order_by()
        .values("receipt__customer_id")
        .annotate(
            **{f"spend_{w}": Sum(value, filter=within(w)) for w in windows},
            **{
                f"visits_{w}": Count(
                    "receipt_id",
                    distinct=True,
                    filter=Q(receipt__kind=Receipt.Kind.SALE) & (within(w) or Q()),
                )
                for w in windows
            },
        )
    )
    by_segment: dict[tuple[int, int], dict[int, int]] = defaultdict(dict)
    segment_rows = (
        lines.filter(product_id__isnull=False)
        .order_by()
        .values("receipt__customer_id", "product_id", "product__category_id")
        .annotate(**{f"spend_{w}": Sum(value, filter=within(w)) for w in windows})
    )
    for row in segment_rows:
        segments = index.of_ids(row["product_id"], row["product__category_id"])
        for window in windows:
            amount = row[f"spend_{window}"]
            if amount is None:
                continue
            merged = by_segment[(row["receipt__customer_id"], window)]
            for segment_id in segments:
                merged[segment_id] = merged.get(segment_id, 0) + amount
    for row in totals:
        customer_id = row["receipt__customer_id"]
        result[customer_id] = tuple(
            (
                window,
                rules.Activity(
                    spend=row[f"spend_{window}"] or 0,
                    spend_by_segment=tuple(
                        sorted(by_segment.get((customer_id, window), {}).items())
                    ),
                    visits=row[f"visits_{window}"],
                ),
            )
            for window in windows
        )
    return result


def _groups_of(customer_ids) -> dict[int, frozenset[int]]:
    groups: dict[int, set[int]] = defaultdict(set)
    rows = Customer.groups.through.objects.filter(customer_id__in=customer_ids).values_list(
        "customer_id", "group_id"
    )
    for customer_id, group_id in rows:
        groups[customer_id].add(group_id)
    return {customer_id: frozenset(ids) for customer_id, ids in groups.items()}


def _manual_levels_of(program: Program, customer_ids, now) -> dict[int, int]:
    """{customer id: level id} assigned by hand and in force at `now`, the latest winning
    (as `selectors.manual_level_id`)."""
    rows = (
        LevelAssignment.objects.filter(customer_id__in=customer_ids, level__program=program)
        .filter(Q(until__isnull=True) | Q(until__gt=now))
        .order_by("customer_id", "-created_at", "-id")
        .values_list("customer_id", "level_id")
    )
    manual: dict[int, int] = {}
    for customer_id, level_id in rows:
        manual.setdefault(customer_id, level_id)
    return manual


def _recorded_levels_of(program: Program, customer_ids) -> dict[int, int | None]:
    """{customer id: to_level id} of each customer's latest change in the program (one query,
    the latest found through the (program, customer, changed_at) index)."""
    latest = LevelChange.objects.filter(program=program, customer_id=OuterRef("customer_id"))
    return dict(
        LevelChange.objects.filter(program=program, customer_id__in=customer_ids)
        .filter(id=Subquery(latest.order_by("-changed_at", "-id").values("id")[:1]))
        .values_list("customer_id", "to_level_id")
    )


def _record_batch(program, levels, windows, index, customer_ids, now) -> int:
    activities = activities_of(
        merchant=program.merchant, customer_ids=customer_ids, windows=windows, now=now, index=index
    )
    groups = _groups_of(customer_ids)
    manual = _manual_levels_of(program, customer_ids, now)
    held = {
        customer_id: standing(
            levels,
            dict(activities[customer_id]),
            groups.get(customer_id, frozenset()),
            manual.get(customer_id),
        )
        for customer_id in customer_ids
    }
    # Two runs in parallel (or a run and a rerun after a crash) could both read the same last
    # level and both insert the same change. The last recorded levels are therefore read and
    # the changes written under a lock on the program row, held for this short transaction:
    # a second run waits, then reads the first one's rows and finds nothing left to record.
    # A unique constraint would not do: runs at different `now` record the same change at
    # different moments. FOR NO KEY UPDATE (not FOR UPDATE) so that tills inserting rows that
    # reference the program (receipts, accounts: FOR KEY SHARE) are never blocked by it.
    # SQLite has no row locks; there the IMMEDIATE transaction serialises writers instead.
    with transaction.atomic():
        Program.objects.select_for_update(no_key=True).filter(pk=program.pk).first()
        recorded = _recorded_levels_of(program, customer_ids)
        changes = []
        for customer_id, held_now in held.items():
            to_level_id = held_now.level.id if held_now.level is not None else None
            from_level_id = recorded.get(customer_id)
            if to_level_id == from_level_id:
                continue
            changes.append(
                LevelChange(
                    program=program,
                    customer_id=customer_id,
                    from_level_id=from_level_id,
                    to_level_id=to_level_id,
                    changed_at=now,
                    reason=LevelChange.Reason.MANUAL
                    if held_now.manual
                    else LevelChange.Reason.COMPUTED,
                )
            )
        LevelChange.objects.bulk_create(changes)
    return len(changes)


def record_level_changes(*, now: datetime, batch_size: int = BATCH_CUSTOMERS) -> int:
    """Record every level change at `now` for the customers holding an account in a program
    with levels. Returns how many changes were recorded."""
    recorded = 0
    programs = (
        Program.objects.filter(levels__isnull=False)
        .distinct()
        .select_related("merchant")
        .order_by("id")
    )
    for program in programs:
        levels = tuple(_level(level) for level in levels_of(program))
        if not levels:
            continue
        windows = {level.window_days for level in levels}
        index = SegmentIndex(program.merchant, category_tree(merchant=program.merchant))
        after = 0
        while True:
            customer_ids = list(
                Account.objects.filter(program=program, customer_id__gt=after)
                .order_by("customer_id")
                .values_list("customer_id", flat=True)[:batch_size]
            )
            if not customer_ids:
                break
            recorded += _record_batch(program, levels, windows, index, customer_ids, now)
            after = customer_ids[-1]
    return recorded

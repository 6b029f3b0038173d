"""A customer's standing in a program's levels at a moment: the inputs the pure level rule
(`rules.levels.standing`) needs, gathered for one customer or a batch, and the one place that
turns them into a `LevelStanding`.

The inputs are the customer's activity in each window the levels use (spend after discounts
with refunds deducted, per segment too, and visits; excluded items count: a level measures
what the customer bought, not what earned bonuses), their groups and the manual level in
force. Every face reads levels through here: the quote and the sale (as the engine's
`CustomerState`), the till and the API's identify, the customer card, `kopilka tick`'s level
changes and the levels report.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db.models import BigIntegerField, Case, Count, ExpressionWrapper, F, Q, Sum, Value, When

from kopilka import rules
from kopilka.catalog.selectors import SegmentIndex, category_tree
from kopilka.customers.models import Customer
from kopilka.rules.levels import LevelConfig, LevelInputs, LevelStanding
from kopilka.sales.models import Receipt, ReceiptLine

from .models import LevelAssignment, Program
from .selectors import level_configs, program_for_receipts, programs_of_customers


def level_inputs(
    *,
    program: Program,
    customer_ids,
    now: datetime,
    levels: tuple[LevelConfig, ...],
    index: SegmentIndex | None = None,
) -> dict[int, LevelInputs]:
    """{customer id: LevelInputs} for these customers of the program's merchant, in four
    queries over all of them, whatever their number."""
    customer_ids = list(customer_ids)
    windows = {level.window_days for level in levels}
    activities = activities_of(
        merchant=program.merchant, customer_ids=customer_ids, windows=windows, now=now, index=index
    )
    groups = groups_of(customer_ids)
    manual = manual_levels_of(program, customer_ids, now)
    return {
        customer_id: LevelInputs(
            activity=activities[customer_id],
            group_ids=groups.get(customer_id, frozenset()),
            manual_level_id=manual.get(customer_id),
        )
        for customer_id in customer_ids
    }


def customer_level_inputs(*, customer: Customer, program: Program, now: datetime) -> LevelInputs:
    """LevelInputs of one customer (nothing to read when the program has no levels)."""
    levels = level_configs(program)
    if not levels:
        return LevelInputs()
    return level_inputs(program=program, customer_ids=[customer.pk], now=now, levels=levels)[
        customer.pk
    ]


def customer_standing(
    *, customer: Customer, program: Program | None, now: datetime
) -> LevelStanding:
    """The level the customer holds in the program at `now` and the way to the next one."""
    levels = level_configs(program) if program is not None else ()
    if not levels:
        return LevelStanding(level=None)
    inputs = level_inputs(program=program, customer_ids=[customer.pk], now=now, levels=levels)
    return inputs[customer.pk].standing(levels)


def standings_of(*, merchant, customer_ids, now: datetime) -> dict[int, LevelStanding]:
    """{customer id: LevelStanding} for many customers of the merchant, each in their own
    program (`programs_of_customers`), a handful of queries per program with levels."""
    customer_ids = list(customer_ids)
    default = program_for_receipts(merchant=merchant, now=now)
    their = programs_of_customers(
        merchant=merchant, customer_ids=customer_ids, default=default.pk if default else None
    )
    result = {customer_id: LevelStanding(level=None) for customer_id in customer_ids}
    by_program: dict[int, list[int]] = defaultdict(list)
    for customer_id, program_id in their.items():
        if program_id is not None:
            by_program[program_id].append(customer_id)
    for program in Program.objects.filter(pk__in=list(by_program)).select_related("merchant"):
        levels = level_configs(program)
        if not levels:
            continue
        inputs = level_inputs(
            program=program, customer_ids=by_program[program.pk], now=now, levels=levels
        )
        for customer_id, found in inputs.items():
            result[customer_id] = found.standing(levels)
    return result


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


def groups_of(customer_ids) -> dict[int, frozenset[int]]:
    groups: dict[int, set[int]] = defaultdict(set)
    rows = Customer.groups.through.objects.filter(customer_id__in=customer_ids).values_list(
        "customer_id", "group_id"
    )
    for customer_id, group_id in rows:
        groups[customer_id].add(group_id)
    return {customer_id: frozenset(ids) for customer_id, ids in groups.items()}


def manual_levels_of(program: Program, customer_ids, now) -> dict[int, int]:
    """{customer id: level id} assigned by hand and in force at `now`, the latest winning
    ."""
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

"""Level changes for `kopilka tick`: each account holder's level at `now`, computed by
`programs.standing` as every face computes it, compared with the level last recorded; a
`LevelChange` row where they differ.

Set-based and batched: a batch is the next `batch_size` customers holding an account in the
program, in customer id order (keyset cursor); their activity, groups, manual levels and last
recorded levels are a handful of aggregate queries over the whole batch, whatever its size.
Idempotent: a second run at the same `now` finds every level already recorded.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import OuterRef, Subquery

from kopilka.catalog.selectors import SegmentIndex, category_tree
from kopilka.ledger.models import Account

from .models import LevelChange, Program
from .selectors import level_configs
from .standing import level_inputs

BATCH_CUSTOMERS = 2000


def _recorded_levels_of(program: Program, customer_ids) -> dict[int, int | None]:
    """{customer id: to_level id} of each customer's latest change in the program (one query,
    the latest found through the (program, customer, changed_at) index)."""
    latest = LevelChange.objects.filter(program=program, customer_id=OuterRef("customer_id"))
    return dict(
        LevelChange.objects.filter(program=program, customer_id__in=customer_ids)
        .filter(id=Subquery(latest.order_by("-changed_at", "-id").values("id")[:1]))
        .values_list("customer_id", "to_level_id")
    )


def _record_batch(program, levels, index, customer_ids, now) -> int:
    inputs = level_inputs(
        program=program, customer_ids=customer_ids, now=now, levels=levels, index=index
    )
    held = {customer_id: inputs[customer_id].standing(levels) for customer_id in customer_ids}
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
        levels = level_configs(program)
        if not levels:
            continue
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
            recorded += _record_batch(program, levels, index, customer_ids, now)
            after = customer_ids[-1]
    return recorded

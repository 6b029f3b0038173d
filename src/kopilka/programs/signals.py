"""Any change of a program's configuration bumps the program's `updated_at`.

The till caches a program's engine configuration per (program id, updated_at)
(`selectors.to_rules`) and reads the program row on every receipt anyway, so bumping it here
makes the next quote on every process use the new configuration, at no cost per quote. The
services bump it too; these receivers catch what they do not see: saves and deletes in the
Django admin's own forms or in a shell, cascades (a segment deleted with its caps), and
changes of the many-to-many relations the engine reads (a program's stores, a rule's segments,
a level's groups). `QuerySet.update()` and `bulk_create()` send no signals: code that changes
configuration that way must call `touch_programs` itself (none of ours does).
"""

from __future__ import annotations

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone

from .models import AccrualRule, AccrualStep, DiscountStep, Level, LevelSegment, Program, SegmentCap


def touch_programs(**lookup) -> None:
    """Bump `updated_at` of the programs matching `lookup` (one UPDATE)."""
    Program.objects.filter(**lookup).update(updated_at=timezone.now())


# Each configuration model, and the lookup from Program to the programs an instance belongs to.
_OWNER = {
    AccrualRule: lambda row: {"pk": row.program_id},
    SegmentCap: lambda row: {"pk": row.program_id},
    DiscountStep: lambda row: {"pk": row.program_id},
    Level: lambda row: {"pk": row.program_id},
    AccrualStep: lambda row: {"accrual_rules": row.rule_id},
    LevelSegment: lambda row: {"levels": row.level_id},
}


def _changed(sender, instance, **kwargs) -> None:
    if kwargs.get("raw"):  # fixtures being loaded
        return
    touch_programs(**_OWNER[sender](instance))


# Many-to-many relations the engine reads: (through model, forward model, lookup from Program).
_RELATIONS = [
    (Program.stores.through, Program, "pk__in"),
    (AccrualRule.segments.through, AccrualRule, "accrual_rules__in"),
    (Level.groups.through, Level, "levels__in"),
]


def _relation_changed(sender, instance, action, reverse, model, pk_set, **kwargs) -> None:
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    _through, _forward, lookup = next(r for r in _RELATIONS if r[0] is sender)
    if not reverse:
        touch_programs(**{lookup: [instance.pk]})
    elif pk_set:
        touch_programs(**{lookup: list(pk_set)})
    else:  # a store, segment or group cleared of every program, rule or level: unknown which
        touch_programs(merchant_id=instance.merchant_id)


def _through_row_deleted(sender, instance, **kwargs) -> None:
    # A store, segment or group deleted takes its rows of these relations with it, without
    # an m2m signal.
    _through, forward, lookup = next(r for r in _RELATIONS if r[0] is sender)
    column = f"{forward._meta.model_name}_id"
    touch_programs(**{lookup: [getattr(instance, column)]})


def connect() -> None:
    for model in _OWNER:
        post_save.connect(_changed, sender=model, dispatch_uid=f"kopilka-config-{model.__name__}")
        post_delete.connect(
            _changed, sender=model, dispatch_uid=f"kopilka-config-d-{model.__name__}"
        )
    for through, _forward, _lookup in _RELATIONS:
        m2m_changed.connect(
            _relation_changed, sender=through, dispatch_uid=f"kopilka-m2m-{through}"
        )
        post_delete.connect(
            _through_row_deleted, sender=through, dispatch_uid=f"kopilka-m2m-d-{through}"
        )

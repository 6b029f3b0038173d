"""Who did it, as people read it: lists and detail pages of rows that record an actor (audit
events, ledger entries, manual levels) show "Register «Касса 1» (Магазин на Ленина)",
"System (demo)" or the staff member's name instead of the stored "register:1",
"system:demo", "user:5" (`merchants.actors.actor_labels`, the one renderer). The stored
value is unchanged; searching still matches it."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from kopilka.merchants.actors import actor_label, actor_labels

from .scoping import request_merchant


class ShowsActors:
    """For a ModelAdmin of a model with an `actor` field: the list column and the detail
    page's field `actor` read as people read it (two queries per list page)."""

    def get_list_display(self, request):
        return [
            "actor_shown" if name == "actor" else name for name in super().get_list_display(request)
        ]

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        shown = ["actor_shown" if name == "actor" else name for name in fields]
        return list(dict.fromkeys(shown))  # once, where `actor` was

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "actor_shown"]

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        rows = list(changelist.result_list)
        labels = actor_labels({row.actor for row in rows}, request_merchant(request))
        for row in rows:
            row.actor_label = labels.get(row.actor, row.actor)
        return changelist

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            obj.actor_label = actor_label(obj.actor, request_merchant(request))
        return obj

    @admin.display(description=_("actor"), ordering="actor")
    def actor_shown(self, obj):
        label = getattr(obj, "actor_label", None)
        return label if label is not None else obj.actor

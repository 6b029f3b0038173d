"""Admin of the programs app (scoped to the staff user's merchant): programs with their caps
and discount steps, accrual rules, levels, manual levels, campaigns and card types; campaign
uses and level changes are history (read-only)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext_lazy as _
from unfold.admin import TabularInline
from unfold.widgets import UnfoldAdminTextInputWidget, UnfoldBooleanWidget

from kopilka.customers.card_types import card_type_create, card_type_update
from kopilka.customers.models import CardType
from kopilka.programs import services
from kopilka.programs.models import (
    AccrualRule,
    AccrualStep,
    Campaign,
    CampaignUse,
    DiscountStep,
    Level,
    LevelAssignment,
    LevelChange,
    LevelSegment,
    Program,
    SegmentCap,
)

from . import card_moves
from .formatting import MONEY_LABELS, MoneyFieldsMixin, money_column
from .scoping import MerchantScopedAdmin, ReadOnlyAdmin, adopt, request_actor, request_merchant


def _kept_forms(formset):
    """Bound, filled-in forms of an inline that are not marked for deletion."""
    return [
        form
        for form in formset.forms
        if form.cleaned_data and not (formset.can_delete and formset._should_delete_form(form))
    ]


def _deleted_forms(formset):
    return [
        form
        for form in formset.forms
        if form.instance.pk and formset.can_delete and formset._should_delete_form(form)
    ]


def _changed(form, names) -> dict:
    return {name: form.cleaned_data[name] for name in names if name in form.changed_data}


class InlinesThroughServices:
    """Inline rows are written by services from the formsets' cleaned data, never by the
    formsets themselves, so the history message lists the main form's changes only."""

    def construct_change_message(self, request, form, formsets, add=False):
        return super().construct_change_message(request, form, [], add)


class NoDirectDeletes:
    """Deleting programs and card types would orphan history (receipts, accounts, cards):
    they are switched off instead. Their delete page says so instead of a bare 403."""

    refusal = _("Programs are never deleted: receipts and accounts point at them.")
    instead = _("Switch it off instead: untick Enabled and save.")

    def has_delete_permission(self, request, obj=None):
        return False

    def delete_view(self, request, object_id, extra_context=None):
        raise PermissionDenied(f"{self.refusal} {self.instead}")


class SwitchOffAndRemove:
    """Levels, accrual rules and campaigns: switched off and on with list actions, and
    removed with Django's delete page, all through the services. A row that history names
    is archived instead of deleted, and the confirmation page says which it will be."""

    remove_service = switch_service = history_exists = None  # set by each admin
    service_argument = ""
    delete_confirmation_template = "backoffice/remove_confirmation.html"

    def get_list_display(self, request):
        return [*super().get_list_display(request), "archived_at"]

    def get_list_filter(self, request):
        return [*super().get_list_filter(request), ArchivedFilter]

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.has_change_permission(request):
            for name in ("switch_off", "switch_on"):
                func = getattr(type(self), name)
                actions[name] = (func, name, func.short_description)
        return actions

    def _run_switch(self, request, queryset, on: bool):
        done = 0
        for obj in queryset:
            kwargs = {self.service_argument: obj, "on": on}
            if self.run_action(request, type(self).switch_service, **kwargs) is not None:
                done += 1
        if done:
            self.message_user(
                request,
                (_("Switched on: %(count)s.") if on else _("Switched off: %(count)s."))
                % {"count": done},
                messages.SUCCESS,
            )

    def switch_off(self, request, queryset):
        self._run_switch(request, queryset, on=False)

    switch_off.short_description = _("Switch off (the till stops using them; history keeps them)")

    def switch_on(self, request, queryset):
        self._run_switch(request, queryset, on=True)

    switch_on.short_description = _("Switch on again")

    def get_deleted_objects(self, objs, request):
        # Django would list the cascade and ask for permissions on history rows; the service
        # decides what happens, and this page says it.
        history_exists = type(self).history_exists
        described = [
            _("“%(name)s”: history refers to it, so it is kept as switched off (archived).")
            % {"name": obj}
            if history_exists(obj)
            else _("“%(name)s”: nothing refers to it, so it is deleted.") % {"name": obj}
            for obj in objs
        ]
        return described, {self.model._meta.verbose_name_plural: len(described)}, set(), []

    def delete_model(self, request, obj):
        kwargs = {self.service_argument: obj, "actor": request_actor(request)}
        request._kopilka_removed = type(self).remove_service(**kwargs)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)

    def response_delete(self, request, obj_display, obj_id):
        if getattr(request, "_kopilka_removed", None) == services.ARCHIVED:
            self.message_user(
                request,
                _(
                    "“%(name)s” is kept as switched off: history refers to it. The till no "
                    "longer uses it."
                )
                % {"name": obj_display},
                messages.SUCCESS,
            )
            from django.http import HttpResponseRedirect
            from django.urls import reverse

            opts = self.model._meta
            return HttpResponseRedirect(
                reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
            )
        return super().response_delete(request, obj_display, obj_id)


class ArchivedFilter(admin.SimpleListFilter):
    title = _("switched off")
    parameter_name = "archived"

    def lookups(self, request, model_admin):
        return [("0", _("in use")), ("1", _("switched off"))]

    def queryset(self, request, queryset):
        if self.value() in ("0", "1"):
            return queryset.filter(archived_at__isnull=self.value() == "0")
        return queryset


# Where the caps on payment by bonuses meet (rules.engine.bonus_share).
CAP_ORDER = _(
    "Which cap applies to a line, the most specific first: the level's cap for the line's "
    "segment, the level's own cap, the program's cap for the segment, the program's cap. "
    "A line in several segments takes the tightest cap of the first of these that has one."
)


# --- programs ----------------------------------------------------------------------------------


class SegmentCapInline(MoneyFieldsMixin, TabularInline):
    model = SegmentCap
    fields = ["segment", "max_share_percent"]
    extra = 0

    def get_formset(self, request, obj=None, **kwargs):
        kwargs.setdefault("help_texts", {"max_share_percent": CAP_ORDER})
        return super().get_formset(request, obj, **kwargs)


class DiscountStepInline(MoneyFieldsMixin, TabularInline):
    model = DiscountStep
    fields = ["min_purchase_total", "percent"]
    extra = 0


PROGRAM_FIELDS = [
    "name",
    "kind",
    "enabled",
    "active_from",
    "active_to",
    "terms_url",
    "accrue_on_discounted",
    "accrue_when_paid_with_bonuses",
    "return_spent_on_refund",
    "require_confirmation",
    "auto_enrol_online",
    "welcome_bonus",
    "welcome_lifetime_days",
    "lifetime_days",
    "freeze_days",
    "lifetime_start",
    "max_share_percent",
    "spend_whole_bonuses",
    "accrual_rounding",
    "fixed_discount_percent",
]


@admin.register(Program)
class ProgramAdmin(MoneyFieldsMixin, InlinesThroughServices, NoDirectDeletes, MerchantScopedAdmin):
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "kind",
                    "enabled",
                    "active_from",
                    "active_to",
                    "stores",
                    "terms_url",
                ]
            },
        ),
        (
            _("Accrual and payment"),
            {
                "fields": [
                    "accrue_on_discounted",
                    "accrue_when_paid_with_bonuses",
                    "return_spent_on_refund",
                    "max_share_percent",
                    "spend_whole_bonuses",
                    "accrual_rounding",
                    "lifetime_days",
                    "freeze_days",
                    "lifetime_start",
                    "fixed_discount_percent",
                ]
            },
        ),
        (
            _("New customers"),
            {
                "fields": [
                    "require_confirmation",
                    "auto_enrol_online",
                    "welcome_bonus",
                    "welcome_lifetime_days",
                ]
            },
        ),
    ]
    list_display = ["name", "kind", "enabled", "active_from", "active_to", "max_share_percent"]
    list_filter = ["kind", "enabled"]
    search_fields = ["name"]
    inlines = [SegmentCapInline, DiscountStepInline]
    filter_horizontal = ["stores"]
    actions = ["move_balances"]

    def has_move_balances_permission(self, request):
        # Moving balances between programs is what moving cards does: owners and admins.
        return request.user.has_perm("customers.change_cardtype")

    @admin.action(
        description=_("Move balances left here to the customers' current programs"),
        permissions=["move_balances"],
    )
    def move_balances(self, request, queryset):
        return card_moves.programs_action(self, request, queryset)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.URLField):
            kwargs["assume_scheme"] = "https"
        if db_field.name == "max_share_percent":
            kwargs["help_text"] = CAP_ORDER
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        actor = request_actor(request)
        stores = form.cleaned_data.get("stores")
        if change:
            services.program_update(
                program=obj,
                actor=actor,
                stores=stores if "stores" in form.changed_data else None,
                **_changed(form, PROGRAM_FIELDS),
            )
            return
        data = {name: form.cleaned_data[name] for name in PROGRAM_FIELDS}
        adopt(
            obj,
            services.program_create(
                merchant=request_merchant(request), actor=actor, stores=stores, **data
            ),
        )

    def save_related(self, request, form, formsets, change):
        program = Program.objects.select_related("merchant").get(pk=form.instance.pk)
        actor = request_actor(request)
        for formset in formsets:
            if not formset.has_changed():
                continue
            if formset.model is SegmentCap:
                for gone in _deleted_forms(formset):
                    services.segment_cap_remove(
                        program=program, segment=gone.instance.segment, actor=actor
                    )
                for kept in _kept_forms(formset):
                    if not kept.has_changed():
                        continue
                    previous = kept.initial.get("segment")
                    if (
                        kept.instance.pk
                        and previous
                        and previous != kept.cleaned_data["segment"].pk
                    ):
                        services.segment_cap_remove(
                            program=program, segment=kept.instance.segment, actor=actor
                        )
                    services.segment_cap_set(
                        program=program,
                        segment=kept.cleaned_data["segment"],
                        max_share_percent=kept.cleaned_data["max_share_percent"],
                        actor=actor,
                    )
            elif formset.model is DiscountStep:
                services.discount_steps_set(
                    program=program,
                    steps=[
                        (f.cleaned_data["min_purchase_total"], f.cleaned_data["percent"])
                        for f in _kept_forms(formset)
                    ],
                    actor=actor,
                )


# --- accrual rules -----------------------------------------------------------------------------


class AccrualStepInline(MoneyFieldsMixin, TabularInline):
    model = AccrualStep
    fields = ["min_receipt_total", "percent"]
    extra = 1
    min_num = 1


@admin.register(AccrualRule)
class AccrualRuleAdmin(SwitchOffAndRemove, InlinesThroughServices, MerchantScopedAdmin):
    merchant_path = "program__merchant"
    fields = ["program", "name", "segments"]
    list_display = ["__str__", "program"]
    list_filter = [("program", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["program"]
    filter_horizontal = ["segments"]
    inlines = [AccrualStepInline]
    actions = None
    remove_service = services.accrual_rule_delete
    switch_service = services.accrual_rule_switch
    history_exists = services.accrual_rule_history_exists
    service_argument = "rule"

    def get_readonly_fields(self, request, obj=None):
        return ("program",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        """Written with its steps in save_related: a rule is replaced as a whole."""

    def save_related(self, request, form, formsets, change):
        [steps] = [f for f in formsets if f.model is AccrualStep]
        rule = form.instance
        program = rule.program if change else form.cleaned_data["program"]
        saved = services.accrual_rule_set(
            program=program,
            steps=[
                (f.cleaned_data["min_receipt_total"], f.cleaned_data["percent"])
                for f in _kept_forms(steps)
            ],
            segments=form.cleaned_data["segments"],
            name=form.cleaned_data["name"],
            rule=rule if change else None,
            actor=request_actor(request),
        )
        adopt(rule, saved)


# --- levels ------------------------------------------------------------------------------------


class LevelSegmentInline(MoneyFieldsMixin, TabularInline):
    model = LevelSegment
    fields = ["segment", "min_spend", "cashback_percent", "max_share_percent"]
    extra = 0

    def get_formset(self, request, obj=None, **kwargs):
        kwargs.setdefault("help_texts", {"max_share_percent": CAP_ORDER})
        return super().get_formset(request, obj, **kwargs)


LEVEL_FIELDS = [
    "name",
    "priority",
    "window_days",
    "min_spend",
    "min_visits",
    "cashback_percent",
    "discount_percent",
    "max_share_percent",
    "lifetime_days",
    "freeze_days",
]


@admin.register(Level)
class LevelAdmin(SwitchOffAndRemove, MoneyFieldsMixin, InlinesThroughServices, MerchantScopedAdmin):
    merchant_path = "program__merchant"
    fields = ["program", *LEVEL_FIELDS, "groups"]
    list_display = [
        "name",
        "program",
        "priority",
        money_column("min_spend", MONEY_LABELS["min_spend"]),
        "min_visits",
        "cashback_percent",
    ]
    list_filter = [("program", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["program"]
    ordering = ["program", "priority"]
    filter_horizontal = ["groups"]
    inlines = [LevelSegmentInline]
    actions = None
    remove_service = services.level_remove
    switch_service = services.level_switch
    history_exists = services.level_history_exists
    service_argument = "level"

    def get_readonly_fields(self, request, obj=None):
        return ("program",) if obj is not None else ()

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "max_share_percent":
            kwargs["help_text"] = CAP_ORDER
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        """Written with its segment figures in save_related."""

    def save_related(self, request, form, formsets, change):
        [segment_rows] = [f for f in formsets if f.model is LevelSegment]
        segments = {
            f.cleaned_data["segment"]: {
                name: f.cleaned_data[name]
                for name in ("min_spend", "cashback_percent", "max_share_percent")
            }
            for f in _kept_forms(segment_rows)
        }
        level, actor = form.instance, request_actor(request)
        if change:
            services.level_update(
                level=level,
                actor=actor,
                segments=segments if segment_rows.has_changed() else None,
                groups=form.cleaned_data["groups"] if "groups" in form.changed_data else None,
                **_changed(form, LEVEL_FIELDS),
            )
            return
        adopt(
            level,
            services.level_create(
                program=form.cleaned_data["program"],
                actor=actor,
                segments=segments,
                groups=form.cleaned_data["groups"],
                **{name: form.cleaned_data[name] for name in LEVEL_FIELDS},
            ),
        )


class LevelAssignmentEndForm(forms.ModelForm):
    """Changing a manual level in force: only its end moves, with a reason of its own."""

    end_now = forms.BooleanField(label=_("End now"), required=False, widget=UnfoldBooleanWidget)
    change_reason = forms.CharField(
        label=_("Reason for the change"), max_length=500, widget=UnfoldAdminTextInputWidget
    )

    class Meta:
        model = LevelAssignment
        fields = ["until"]

    def clean(self):
        data = super().clean()
        if not data.get("end_now") and data.get("until") is None and "until" not in self.errors:
            self.add_error("until", _("Give the new end, or tick End now."))
        return data


@admin.register(LevelAssignment)
class LevelAssignmentAdmin(MerchantScopedAdmin):
    """A level given by hand (audited). Once given it stays as history: its end can be moved
    (to now, which ends it, or later), with a reason; a later assignment takes over."""

    merchant_path = "level__program__merchant"
    fields = ["customer", "level", "until", "reason"]
    raw_id_fields = ["customer"]
    list_display = ["customer", "level", "until", "actor", "created_at"]
    list_filter = [("level", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["customer", "level"]
    search_fields = ["customer__phone", "customer__name_search", "reason"]
    ordering = ["-created_at"]
    actions = None

    def get_fields(self, request, obj=None):
        if obj is None:
            return self.fields
        if not self.has_change_permission(request, obj):  # read-only: no form, no form fields
            return ["customer", "level", "reason", "until"]
        return ["customer", "level", "reason", "until", "end_now", "change_reason"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["customer", "level", "reason"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            kwargs["form"] = LevelAssignmentEndForm
        return super().get_form(request, obj, change=change, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "level" and field is not None:
            field.queryset = field.queryset.filter(archived_at__isnull=True)  # in force only
        return field

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            adopt(
                obj,
                services.level_assignment_end(
                    assignment=obj,
                    until=None if data["end_now"] else data["until"],
                    reason=data["change_reason"],
                    actor=request_actor(request),
                ),
            )
            return
        adopt(
            obj,
            services.level_assign(
                customer=data["customer"],
                level=data["level"],
                until=data["until"],
                reason=data["reason"],
                actor=request_actor(request),
            ),
        )


# --- campaigns ---------------------------------------------------------------------------------


CAMPAIGN_FIELDS = [
    "program",
    "name",
    "kind",
    "enabled",
    "priority",
    "exclusive",
    "starts_at",
    "ends_at",
    "segment",
    "usage_limit",
    "n",
    "set_items",
    "gift_sku",
    "multiplier",
    "extra_percent",
    "bonus",
    "min_amount",
    "bonus_lifetime_days",
    "days_around",
]


class CampaignForm(forms.ModelForm):
    starts_next_day = forms.BooleanField(
        label=_("start tomorrow"),
        required=False,
        help_text=_("From the next midnight in the merchant's time zone."),
    )

    class Meta:
        model = Campaign
        fields = [*CAMPAIGN_FIELDS, "stores", "groups"]
        help_texts = {
            "bonus_lifetime_days": _(
                "Birthday bonuses only (empty: the program's lifetime). A fixed bonus on a "
                "receipt burns with the receipt's bonuses."
            ),
        }


@admin.register(Campaign)
class CampaignAdmin(SwitchOffAndRemove, MoneyFieldsMixin, MerchantScopedAdmin):
    form = CampaignForm
    fieldsets = [
        (None, {"fields": ["name", "kind", "program", "enabled", "priority", "exclusive"]}),
        (_("When and where"), {"fields": ["starts_at", "starts_next_day", "ends_at", "stores"]}),
        (_("Who and what"), {"fields": ["groups", "segment", "usage_limit", "min_amount"]}),
        (
            _("Reward"),
            {
                "fields": [
                    "n",
                    "set_items",
                    "gift_sku",
                    "multiplier",
                    "extra_percent",
                    "bonus",
                    "bonus_lifetime_days",
                    "days_around",
                ]
            },
        ),
    ]
    list_display = ["name", "kind", "program", "enabled", "starts_at", "ends_at", "priority"]
    list_filter = ["kind", "enabled", ("program", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["program"]
    search_fields = ["name"]
    filter_horizontal = ["stores", "groups"]
    actions = None
    remove_service = services.campaign_remove
    switch_service = services.campaign_switch
    history_exists = services.campaign_history_exists
    service_argument = "campaign"

    def save_model(self, request, obj, form, change):
        data, actor = form.cleaned_data, request_actor(request)
        if change:
            services.campaign_update(
                campaign=obj,
                actor=actor,
                stores=data["stores"] if "stores" in form.changed_data else None,
                groups=data["groups"] if "groups" in form.changed_data else None,
                **_changed(form, CAMPAIGN_FIELDS),
            )
            return
        adopt(
            obj,
            services.campaign_create(
                merchant=request_merchant(request),
                actor=actor,
                stores=data["stores"],
                groups=data["groups"],
                starts_next_day=data["starts_next_day"],
                **{name: data[name] for name in CAMPAIGN_FIELDS},
            ),
        )

    def save_related(self, request, form, formsets, change):
        """Stores and groups were written by the service in save_model."""


@admin.register(CardType)
class CardTypeAdmin(NoDirectDeletes, MerchantScopedAdmin):
    """Card series bound to programs: created, renamed, given another virtual-number prefix
    or plastic series. A type keeps its program; its cards move to a type of another program
    (balances follow) with the list action."""

    fields = ["name", "program", "number_prefix", "plastic_prefix"]
    list_display = ["name", "program", "number_prefix", "plastic_prefix", "created_at"]
    list_select_related = ["program"]
    actions = ["move_cards"]

    refusal = _("Card types are never deleted: cards and customers' programs depend on them.")
    instead = _("Move their cards to another type with the list action instead.")

    def get_readonly_fields(self, request, obj=None):
        return ["program"] if obj is not None else []

    @admin.action(
        description=_("Move the cards of the selected types to another type"),
        permissions=["change"],
    )
    def move_cards(self, request, queryset):
        return card_moves.types_action(self, request, queryset)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            # The form has already written its values on `obj`: the service compares with
            # the row as stored.
            card_type_update(
                card_type=CardType.objects.get(pk=obj.pk),
                actor=request_actor(request),
                name=data["name"],
                number_prefix=data["number_prefix"],
                plastic_prefix=data["plastic_prefix"],
            )
            return
        adopt(
            obj,
            card_type_create(
                merchant=request_merchant(request),
                actor=request_actor(request),
                name=data["name"],
                program=data["program"],
                number_prefix=data["number_prefix"],
                plastic_prefix=data["plastic_prefix"],
            ),
        )


# --- history -----------------------------------------------------------------------------------


@admin.register(CampaignUse)
class CampaignUseAdmin(ReadOnlyAdmin):
    merchant_path = "campaign__merchant"
    list_display = ["created_at", "campaign", "customer", "receipt", "year"]
    list_filter = [("campaign", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["campaign", "customer", "receipt"]
    ordering = ["-created_at"]
    actions = None


@admin.register(LevelChange)
class LevelChangeAdmin(ReadOnlyAdmin):
    merchant_path = "program__merchant"
    list_display = ["changed_at", "customer", "program", "from_level", "to_level", "reason"]
    list_filter = [("program", admin.RelatedOnlyFieldListFilter), "reason"]
    list_select_related = ["customer", "program", "from_level", "to_level"]
    ordering = ["-changed_at"]
    actions = None

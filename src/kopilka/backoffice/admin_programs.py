"""Admin of the programs app (scoped to the staff user's merchant): programs with their caps
and discount steps, accrual rules, levels, manual levels, campaigns and card types; campaign
uses and level changes are history (read-only)."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.formats import number_format
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from unfold.admin import TabularInline
from unfold.decorators import action as unfold_action
from unfold.widgets import UnfoldAdminTextInputWidget, UnfoldBooleanWidget

from kopilka.customers.card_types import card_type_create, card_type_update
from kopilka.customers.models import CardType
from kopilka.programs import checks, services
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
from kopilka.rules.model import GIVES_BONUSES, GIVES_DISCOUNT_STEPS, GIVES_LEVEL_DISCOUNT

from . import card_moves, program_templates
from .actor_columns import ShowsActors
from .formatting import (
    MONEY_LABELS,
    MoneyField,
    MoneyFieldsMixin,
    PercentField,
    money,
    money_column,
)
from .rows import Column, RowsField
from .scoping import (
    MerchantScopedAdmin,
    ReadOnlyAdmin,
    ScopedInline,
    adopt,
    request_actor,
    request_merchant,
)


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

# Which program kinds use a field or an inline (the engine's own sets, rules.model): the form
# shows only those of the chosen kind, and the server ignores the others' figures.
BONUS_KINDS = sorted(GIVES_BONUSES)
DISCOUNT_KINDS = [Program.Kind.FIXED_DISCOUNT.value, Program.Kind.COMBINED.value]
LEVEL_KINDS = sorted(GIVES_BONUSES | GIVES_LEVEL_DISCOUNT)


def shown_for(kinds) -> str:
    """An Alpine expression (unfold's conditional_fields): true for the given kinds."""
    return " || ".join(f"kind == '{kind}'" for kind in sorted(kinds))


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
    "require_name",
    "require_birthday",
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

PROGRAM_BONUS_FIELDS = [
    "accrue_on_discounted",
    "accrue_when_paid_with_bonuses",
    "return_spent_on_refund",
    "max_share_percent",
    "spend_whole_bonuses",
    "accrual_rounding",
    "lifetime_days",
    "freeze_days",
    "lifetime_start",
    "welcome_bonus",
    "welcome_lifetime_days",
]

PROGRAM_HELP = {
    "name": _("What staff and customers see, e.g. “Bonuses 5 %”."),
    "kind": _(
        "Bonus points: purchases earn bonuses that pay for later ones. Accumulative "
        "discount: the percent grows with the customer's purchases. Fixed discount: the same "
        "percent for every card holder. Combined: a discount and bonuses on one receipt."
    ),
    "enabled": _("Untick to stop the program at every till; its history stays."),
    "active_from": _("E.g. from 1 March; empty: from now on."),
    "active_to": _("E.g. until 31 December; empty: with no end."),
    "terms_url": _("The page with the program's rules, e.g. https://example.ru/bonus."),
    "accrue_on_discounted": _(
        "Untick and items sold with a discount earn nothing: a 100 ₽ item sold for 90 ₽ "
        "earns no bonuses."
    ),
    "accrue_when_paid_with_bonuses": _(
        "Paying 7 of 720 ₽ with bonuses leaves 713 ₽ to pay, and bonuses are accrued on "
        "713 ₽. Untick: such a receipt earns nothing."
    ),
    "return_spent_on_refund": _(
        "A ticket paid with 10 bonuses and refunded gives the 10 bonuses back."
    ),
    "require_confirmation": _(
        "A customer added at the till confirms the phone or e-mail with a code before "
        "spending bonuses."
    ),
    "auto_enrol_online": _("Customers of the online shop join without signing up at a till."),
    "require_name": _(
        "The till does not register a customer without a first name, e.g. to greet them by "
        "name in messages."
    ),
    "require_birthday": _(
        "The till does not register a customer without a birthday, e.g. for a birthday bonus."
    ),
    "welcome_bonus": _("Given once on joining, e.g. 100 bonuses; 0: none."),
    "welcome_lifetime_days": _(
        "E.g. 30: the welcome bonus burns 30 days after it is given; empty: it never burns."
    ),
    "lifetime_days": _(
        "Unspent bonuses burn after this many days, e.g. 90; empty: they never burn. A "
        "level's own lifetime replaces it."
    ),
    "freeze_days": _(
        "Bonuses become usable this many days after the purchase, e.g. 14: bonuses of 1 "
        "March can be spent from 15 March. 0: at once."
    ),
    "max_share_percent": format_lazy(
        "{} {}",
        _(
            "E.g. 30: of a 1 000 ₽ receipt up to 300 ₽ can be paid with bonuses; 10: a "
            "ticket of 100 ₽ is up to 10 bonuses + 90 ₽."
        ),
        CAP_ORDER,
    ),
    "spend_whole_bonuses": _("Tick and a customer pays 7 bonuses, never 7.50."),
    "accrual_rounding": _("1 999 ₽ at 5 %: 99 bonuses rounded to whole bonuses, 99.95 to kopecks."),
    "fixed_discount_percent": _("E.g. 5: a purchase of 1 000 ₽ costs 950 ₽."),
    "stores": _("Empty: every store. E.g. only “Store on Tverskaya”."),
}


class ProgramForm(forms.ModelForm):
    class Meta:
        model = Program
        fields = ["kind"]  # the admin's fieldsets name the rest
        help_texts = {
            "lifetime_start": format_lazy(
                "{} {}",
                _(
                    "From accrual: a 90-day lifetime with a 14-day freeze lets bonuses be "
                    "spent on days 14 to 90; from the end of the freeze: days 14 to 104."
                ),
                Program._meta.get_field("lifetime_start").help_text,
            ),
        }

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind and kind not in DISCOUNT_KINDS and "fixed_discount_percent" in self.fields:
            # The field is hidden for this kind: whatever it held, this kind gives no
            # fixed discount.
            data["fixed_discount_percent"] = Decimal(0)
            self._errors.pop("fixed_discount_percent", None)
        return data


STEP_COLUMNS = [
    Column(
        "min_receipt_total",
        _("from receipt total"),
        MoneyField(),
    ),
    Column("percent", _("accrual, %"), PercentField(min_value=0, max_value=100)),
]


class AccrualRuleInlineForm(forms.ModelForm):
    # Not "steps": that name is the rule's own related manager (read-only pages look it up).
    steps_table = RowsField(
        STEP_COLUMNS,
        label=_("steps"),
        help_text=_(
            "One row for a flat percent: from 0, 5 %. Steps by the receipt total: from 0, "
            "2 %; from 5 000, 5 %: 4 900 ₽ earns 98 bonuses, 5 000 ₽ earns 250."
        ),
    )

    class Meta:
        model = AccrualRule
        fields = ["name", "segments"]
        labels = {"segments": _("segments")}
        help_texts = {
            "name": _("E.g. “Whole receipt” or “Bar”."),
            "segments": _(
                "Empty: the whole receipt. Choose segments (e.g. “Bar”) for a rule of their "
                "own: their lines earn by it, the rest by the whole-receipt rule."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["steps_table"] = [
                {"min_receipt_total": step.min_receipt_total, "percent": step.percent}
                for step in self.instance.steps.order_by("min_receipt_total")
            ]

    def clean(self):
        data = super().clean()
        if not self.errors and not data.get("steps_table") and not data.get("DELETE"):
            self.add_error("steps_table", _("Give at least one step."))
        return data


class AccrualRuleInline(ScopedInline, TabularInline):
    model = AccrualRule
    form = AccrualRuleInlineForm
    fields = ["name", "segments", "steps_table"]
    extra = 0
    verbose_name = _("accrual percent")
    verbose_name_plural = _("accrual percent and steps")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(archived_at__isnull=True)

    @admin.display(description=_("steps"))
    def steps_table(self, rule):
        """The steps as read-only text (for those who may only look)."""
        return "; ".join(
            f"{money(step.min_receipt_total)}: {number_format(step.percent.normalize())} %"
            for step in rule.steps.order_by("min_receipt_total")
        )


class SegmentCapInline(ScopedInline, MoneyFieldsMixin, TabularInline):
    model = SegmentCap
    fields = ["segment", "max_share_percent"]
    extra = 0

    def get_formset(self, request, obj=None, **kwargs):
        kwargs.setdefault("labels", {"segment": _("segment")})
        kwargs.setdefault(
            "help_texts",
            {
                "segment": _("E.g. “Tickets”."),
                "max_share_percent": format_lazy(
                    "{} {}",
                    _("E.g. 10: a ticket of 100 ₽ is up to 10 bonuses + 90 ₽."),
                    CAP_ORDER,
                ),
            },
        )
        return super().get_formset(request, obj, **kwargs)


class DiscountStepInline(MoneyFieldsMixin, TabularInline):
    model = DiscountStep
    fields = ["min_purchase_total", "percent"]
    extra = 0

    def get_formset(self, request, obj=None, **kwargs):
        kwargs.setdefault(
            "help_texts",
            {
                "min_purchase_total": _(
                    "The customer's earlier purchases, e.g. 30 000: from then on the step's "
                    "percent applies."
                ),
                "percent": _("E.g. 5: a purchase of 1 000 ₽ costs 950 ₽."),
            },
        )
        return super().get_formset(request, obj, **kwargs)


LEVEL_HELP = {
    "name": _("E.g. “Guest”, “Cinema lover”."),
    "priority": _("1 is the lowest; the highest level reached counts."),
    "window_days": _("E.g. 30: only the last 30 days count (20 visits in 30 days); 0: ever."),
    "min_spend": _("E.g. 10 000: the level from 10 000 ₽ spent in the window; 0: none."),
    "min_visits": _("E.g. 20: the level from 20 visits in the window; 0: none."),
    "cashback_percent": _("E.g. 10: 10 % back on a purchase; empty: the program's percent."),
    "discount_percent": _(
        "E.g. 7: the discount is 7 % while the level is held; empty: the steps'."
    ),
    "max_share_percent": _("E.g. 50: bonuses pay up to half a purchase; empty: the program's."),
    "lifetime_days": _("E.g. 180: this level's bonuses burn later; empty: the program's."),
    "freeze_days": _("E.g. 0: this level's bonuses are usable at once; empty: the program's."),
}
LEVEL_COMMON_FIELDS = ["name", "priority", "window_days", "min_spend", "min_visits"]


class LevelInline(ScopedInline, MoneyFieldsMixin, TabularInline):
    """A program's levels in place; a level's figures per segment (bar, tickets) and its
    groups are on the level's own page (the link on each row)."""

    model = Level
    extra = 0
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).filter(archived_at__isnull=True)

    def get_fields(self, request, obj=None):
        kind = obj.kind if obj is not None else None
        fields = list(LEVEL_COMMON_FIELDS)
        if kind in GIVES_BONUSES:
            fields.append("cashback_percent")
        if kind in GIVES_LEVEL_DISCOUNT:
            fields.append("discount_percent")
        if kind in GIVES_BONUSES:
            # A level's own lifetime and freeze are on its page (the link on the row).
            fields.append("max_share_percent")
        return fields

    def get_formset(self, request, obj=None, **kwargs):
        kwargs.setdefault("help_texts", LEVEL_HELP)
        return super().get_formset(request, obj, **kwargs)


# The inlines of the program page, each with the kinds that use it.
PROGRAM_INLINES = [
    (AccrualRuleInline, GIVES_BONUSES),
    (SegmentCapInline, GIVES_BONUSES),
    (DiscountStepInline, GIVES_DISCOUNT_STEPS),
    (LevelInline, GIVES_BONUSES | GIVES_LEVEL_DISCOUNT),
]


@admin.register(Program)
class ProgramAdmin(MoneyFieldsMixin, InlinesThroughServices, NoDirectDeletes, MerchantScopedAdmin):
    """A program's page holds everything it gives: settings, accrual percent and steps,
    caps, discount steps and levels, each shown only for the kinds that use it."""

    form = ProgramForm
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
                    "require_name",
                    "require_birthday",
                    "auto_enrol_online",
                    "welcome_bonus",
                    "welcome_lifetime_days",
                ]
            },
        ),
    ]
    conditional_fields = {
        **{name: shown_for(GIVES_BONUSES) for name in PROGRAM_BONUS_FIELDS},
        "fixed_discount_percent": shown_for(DISCOUNT_KINDS),
    }
    list_display = ["name", "kind", "enabled", "active_from", "active_to", "max_share_percent"]
    list_filter = ["kind", "enabled"]
    search_fields = ["name"]
    inlines = [inline for inline, _kinds in PROGRAM_INLINES]
    filter_horizontal = ["stores"]
    actions = ["move_balances"]
    actions_list = ["from_template"]

    # The add form says where the percents, steps, caps and levels are (after the first save).
    change_form_after_template = "backoffice/program_add_hint.html"

    def get_inlines(self, request, obj):
        """The figures of the program's kind as saved (a new program gets them once saved:
        its kind decides which).

        Not on the add form: which tables the page holds and which columns a level has
        depend on the kind as saved (a level's cashback or discount, accrual steps or
        discount steps), and the services check each row against the stored program. The
        add form says so (program_add_hint.html), and saving a new program opens its page,
        with the tables of its kind, instead of the list."""
        if obj is None:
            return []
        return [inline for inline, kinds in PROGRAM_INLINES if obj.kind in kinds]

    def response_add(self, request, obj, post_url_continue=None):
        chose_elsewhere = {"_addanother", "_continue", IS_POPUP_VAR} & set(request.POST)
        if not chose_elsewhere and any(obj.kind in kinds for _inline, kinds in PROGRAM_INLINES):
            request.POST = request.POST.copy()
            request.POST["_continue"] = "1"  # on to the page with its percents and levels
        return super().response_add(request, obj, post_url_continue)

    def has_move_balances_permission(self, request):
        # Moving balances between programs is what moving cards does: owners and admins.
        return request.user.has_perm("customers.change_cardtype")

    @admin.action(
        description=_("Move balances left here to the customers' current programs"),
        permissions=["move_balances"],
    )
    def move_balances(self, request, queryset):
        return card_moves.programs_action(self, request, queryset)

    @unfold_action(
        description=_("New program from a template"),
        url_path="from-template",
        permissions=["add"],
        icon="library_add",
    )
    def from_template(self, request):
        return program_templates.templates_view(self, request)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.URLField):
            kwargs["assume_scheme"] = "https"
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None and db_field.name in PROGRAM_HELP:
            field.help_text = PROGRAM_HELP[db_field.name]
        return field

    def save_model(self, request, obj, form, change):
        actor = request_actor(request)
        stores = form.cleaned_data.get("stores")
        if change:
            fields = _changed(form, PROGRAM_FIELDS)
            if form.cleaned_data["fixed_discount_percent"] != form.initial.get(
                "fixed_discount_percent"
            ):
                # Cleared by the form for a kind without a fixed discount.
                fields["fixed_discount_percent"] = form.cleaned_data["fixed_discount_percent"]
            services.program_update(
                program=obj,
                actor=actor,
                stores=stores if "stores" in form.changed_data else None,
                **fields,
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
                self._save_caps(program, formset, actor)
            elif formset.model is DiscountStep:
                services.discount_steps_set(
                    program=program,
                    steps=[
                        (f.cleaned_data["min_purchase_total"], f.cleaned_data["percent"])
                        for f in _kept_forms(formset)
                    ],
                    actor=actor,
                )
            elif formset.model is AccrualRule:
                self._save_accrual_rules(program, formset, actor)
            elif formset.model is Level:
                self._save_levels(program, formset, actor)

    @staticmethod
    def _save_caps(program, formset, actor):
        for gone in _deleted_forms(formset):
            services.segment_cap_remove(program=program, segment=gone.instance.segment, actor=actor)
        for kept in _kept_forms(formset):
            if not kept.has_changed():
                continue
            previous = kept.initial.get("segment")
            if kept.instance.pk and previous and previous != kept.cleaned_data["segment"].pk:
                services.segment_cap_remove(
                    program=program, segment=kept.instance.segment, actor=actor
                )
            services.segment_cap_set(
                program=program,
                segment=kept.cleaned_data["segment"],
                max_share_percent=kept.cleaned_data["max_share_percent"],
                actor=actor,
            )

    @staticmethod
    def _save_accrual_rules(program, formset, actor):
        for gone in _deleted_forms(formset):
            services.accrual_rule_delete(rule=gone.instance, actor=actor)
        for kept in _kept_forms(formset):
            if not kept.has_changed():
                continue
            data = kept.cleaned_data
            services.accrual_rule_set(
                program=program,
                steps=[(row["min_receipt_total"], row["percent"]) for row in data["steps_table"]],
                segments=data["segments"],
                name=data["name"],
                rule=kept.instance if kept.instance.pk else None,
                actor=actor,
            )

    @staticmethod
    def _save_levels(program, formset, actor):
        for gone in _deleted_forms(formset):
            services.level_remove(level=gone.instance, actor=actor)
        for kept in _kept_forms(formset):
            if not kept.has_changed():
                continue
            names = [name for name in LEVEL_FIELDS if name in kept.fields]
            if kept.instance.pk:
                services.level_update(level=kept.instance, actor=actor, **_changed(kept, names))
            else:
                services.level_create(
                    program=program,
                    actor=actor,
                    **{name: kept.cleaned_data[name] for name in names},
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


class LevelSegmentInline(ScopedInline, MoneyFieldsMixin, TabularInline):
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
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None and db_field.name in LEVEL_HELP:
            field.help_text = LEVEL_HELP[db_field.name]
        if field is not None and db_field.name == "max_share_percent":
            field.help_text = format_lazy("{} {}", LEVEL_HELP["max_share_percent"], CAP_ORDER)
        return field

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
class LevelAssignmentAdmin(ShowsActors, MerchantScopedAdmin):
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

    delete_refusal = (
        _("A level given by hand is never deleted: it stays as history."),
        _("Open it and tick End now (with a reason) instead."),
    )

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


# The reward figures of each kind (programs.checks.OWN_FIGURES): only the chosen kind's are
# shown, and the form clears the others' before the service checks the campaign.
REWARD_FIELDS = list(checks.UNSET)
MAX_PRODUCT_SUGGESTIONS = 2000

CAMPAIGN_HELP = {
    "name": _("What the receipt and the reports show, e.g. “Every 3rd item free”."),
    "kind": _(
        "N-th item free: every 3rd item free. Gift for a set: buy 2 shampoos, get a comb. "
        "Multiplier: double bonuses. Extra percent: +2 % back. Fixed bonus: 100 bonuses for "
        "a purchase from 1 000 ₽. Birthday bonus: 500 bonuses around the birthday."
    ),
    "program": _(
        "Empty: a standalone campaign (works for anonymous receipts too), e.g. “Every 3rd "
        "item free” for everyone."
    ),
    "enabled": _("Untick to pause the campaign; it keeps its settings."),
    "priority": _("Higher wins: 10 runs before 0."),
    "exclusive": _("Tick and no other campaign runs on a receipt this one applies to."),
    "starts_at": _("E.g. 1 March, 00:00; empty: at once."),
    "ends_at": _("E.g. 31 March, 23:59; empty: with no end."),
    "stores": _("Empty: every store. E.g. only “Kiosk at the metro”."),
    "groups": _("Empty: everyone. E.g. only “Students”."),
    "segment": _("Only the lines of this segment count, e.g. “Dairy”; empty: every line."),
    "usage_limit": _("E.g. 1: once per customer; empty: unlimited."),
    "n": _(
        "E.g. 3 for “every 3rd item free”: of three items of 100 ₽ one is free, the receipt "
        "is 200 ₽. The cheapest units go free first."
    ),
    "set_items": _(
        "The products to buy and how many of each, e.g. shampoo × 2; each complete set makes "
        "one gift free. Type a SKU or a product's name and choose it."
    ),
    "gift_sku": _(
        "The product given free when the set is bought, e.g. a comb; it must be on the receipt."
    ),
    "multiplier": _("E.g. 2: 5 % becomes 10 %, a receipt of 1 000 ₽ earns 100 instead of 50."),
    "extra_percent": _("E.g. 2: 5 % becomes 7 %, a receipt of 1 000 ₽ earns 70."),
    "bonus": _("E.g. 100 bonuses for the purchase, or 500 on the birthday."),
    "min_amount": _("E.g. 1 000: the bonus is given from a purchase of 1 000 ₽."),
    "bonus_lifetime_days": _(
        "Birthday bonuses only, e.g. 14: they burn 14 days after the birthday (empty: the "
        "program's lifetime). A fixed bonus on a receipt burns with the receipt's bonuses."
    ),
    "days_around": _("E.g. 3: from 3 days before to 3 days after the birthday; 0: that day."),
}

CAMPAIGN_LABELS = {
    "stores": _("stores"),
    "groups": _("customer groups"),
    "segment": _("segment"),
}

SET_COLUMNS = [
    Column("sku", _("product (SKU)"), forms.CharField(max_length=64), suggestions=(), width="70%"),
    Column("qty", _("quantity"), forms.IntegerField(min_value=1, max_value=1000)),
]


class CampaignForm(forms.ModelForm):
    merchant = None  # the admin sets the merchant whose products are suggested

    starts_next_day = forms.BooleanField(
        label=_("start tomorrow"),
        required=False,
        help_text=_("From the next midnight in the merchant's time zone."),
    )
    set_items = RowsField(
        SET_COLUMNS, extra=2, label=_("set to buy"), help_text=CAMPAIGN_HELP["set_items"]
    )

    class Meta:
        model = Campaign
        fields = [*CAMPAIGN_FIELDS, "stores", "groups"]
        help_texts = CAMPAIGN_HELP

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        merchant = self.merchant
        if merchant is not None:
            from kopilka.catalog.models import Product

            products = Product.objects.filter(merchant=merchant).order_by("name", "sku")
            suggestions = [
                (sku, f"{name} ({sku})")
                for sku, name in products.values_list("sku", "name")[:MAX_PRODUCT_SUGGESTIONS]
            ]
            self.fields["set_items"].suggest("sku", suggestions)
        if "gift_sku" in self.fields:
            # The gift is picked from the same list as the set's products.
            self.fields["gift_sku"].widget.attrs["list"] = f"{self['set_items'].auto_id}-sku"

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if not kind:
            return data
        own = checks.OWN_FIGURES.get(kind, set())
        for name in REWARD_FIELDS:
            if name in own or name not in self.fields:
                continue
            # Hidden for this kind: whatever was typed there, this kind has none of it.
            unset = checks.UNSET[name]
            data[name] = list(unset) if isinstance(unset, list) else unset
            self._errors.pop(name, None)
        if kind == Campaign.Kind.GIFT and not data.get("set_items") and "set_items" in data:
            self.add_error("set_items", _("Choose at least one product of the set to buy."))
        if self.merchant is not None and not self.errors:
            self._check(data)
        return data

    def _check(self, data):
        """The checks the service will run, shown on the fields now (the service runs them
        again on save)."""
        from kopilka.programs.exceptions import InvalidCampaign

        values = {name: data.get(name) for name in CAMPAIGN_FIELDS if name in data}
        campaign = Campaign(merchant=self.merchant, **values)
        try:
            checks.check_campaign(campaign)
        except InvalidCampaign as error:
            field = error.details.get("field")
            self.add_error(field if field in self.fields else None, error.message)


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
    # Each reward figure is shown for the kinds that use it (unfold's Alpine conditions).
    conditional_fields = {
        name: shown_for(kind for kind, own in checks.OWN_FIGURES.items() if name in own)
        for name in REWARD_FIELDS
    }
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

    def get_form(self, request, obj=None, change=False, **kwargs):
        # The merchant whose products the gift's picker suggests (a class of this request's
        # own: the base's error display wraps it in turn).
        kwargs["form"] = type(
            "CampaignForm", (CampaignForm,), {"merchant": request_merchant(request)}
        )
        return super().get_form(request, obj, change=change, **kwargs)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None and db_field.name in CAMPAIGN_HELP:
            field.help_text = CAMPAIGN_HELP[db_field.name]
        if field is not None and db_field.name in CAMPAIGN_LABELS:
            # The models leave these unnamed; the two-list pickers name their lists too.
            field.label = CAMPAIGN_LABELS[db_field.name]
            widget = getattr(field.widget, "widget", field.widget)
            if hasattr(widget, "verbose_name"):
                widget.verbose_name = CAMPAIGN_LABELS[db_field.name]
        return field

    def save_model(self, request, obj, form, change):
        data, actor = form.cleaned_data, request_actor(request)
        if change:
            fields = _changed(form, CAMPAIGN_FIELDS)
            for name in REWARD_FIELDS:
                # A figure the form cleared for the kind is written even if its box was
                # left as it was.
                if name not in fields and data[name] != form.initial.get(name):
                    fields[name] = data[name]
            services.campaign_update(
                campaign=obj,
                actor=actor,
                stores=data["stores"] if "stores" in form.changed_data else None,
                groups=data["groups"] if "groups" in form.changed_data else None,
                **fields,
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

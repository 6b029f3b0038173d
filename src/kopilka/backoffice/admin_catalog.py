"""Admin of the catalog app (scoped to the staff user's merchant): the category tree, products
with their exclusion flags (bulk actions included) and segments."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db import connection
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.widgets import UnfoldAdminSelectWidget

from kopilka.catalog import services
from kopilka.catalog.models import FLAGS, Category, Product, Segment
from kopilka.catalog.selectors import category_tree

from .scoping import MerchantScopedAdmin, adopt, request_actor, request_merchant

FLAG_LABELS = {
    "no_accrual": _("accrual"),
    "no_discount": _("discounts"),
    "no_bonus_payment": _("bonus payment"),
}


class FlagSelect(UnfoldAdminSelectWidget):
    """A three-way flag: inherit from the category, excluded, or explicitly not excluded."""

    def __init__(self, attrs=None):
        super().__init__(
            attrs,
            choices=[
                ("unknown", _("inherit from the category")),
                ("true", _("yes, excluded")),
                ("false", _("no, not excluded")),
            ],
        )

    def format_value(self, value):
        return {True: "true", False: "false", "True": "true", "False": "false"}.get(
            value, "unknown"
        )

    def value_from_datadict(self, data, files, name):
        return {"true": True, "True": True, "false": False, "False": False}.get(data.get(name))


def _flag_widgets():
    return {flag: FlagSelect() for flag in FLAGS}


class CategoryTreeCache:
    """The merchant's categories (id -> name, parent) loaded once per request, for the tree
    column and filter without a query per row."""

    @staticmethod
    def rows(request) -> dict[int, tuple[str, int | None]]:
        cached = getattr(request, "_kopilka_categories", None)
        if cached is None:
            merchant = request_merchant(request)
            queryset = (
                Category.objects.all()
                if merchant is None
                else Category.objects.filter(merchant=merchant)
            )
            cached = {
                pk: (name, parent)
                for pk, name, parent in queryset.values_list("pk", "name", "parent_id")
            }
            request._kopilka_categories = cached
        return cached

    @classmethod
    def path(cls, request, category_id: int | None) -> str:
        rows, names, seen = cls.rows(request), [], set()
        while category_id is not None and category_id in rows and category_id not in seen:
            seen.add(category_id)
            name, category_id = rows[category_id]
            names.append(name)
        return " › ".join(reversed(names))

    @classmethod
    def ordered(cls, request) -> list[tuple[int, str]]:
        """Every category with its depth-indented name, parents before their children."""
        rows = cls.rows(request)
        children: dict[int | None, list[int]] = {}
        for pk, (_name, parent) in rows.items():
            children.setdefault(parent if parent in rows else None, []).append(pk)

        def last_name_first(ids):  # the stack pops them in alphabetical order
            return sorted(ids, key=lambda pk: rows[pk][0], reverse=True)

        result, stack = [], [(pk, 0) for pk in last_name_first(children.get(None, []))]
        while stack:
            pk, depth = stack.pop()
            result.append((pk, "— " * depth + rows[pk][0]))
            stack.extend((kid, depth + 1) for kid in last_name_first(children.get(pk, [])))
        return result


class CategoryTreeFilter(admin.SimpleListFilter):
    """Products of a category and of all its subcategories."""

    title = _("category")
    parameter_name = "category"

    def lookups(self, request, model_admin):
        return [("none", _("without a category")), *CategoryTreeCache.ordered(request)]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "none":
            return queryset.filter(category__isnull=True)
        if not value or not value.isdigit():
            return queryset
        merchant = request_merchant(request)
        if merchant is None:
            return queryset.filter(category_id=int(value))
        return queryset.filter(
            category_id__in=category_tree(merchant=merchant).subtree([int(value)])
        )


def flag_filter(flag: str):
    """A filter on one flag as it applies at the till (own value, else the category's)."""

    class FlagFilter(admin.SimpleListFilter):
        title = excluded_from_label(flag)
        parameter_name = flag

        def lookups(self, request, model_admin):
            return [
                ("yes", _("excluded")),
                ("no", _("not excluded")),
                ("own", _("set on the product itself")),
            ]

        def queryset(self, request, queryset):
            value = self.value()
            if value == "own":
                return queryset.filter(**{f"{flag}__isnull": False})
            if value not in ("yes", "no"):
                return queryset
            excluded = Q(**{flag: True}) | Q(
                **{f"{flag}__isnull": True, "category_id__in": _excluding_categories(request, flag)}
            )
            return queryset.filter(excluded) if value == "yes" else queryset.exclude(excluded)

    return FlagFilter


def excluded_from_label(flag: str):
    return {
        "no_accrual": _("excluded from accrual"),
        "no_discount": _("excluded from discounts"),
        "no_bonus_payment": _("excluded from bonus payment"),
    }[flag]


def _excluding_categories(request, flag: str) -> list[int]:
    tree = _tree(request)
    if tree is None:
        return []
    return [pk for pk in CategoryTreeCache.rows(request) if tree.inherited(pk, flag)]


def _tree(request):
    """The merchant's category tree, loaded once per request."""
    tree = getattr(request, "_kopilka_tree", None)
    if tree is None:
        merchant = request_merchant(request)
        tree = request._kopilka_tree = category_tree(merchant=merchant) if merchant else None
    return tree


def flag_column(request, flag: str):
    """A flag as it applies: the row's own value, or the one its category passes down."""

    @admin.display(description=FLAG_LABELS[flag], ordering=flag)
    def column(obj):
        own = getattr(obj, flag)
        if own is not None:
            return _("excluded") if own else _("allowed")
        tree = _tree(request)
        parent = obj.parent_id if isinstance(obj, Category) else obj.category_id
        inherited = tree is not None and tree.inherited(parent, flag)
        return _("excluded by category") if inherited else "—"

    column.__name__ = flag
    return column


def _flag_action(flag: str, value: bool | None, description):
    def bulk_set(modeladmin, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        updated = modeladmin.run_action(
            request,
            services.products_set_flag,
            merchant=request_merchant(request),
            product_ids=ids,
            flag=flag,
            value=value,
        )
        if updated is not None:
            modeladmin.message_user(
                request,
                ngettext("%(count)d product updated.", "%(count)d products updated.", updated)
                % {"count": updated},
                messages.SUCCESS,
            )

    bulk_set.__name__ = f"set_{flag}_{'inherit' if value is None else str(value).lower()}"
    return admin.action(description=description, permissions=["change"])(bulk_set)


class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ["name", "parent", "code", *FLAGS]
        widgets = _flag_widgets()


@admin.register(Category)
class CategoryAdmin(MerchantScopedAdmin):
    form = CategoryForm
    list_display = ["name", "code", *FLAGS]
    search_fields = ["name", "code"]
    actions = None

    def get_list_display(self, request):
        @admin.display(description=_("category"), ordering="name")
        def tree_name(obj):
            return CategoryTreeCache.path(request, obj.pk)

        return [tree_name, "code", *(flag_column(request, flag) for flag in FLAGS)]

    delete_refusal = (
        _("Categories are never deleted: products and rules refer to them."),
        _("Move its products to another category; a category without products changes nothing."),
    )

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        actor, data = request_actor(request), form.cleaned_data
        if not change:
            created = services.category_create(
                merchant=request_merchant(request),
                actor=actor,
                name=data["name"],
                parent=data["parent"],
                code=data["code"],
                **{flag: data[flag] for flag in FLAGS},
            )
            adopt(obj, created)
            return
        category = services.category_update(
            category=obj,
            actor=actor,
            name=data["name"],
            code=data["code"],
            **{flag: data[flag] for flag in FLAGS},
        )
        if "parent" in form.changed_data:
            services.category_move(category=category, parent=data["parent"], actor=actor)


class ProductForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = ["sku", "name", "barcode", "category", *FLAGS]
        widgets = _flag_widgets()


@admin.register(Product)
class ProductAdmin(MerchantScopedAdmin):
    form = ProductForm
    list_display = ["sku", "name", "barcode", "category", *FLAGS]
    list_display_links = ["sku", "name"]
    search_fields = ["sku", "name", "barcode"]
    list_filter = [CategoryTreeFilter, *(flag_filter(flag) for flag in FLAGS)]
    list_filter_submit = True
    list_per_page = 50
    ordering = ["name", "pk"]
    actions = [
        _flag_action("no_accrual", True, _("Exclude from accrual")),
        _flag_action("no_discount", True, _("Exclude from discounts")),
        _flag_action("no_bonus_payment", True, _("Exclude from bonus payment")),
        _flag_action("no_accrual", False, _("Allow accrual")),
        _flag_action("no_discount", False, _("Allow discounts")),
        _flag_action("no_bonus_payment", False, _("Allow bonus payment")),
        _flag_action("no_accrual", None, _("Accrual: inherit from the category")),
        _flag_action("no_discount", None, _("Discounts: inherit from the category")),
        _flag_action("no_bonus_payment", None, _("Bonus payment: inherit from the category")),
    ]

    def get_list_display(self, request):
        @admin.display(description=_("category"), ordering="category__name")
        def category_path(obj):
            return CategoryTreeCache.path(request, obj.category_id)

        return [
            "sku",
            "name",
            "barcode",
            category_path,
            *(flag_column(request, flag) for flag in FLAGS),
        ]

    delete_refusal = (
        _("Products are never deleted: receipts name them."),
        _(
            "A product the tills no longer sell changes nothing; its flags decide its bonuses "
            "while it sells."
        ),
    )

    def has_delete_permission(self, request, obj=None):
        return False

    def get_search_results(self, request, queryset, search_term):
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term and connection.vendor == "sqlite":
            # SQLite's LIKE folds the case of ASCII letters only: "латте" must find "Латте".
            for spelling in {term.lower(), term.capitalize(), term.upper()} - {term}:
                found |= queryset.filter(name__contains=spelling)
        return found, may_have_duplicates

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in ProductForm.Meta.fields}
        if change:
            services.product_update(product=obj, actor=request_actor(request), **data)
            return
        created = services.product_create(
            merchant=request_merchant(request), actor=request_actor(request), **data
        )
        adopt(obj, created)


class SegmentForm(forms.ModelForm):
    class Meta:
        model = Segment
        fields = ["name", "categories", "products"]


@admin.register(Segment)
class SegmentAdmin(MerchantScopedAdmin):
    form = SegmentForm
    list_display = ["name"]
    search_fields = ["name"]
    filter_horizontal = ["categories", "products"]
    actions = None

    delete_refusal = (
        _("Segments are never deleted: rules and caps may name them."),
        _("Take it out of the rules and caps that use it; a segment nothing uses changes nothing."),
    )

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        actor, data = request_actor(request), form.cleaned_data
        if not change:
            adopt(
                obj,
                services.segment_create(
                    merchant=request_merchant(request),
                    actor=actor,
                    name=data["name"],
                    categories=data["categories"],
                    products=data["products"],
                ),
            )
            return
        services.segment_rename(segment=obj, name=data["name"], actor=actor)
        if {"categories", "products"} & set(form.changed_data):
            services.segment_set_members(
                segment=obj, categories=data["categories"], products=data["products"], actor=actor
            )

    def save_related(self, request, form, formsets, change):
        # Members were written by the service in save_model.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

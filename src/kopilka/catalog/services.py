"""Writes of the catalogue: categories, products (also those first seen at a till), segments
and the item flags."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from kopilka.merchants.actors import Actor
from kopilka.merchants.models import AuditAction, Merchant
from kopilka.merchants.services import audit_record

from .exceptions import (
    CategoryCycle,
    CategoryNotFound,
    DuplicateCategory,
    DuplicateProduct,
    DuplicateSegment,
    InvalidCatalogData,
    ProductNotFound,
    UnknownFlag,
)
from .models import Category, Product, Segment
from .selectors import category_tree
from .tree import FLAGS

AUTO_CREATE_ACTOR = Actor.system("catalog.auto_create")


# --- categories ------------------------------------------------------------------------------


@transaction.atomic
def category_create(
    *,
    merchant: Merchant,
    name: str,
    actor: Actor,
    parent: Category | None = None,
    code: str = "",
    no_accrual: bool | None = None,
    no_discount: bool | None = None,
    no_bonus_payment: bool | None = None,
) -> Category:
    _check_same_merchant(merchant.pk, parent)
    category = Category(
        merchant=merchant,
        parent=parent,
        name=_text(Category, "name", name, required=True),
        code=_text(Category, "code", code),
        no_accrual=_flag_value(no_accrual),
        no_discount=_flag_value(no_discount),
        no_bonus_payment=_flag_value(no_bonus_payment),
    )
    _save_category(category)
    audit_record(merchant=merchant, actor=actor, action=AuditAction.CATEGORY_CREATE, obj=category)
    return category


@transaction.atomic
def category_update(*, category: Category, actor: Actor, **fields) -> Category:
    """Change name, code or flags. Moving to another parent is category_move()."""
    allowed = {"name", "code", *FLAGS}
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"category_update() got unexpected fields: {sorted(unknown)}")
    category = _lock(Category, category)
    changed = {}
    for name, value in fields.items():
        if name in FLAGS:
            value = _flag_value(value)
        else:
            value = _text(Category, name, value, required=name == "name")
        if getattr(category, name) != value:
            changed[name] = value
            setattr(category, name, value)
    if changed:
        _save_category(category, update_fields=list(changed))
        audit_record(
            merchant=category.merchant,
            actor=actor,
            action=AuditAction.CATEGORY_UPDATE,
            obj=category,
            data={"fields": sorted(changed)},
        )
    return category


@transaction.atomic
def category_move(*, category: Category, parent: Category | None, actor: Actor) -> Category:
    """Put `category` (with its subtree) under `parent`, or at the top level when None."""
    category = _lock(Category, category)
    _check_same_merchant(category.merchant_id, parent)
    if parent is not None and parent.pk in category_tree(merchant=category.merchant).subtree(
        [category.pk]
    ):
        raise CategoryCycle(category_id=category.pk, parent_id=parent.pk)
    previous = category.parent_id
    category.parent = parent
    _save_category(category, update_fields=["parent"])
    audit_record(
        merchant=category.merchant,
        actor=actor,
        action=AuditAction.CATEGORY_MOVE,
        obj=category,
        data={"from": previous, "to": category.parent_id},
    )
    return category


@transaction.atomic
def categories_set_flag(
    *,
    merchant: Merchant,
    category_ids: Iterable[int],
    flag: str,
    value: bool | None,
    actor: Actor,
) -> int:
    """Set one flag on many categories at once (None: inherit from the parent again).

    All ids must be the merchant's; otherwise nothing changes. Returns the number updated.
    """
    return _bulk_set_flag(Category, merchant, category_ids, flag, value, actor, CategoryNotFound)


# --- products --------------------------------------------------------------------------------


@transaction.atomic
def product_create(
    *,
    merchant: Merchant,
    sku: str,
    name: str,
    actor: Actor,
    category: Category | None = None,
    barcode: str = "",
    no_accrual: bool | None = None,
    no_discount: bool | None = None,
    no_bonus_payment: bool | None = None,
) -> Product:
    _check_same_merchant(merchant.pk, category)
    product = Product(
        merchant=merchant,
        sku=_text(Product, "sku", sku, required=True),
        name=_text(Product, "name", name, required=True),
        category=category,
        barcode=_text(Product, "barcode", barcode),
        no_accrual=_flag_value(no_accrual),
        no_discount=_flag_value(no_discount),
        no_bonus_payment=_flag_value(no_bonus_payment),
    )
    _save_product(product)
    audit_record(merchant=merchant, actor=actor, action=AuditAction.PRODUCT_CREATE, obj=product)
    return product


@transaction.atomic
def product_update(*, product: Product, actor: Actor, **fields) -> Product:
    """Change sku, name, category, barcode or flags."""
    allowed = {"sku", "name", "category", "barcode", *FLAGS}
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"product_update() got unexpected fields: {sorted(unknown)}")
    product = _lock(Product, product)
    changed = {}
    for name, value in fields.items():
        if name in FLAGS:
            value = _flag_value(value)
        elif name == "category":
            _check_same_merchant(product.merchant_id, value)
            if product.category_id != (value.pk if value else None):
                changed[name] = value
                product.category = value
            continue
        else:
            value = _text(Product, name, value, required=name in ("sku", "name"))
        if getattr(product, name) != value:
            changed[name] = value
            setattr(product, name, value)
    if changed:
        _save_product(product, update_fields=list(changed))
        audit_record(
            merchant=product.merchant,
            actor=actor,
            action=AuditAction.PRODUCT_UPDATE,
            obj=product,
            data={"fields": sorted(changed)},
        )
    return product


@transaction.atomic
def product_get_or_create_by_sku(
    *,
    merchant: Merchant,
    sku: str,
    name: str = "",
    category: Category | None = None,
    actor: Actor = AUTO_CREATE_ACTOR,
) -> tuple[Product, bool]:
    """The product with this SKU, created on first sight so a till never fails because the
    catalogue lags behind. An existing product is returned as it is (the till's name does not
    overwrite the back office's). Returns (product, created).
    """
    sku = _text(Product, "sku", sku, required=True)
    _check_same_merchant(merchant.pk, category)
    name = (name or "").strip()[: Product._meta.get_field("name").max_length] or sku
    # get_or_create inserts in a savepoint and, when a concurrent till won the race on the
    # (merchant, sku) unique constraint, catches the IntegrityError and reads that row.
    product, created = Product.objects.get_or_create(
        merchant=merchant, sku=sku, defaults={"name": name, "category": category}
    )
    if created:
        audit_record(
            merchant=merchant,
            actor=actor,
            action=AuditAction.PRODUCT_AUTO_CREATE,
            obj=product,
        )
    return product, created


@transaction.atomic
def products_set_flag(
    *,
    merchant: Merchant,
    product_ids: Iterable[int],
    flag: str,
    value: bool | None,
    actor: Actor,
) -> int:
    """Set one flag on many products with a single UPDATE (None: inherit from the category).

    All ids must be the merchant's; otherwise nothing changes. Returns the number updated.
    """
    return _bulk_set_flag(Product, merchant, product_ids, flag, value, actor, ProductNotFound)


# --- segments --------------------------------------------------------------------------------


@transaction.atomic
def segment_create(
    *,
    merchant: Merchant,
    name: str,
    actor: Actor,
    categories: Iterable[Category | int] = (),
    products: Iterable[Product | int] = (),
) -> Segment:
    segment = Segment(merchant=merchant, name=_text(Segment, "name", name, required=True))
    if Segment.objects.filter(merchant=merchant, name=segment.name).exists():
        raise DuplicateSegment(name=segment.name)
    try:
        with transaction.atomic():
            segment.save()
    except IntegrityError as exc:
        raise DuplicateSegment(name=segment.name) from exc
    category_ids, product_ids = _set_members(segment, categories, products)
    audit_record(
        merchant=merchant,
        actor=actor,
        action=AuditAction.SEGMENT_CREATE,
        obj=segment,
        data={"category_ids": category_ids, "product_ids": product_ids},
    )
    return segment


@transaction.atomic
def segment_set_members(
    *,
    segment: Segment,
    categories: Iterable[Category | int],
    products: Iterable[Product | int],
    actor: Actor,
) -> Segment:
    """Make the segment consist of exactly these categories (with subtrees) and products."""
    segment = _lock(Segment, segment)
    category_ids, product_ids = _set_members(segment, categories, products)
    audit_record(
        merchant=segment.merchant,
        actor=actor,
        action=AuditAction.SEGMENT_SET_MEMBERS,
        obj=segment,
        data={"category_ids": category_ids, "product_ids": product_ids},
    )
    return segment


@transaction.atomic
def segment_rename(*, segment: Segment, name: str, actor: Actor) -> Segment:
    segment = _lock(Segment, segment)
    name = _text(Segment, "name", name, required=True)
    if name == segment.name:
        return segment
    if Segment.objects.filter(merchant_id=segment.merchant_id, name=name).exists():
        raise DuplicateSegment(name=name)
    previous, segment.name = segment.name, name
    segment.save(update_fields=["name"])
    audit_record(
        merchant=segment.merchant,
        actor=actor,
        action=AuditAction.SEGMENT_RENAME,
        obj=segment,
        data={"from": previous, "to": name},
    )
    return segment


# --- helpers ---------------------------------------------------------------------------------


def _text(model, field: str, value, *, required: bool = False) -> str:
    value = (value or "").strip()
    max_length = model._meta.get_field(field).max_length
    if required and not value:
        raise InvalidCatalogData(_("This field is required."), field=field)
    if max_length and len(value) > max_length:
        raise InvalidCatalogData(
            format_lazy(_("At most {n} characters."), n=max_length), field=field
        )
    return value


def _flag_value(value):
    if value not in (True, False, None):
        raise InvalidCatalogData(_("A flag is yes, no, or empty (inherit)."))
    return value


def _check_same_merchant(merchant_id: int, category: Category | None) -> None:
    # Another merchant's category is reported as missing, like any unknown id.
    if category is not None and category.merchant_id != merchant_id:
        raise CategoryNotFound(category_id=category.pk)


def _lock(model, obj):
    return (
        model.objects.select_for_update(of=("self",))
        .select_related("merchant")
        .get(pk=obj.pk, merchant_id=obj.merchant_id)
    )


def _save_category(category: Category, update_fields=None) -> None:
    siblings = Category.objects.filter(
        merchant_id=category.merchant_id, parent_id=category.parent_id, name=category.name
    ).exclude(pk=category.pk)
    if siblings.exists():
        raise DuplicateCategory(name=category.name)
    try:
        with transaction.atomic():
            category.save(update_fields=update_fields)
    except IntegrityError as exc:
        raise DuplicateCategory(name=category.name) from exc


def _save_product(product: Product, update_fields=None) -> None:
    others = Product.objects.filter(merchant_id=product.merchant_id, sku=product.sku)
    if others.exclude(pk=product.pk).exists():
        raise DuplicateProduct(sku=product.sku)
    try:
        with transaction.atomic():
            product.save(update_fields=update_fields)
    except IntegrityError as exc:
        raise DuplicateProduct(sku=product.sku) from exc


SET_FLAG_ACTIONS = {
    Category: AuditAction.CATEGORY_SET_FLAG,
    Product: AuditAction.PRODUCT_SET_FLAG,
}


def _bulk_set_flag(model, merchant, ids, flag, value, actor, not_found) -> int:
    if flag not in FLAGS:
        raise UnknownFlag(flag=flag)
    value = _flag_value(value)
    ids = sorted({int(i) for i in ids})
    if not ids:
        return 0
    updated = model.objects.filter(merchant=merchant, pk__in=ids).update(**{flag: value})
    if updated != len(ids):
        # Some ids are unknown or another merchant's: the exception rolls the UPDATE back,
        # which is cheaper than checking first in a second query.
        raise not_found(ids=ids)
    audit_record(
        merchant=merchant,
        actor=actor,
        action=SET_FLAG_ACTIONS[model],
        obj=merchant,
        data={"flag": flag, "value": value, "ids": ids},
    )
    return updated


def _ids_of(merchant_id: int, model, items, not_found) -> list[int]:
    wanted = {i.pk if isinstance(i, model) else int(i) for i in items}
    if not wanted:
        return []
    found = set(
        model.objects.filter(merchant_id=merchant_id, pk__in=wanted).values_list("pk", flat=True)
    )
    if found != wanted:
        raise not_found(ids=sorted(wanted - found))
    return sorted(found)


def _set_members(segment: Segment, categories, products) -> tuple[list[int], list[int]]:
    category_ids = _ids_of(segment.merchant_id, Category, categories, CategoryNotFound)
    product_ids = _ids_of(segment.merchant_id, Product, products, ProductNotFound)
    segment.categories.set(category_ids)
    segment.products.set(product_ids)
    return category_ids, product_ids

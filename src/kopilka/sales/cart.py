"""Turn a till's receipt lines into the engine's cart: products, inherited flags, segments.

One query whatever the receipt: the lines' products with the segments naming them, together
with the merchant's category tree and the segments naming each category (a product is in a
segment that names it or any of its category's ancestors: `catalog.selectors.SegmentIndex`
decides).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from kopilka import rules
from kopilka.catalog import sql as catalog_sql
from kopilka.catalog.models import Category, Product, Segment
from kopilka.catalog.selectors import SegmentIndex
from kopilka.catalog.services import product_get_or_create_by_sku
from kopilka.catalog.tree import FLAGS, CategoryTree, Node


@dataclass(frozen=True, slots=True)
class Item:
    """What a receipt line needs of its catalogue product. `pk` is None for a product a
    quote only imagines (an unknown SKU in a known category); `flags` are its explicit
    values (None: inherit); `segment_ids`, the merchant's segments naming the product."""

    pk: int | None
    category_id: int | None
    flags: dict[str, bool | None] = field(default_factory=dict)
    segment_ids: frozenset[int] = frozenset()


def _category_for(merchant, name: str | None, cache: dict) -> Category | None:
    if not name:
        return None
    if name not in cache:
        cache[name] = (
            Category.objects.filter(merchant=merchant, code=name).first()
            or Category.objects.filter(merchant=merchant, name=name).order_by("id").first()
        )
    return cache[name]


def _flag(value) -> bool | None:
    return None if value is None else bool(value)  # SQLite answers 0 / 1


@dataclass(frozen=True, slots=True)
class Catalog:
    """What a receipt's lines need of the catalogue: their products by SKU, the merchant's
    category tree, and the segments naming each category."""

    items: dict[str, Item]
    tree: CategoryTree
    category_segments: dict[int, set[int]]


def _named_segments(merchant, product_ids: list[int]) -> dict[int, set[int]]:
    named: dict[int, set[int]] = {}
    for product_id, segment_id in Segment.products.through.objects.filter(
        product_id__in=product_ids, segment__merchant=merchant
    ).values_list("product_id", "segment_id"):
        named.setdefault(product_id, set()).add(segment_id)
    return named


def catalog_for_lines(merchant, lines, *, create_missing: bool) -> Catalog:
    """The merchant's products by SKU and category tree, one query for all that exists. At
    confirm, unknown SKUs are created on first sight; a quote writes nothing and leaves them
    unknown."""
    skus = sorted({line.sku for line in lines})
    rows = catalog_sql.products_and_categories(merchant_id=merchant.pk, skus=skus)
    found = {
        sku: Item(
            pk, category_id, dict(zip(FLAGS, map(_flag, flags), strict=True)), frozenset(named)
        )
        for (kind, _), ((pk, sku, category_id, *flags), named) in rows.items()
        if kind == "p"
    }
    tree = CategoryTree(
        Node(pk, parent_id, dict(zip(FLAGS, map(_flag, flags), strict=True)))
        for (kind, _), ((pk, _sku, parent_id, *flags), _named) in rows.items()
        if kind == "c"
    )
    category_segments = {
        pk: named for (kind, pk), (_, named) in rows.items() if kind == "c" and named
    }
    categories: dict = {}
    created: dict[str, Product] = {}
    for line in lines:
        if line.sku in found or line.sku in created:
            continue
        category = _category_for(merchant, line.category, categories)
        if create_missing:
            created[line.sku], _ = product_get_or_create_by_sku(
                merchant=merchant, sku=line.sku, name=line.name or "", category=category
            )
        elif category is not None:
            # Not saved: the quote only needs the category's flags and segments, exactly as
            # the product confirm will create.
            found[line.sku] = Item(None, category.pk)
    if created:
        # A product another till (or a differently spelt SKU) created first may be named.
        named = _named_segments(merchant, [p.pk for p in created.values()])
        for sku, product in created.items():
            found[sku] = Item(
                product.pk,
                product.category_id,
                {f: getattr(product, f) for f in FLAGS},
                frozenset(named.get(product.pk, ())),
            )
    return Catalog(found, tree, category_segments)


def build_cart(
    lines,
    catalog: Catalog,
    *,
    requested_spend: int | None,
    store_accepts_bonus_payment: bool,
    spend_allowed: bool,
    store_id: int | None = None,
) -> rules.Cart:
    tree, products = catalog.tree, catalog.items
    segments = SegmentIndex.from_naming(
        tree,
        categories=catalog.category_segments,
        products={item.pk: item.segment_ids for item in products.values() if item.pk},
    )
    cart_lines = []
    for line in lines:
        item = products.get(line.sku)
        base = tree.flags_for(item.category_id, item.flags) if item else None
        segment_ids = segments.of_ids(item.pk, item.category_id) if item else frozenset()
        asked = line.flags
        cart_lines.append(
            rules.CartLine(
                line_no=line.line_no,
                sku=line.sku,
                qty=Fraction(Decimal(line.qty)),
                unit_price=line.unit_price,
                pos_discount=line.pos_discount,
                # The till may exclude more than the catalogue does, never less.
                no_accrual=bool((base and base.no_accrual) or (asked and asked.no_accrual)),
                no_discount=bool((base and base.no_discount) or (asked and asked.no_discount)),
                no_bonus_payment=bool(
                    (base and base.no_bonus_payment) or (asked and asked.no_bonus_payment)
                ),
                segment_ids=segment_ids,
            )
        )
    return rules.Cart(
        lines=tuple(cart_lines),
        requested_spend=requested_spend,
        store_accepts_bonus_payment=store_accepts_bonus_payment,
        spend_allowed=spend_allowed,
        store_id=store_id,
    )

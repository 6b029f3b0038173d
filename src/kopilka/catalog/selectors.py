"""Reads of the catalogue: lookups, effective item flags and segment membership."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Q

from kopilka.merchants.models import Merchant

from .exceptions import CategoryNotFound, ProductNotFound, SegmentNotFound
from .models import Category, Product, Segment
from .tree import FLAGS, CategoryTree, Flags, Node


def category_tree(*, merchant: Merchant) -> CategoryTree:
    """The merchant's whole category tree in one query (trees are hundreds of rows, not more)."""
    rows = Category.objects.filter(merchant=merchant).values("id", "parent_id", *FLAGS)
    return CategoryTree(
        Node(row["id"], row["parent_id"], {f: row[f] for f in FLAGS}) for row in rows
    )


def category_get(*, merchant: Merchant, pk) -> Category:
    try:
        return Category.objects.get(merchant=merchant, pk=int(pk))
    except (Category.DoesNotExist, TypeError, ValueError) as exc:
        raise CategoryNotFound(category_id=str(pk)) from exc


def product_get(*, merchant: Merchant, pk) -> Product:
    try:
        return Product.objects.get(merchant=merchant, pk=int(pk))
    except (Product.DoesNotExist, TypeError, ValueError) as exc:
        raise ProductNotFound(product_id=str(pk)) from exc


def product_get_by_sku(*, merchant: Merchant, sku: str) -> Product:
    try:
        return Product.objects.get(merchant=merchant, sku=(sku or "").strip())
    except Product.DoesNotExist as exc:
        raise ProductNotFound(sku=sku) from exc


def segment_get(*, merchant: Merchant, pk) -> Segment:
    try:
        return Segment.objects.get(merchant=merchant, pk=int(pk))
    except (Segment.DoesNotExist, TypeError, ValueError) as exc:
        raise SegmentNotFound(segment_id=str(pk)) from exc


def effective_flags(
    *, merchant: Merchant, products: Iterable[Product], tree: CategoryTree | None = None
) -> dict[int, Flags]:
    """Flags of each product after inheritance: the product's own explicit value, else the
    nearest ancestor category's explicit value, else False.

    One query for the tree (none if the caller passes one it already loaded), whatever the
    number of products.
    """
    products = list(products)
    foreign = [p.pk for p in products if p.merchant_id != merchant.pk]
    if foreign:
        raise ProductNotFound(product_ids=foreign)
    if tree is None:
        tree = category_tree(merchant=merchant)
    return {
        p.pk: tree.flags_for(p.category_id, {f: getattr(p, f) for f in FLAGS}) for p in products
    }


def segment_category_ids(*, segment: Segment, tree: CategoryTree | None = None) -> set[int]:
    """Categories the segment covers: those it names and all their subcategories."""
    if tree is None:
        tree = category_tree(merchant=segment.merchant)
    named = segment.categories.filter(merchant_id=segment.merchant_id).values_list("pk", flat=True)
    return tree.subtree(named)


def segment_product_ids(*, segment: Segment) -> set[int]:
    """Known products in the segment: those it names and those anywhere under its categories."""
    category_ids = segment_category_ids(segment=segment)
    named = segment.products.filter(merchant_id=segment.merchant_id).values_list("pk", flat=True)
    return set(
        Product.objects.filter(merchant_id=segment.merchant_id)
        .filter(Q(pk__in=named) | Q(category_id__in=category_ids))
        .values_list("pk", flat=True)
    )


def segment_contains(*, segment: Segment, product: Product) -> bool:
    if product.merchant_id != segment.merchant_id:
        return False
    if segment.products.filter(pk=product.pk).exists():
        return True
    return product.category_id is not None and product.category_id in segment_category_ids(
        segment=segment
    )


class SegmentIndex:
    """Which of the merchant's segments a product belongs to: those naming the product, its
    category or any ancestor of that category. Works for saved products and for ones a till
    names for the first time (known only by their category)."""

    def __init__(self, merchant: Merchant, tree: CategoryTree):
        categories: dict[int, set[int]] = defaultdict(set)
        products: dict[int, set[int]] = defaultdict(set)
        named = Segment.categories.through.objects.filter(segment__merchant=merchant)
        for category_id, segment_id in named.values_list("category_id", "segment_id"):
            categories[category_id].add(segment_id)
        named = Segment.products.through.objects.filter(segment__merchant=merchant)
        for product_id, segment_id in named.values_list("product_id", "segment_id"):
            products[product_id].add(segment_id)
        self._use(tree, categories, products)

    @classmethod
    def from_naming(
        cls,
        tree: CategoryTree,
        *,
        categories: dict[int, set[int]],
        products: dict[int, frozenset[int]],
    ) -> SegmentIndex:
        """An index over what the caller has already read: the segments naming each category
        and each product it will ask about (by id)."""
        index = cls.__new__(cls)
        index._use(tree, categories, products)
        return index

    def _use(self, tree: CategoryTree, categories, products) -> None:
        self._tree, self._categories, self._products = tree, categories, products

    def of(self, product: Product) -> frozenset[int]:
        return self.of_ids(product.pk, product.category_id)

    def of_ids(self, product_id: int | None, category_id: int | None) -> frozenset[int]:
        """The same for a product known only by its id and category (e.g. a receipt line)."""
        found = set(self._products.get(product_id, ())) if product_id is not None else set()
        for ancestor in self._tree.ancestors(category_id):
            found.update(self._categories.get(ancestor, ()))
        return frozenset(found)

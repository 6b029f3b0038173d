"""Turn a till's receipt lines into the engine's cart: products, inherited flags, segments."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from kopilka import rules
from kopilka.catalog.models import Category, Product
from kopilka.catalog.selectors import SegmentIndex, category_tree
from kopilka.catalog.services import product_get_or_create_by_sku
from kopilka.catalog.tree import FLAGS


def _category_for(merchant, name: str | None, cache: dict) -> Category | None:
    if not name:
        return None
    if name not in cache:
        cache[name] = (
            Category.objects.filter(merchant=merchant, code=name).first()
            or Category.objects.filter(merchant=merchant, name=name).order_by("id").first()
        )
    return cache[name]


def products_for_lines(merchant, lines, *, create_missing: bool) -> dict[str, Product]:
    """The merchant's products by SKU, one query for the known ones. At confirm, unknown SKUs
    are created on first sight; a quote writes nothing and leaves them unknown."""
    skus = {line.sku for line in lines}
    found = {p.sku: p for p in Product.objects.filter(merchant=merchant, sku__in=skus)}
    categories: dict = {}
    for line in lines:
        if line.sku in found:
            continue
        category = _category_for(merchant, line.category, categories)
        if create_missing:
            found[line.sku], _ = product_get_or_create_by_sku(
                merchant=merchant, sku=line.sku, name=line.name or "", category=category
            )
        elif category is not None:
            # Not saved: the quote only needs the category's flags and segments, exactly as
            # the product confirm will create.
            found[line.sku] = Product(merchant=merchant, sku=line.sku, category=category)
    return found


def build_cart(
    merchant,
    lines,
    products: dict[str, Product],
    *,
    requested_spend: int | None,
    store_accepts_bonus_payment: bool,
    spend_allowed: bool,
    store_id: int | None = None,
) -> rules.Cart:
    tree = category_tree(merchant=merchant)
    segments = SegmentIndex(merchant, tree)
    cart_lines = []
    for line in lines:
        product = products.get(line.sku)
        base = (
            tree.flags_for(product.category_id, {f: getattr(product, f) for f in FLAGS})
            if product
            else None
        )
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
                segment_ids=segments.of(product) if product else frozenset(),
            )
        )
    return rules.Cart(
        lines=tuple(cart_lines),
        requested_spend=requested_spend,
        store_accepts_bonus_payment=store_accepts_bonus_payment,
        spend_allowed=spend_allowed,
        store_id=store_id,
    )

"""The cart a till's lines become agrees with the catalogue's own rules: the effective flags
of `catalog.selectors.effective_flags` and the segments of `catalog.selectors.SegmentIndex`,
for products named by segments, products in (sub)categories named by segments, unknown SKUs,
and with another merchant's segments around."""

from types import SimpleNamespace

import pytest

from kopilka.catalog import services as catalog
from kopilka.catalog.models import Product
from kopilka.catalog.selectors import SegmentIndex, category_tree, effective_flags
from kopilka.sales.cart import build_cart, catalog_for_lines


def _line(no, sku, category=None):
    return SimpleNamespace(
        line_no=no, sku=sku, name="", category=category, qty="1", unit_price=100,
        pos_discount=0, flags=None,
    )  # fmt: skip


def _cart(merchant, lines, *, create_missing):
    catalog = catalog_for_lines(merchant, lines, create_missing=create_missing)
    return build_cart(
        lines,
        catalog,
        requested_spend=0,
        store_accepts_bonus_payment=True,
        spend_allowed=True,
    )


@pytest.fixture
def shop(merchant, other_merchant, actor, category):
    food = category("Еда", no_discount=True)
    dairy = category("Молочное", parent=food, no_accrual=True)
    cheese = category("Сыры", parent=dairy, no_accrual=False)
    bar = category("Бар", no_bonus_payment=True)
    products = {
        sku: catalog.product_create(
            merchant=merchant, sku=sku, name=sku, category=where, actor=actor, **flags
        )
        for sku, where, flags in [
            ("MILK", dairy, {}),
            ("BRIE", cheese, {"no_discount": False}),
            ("BREAD", food, {"no_bonus_payment": True}),
            ("BEER", bar, {}),
            ("LOOSE", None, {"no_accrual": True}),
        ]
    }
    catalog.segment_create(merchant=merchant, name="food", categories=[food], actor=actor)
    catalog.segment_create(merchant=merchant, name="dairy", categories=[dairy], actor=actor)
    catalog.segment_create(
        merchant=merchant,
        name="picks",
        products=[products["BRIE"], products["BEER"], products["LOOSE"]],
        actor=actor,
    )
    catalog.segment_create(
        merchant=merchant, name="mixed", categories=[bar], products=[products["MILK"]], actor=actor
    )
    catalog.segment_create(merchant=merchant, name="empty", actor=actor)
    elsewhere = catalog.category_create(merchant=other_merchant, name="Еда", actor=actor)
    catalog.product_create(
        merchant=other_merchant, sku="MILK", name="MILK", category=elsewhere, actor=actor
    )
    catalog.segment_create(
        merchant=other_merchant, name="food", categories=[elsewhere], actor=actor
    )
    return products


def test_known_products_get_the_catalogues_flags_and_segments(merchant, shop):
    lines = [_line(n, sku) for n, sku in enumerate(["MILK", "BRIE", "BREAD", "BEER", "LOOSE"], 1)]
    cart = _cart(merchant, lines, create_missing=False)

    tree = category_tree(merchant=merchant)
    index = SegmentIndex(merchant, tree)
    flags = effective_flags(merchant=merchant, products=shop.values(), tree=tree)
    for cart_line in cart.lines:
        product = shop[cart_line.sku]
        assert cart_line.segment_ids == index.of(product), cart_line.sku
        expected = flags[product.pk]
        assert (cart_line.no_accrual, cart_line.no_discount, cart_line.no_bonus_payment) == (
            expected.no_accrual,
            expected.no_discount,
            expected.no_bonus_payment,
        ), cart_line.sku


def test_an_unknown_sku_is_quoted_as_a_product_of_its_category_and_confirmed_as_one(merchant, shop):
    lines = [_line(1, "NEW-CHEESE", category="Сыры"), _line(2, "NEW-THING")]
    quoted = _cart(merchant, lines, create_missing=False)
    assert not Product.objects.filter(sku__startswith="NEW-").exists()

    confirmed = _cart(merchant, lines, create_missing=True)
    created = Product.objects.get(merchant=merchant, sku="NEW-CHEESE")
    index = SegmentIndex(merchant, category_tree(merchant=merchant))
    for cart in (quoted, confirmed):
        cheese, thing = cart.lines
        assert cheese.segment_ids == index.of(created)
        assert (cheese.no_accrual, cheese.no_discount, cheese.no_bonus_payment) == (
            False,
            True,
            False,
        )
        assert thing.segment_ids == frozenset()
        assert not (thing.no_accrual or thing.no_discount or thing.no_bonus_payment)

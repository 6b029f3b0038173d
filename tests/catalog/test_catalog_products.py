import threading

import pytest
from django.db import connection

from kopilka.catalog.exceptions import (
    CategoryNotFound,
    DuplicateCategory,
    DuplicateProduct,
    ProductNotFound,
)
from kopilka.catalog.models import Product
from kopilka.catalog.selectors import (
    effective_flags,
    product_get,
    segment_contains,
    segment_product_ids,
)
from kopilka.catalog.services import (
    category_create,
    product_create,
    product_get_or_create_by_sku,
    product_update,
    segment_create,
    segment_set_members,
)
from kopilka.merchants.models import AuditEvent


def test_an_unknown_sku_is_created_once_on_first_sight(merchant):
    product, created = product_get_or_create_by_sku(merchant=merchant, sku=" 4601 ", name="Milk")
    again, created_again = product_get_or_create_by_sku(merchant=merchant, sku="4601", name="Kefir")

    assert (created, created_again) == (True, False)
    assert again == product and again.name == "Milk"
    assert Product.objects.filter(merchant=merchant).count() == 1
    assert AuditEvent.objects.filter(action="product.auto_create").count() == 1


def test_an_unknown_sku_without_a_name_is_named_by_its_sku(merchant):
    product, _ = product_get_or_create_by_sku(merchant=merchant, sku="X-1")
    assert product.name == "X-1"


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_tills_seeing_a_new_sku_at_once_create_one_product(merchant):
    start = threading.Barrier(4)
    results = []

    def till():
        try:
            start.wait()
            results.append(product_get_or_create_by_sku(merchant=merchant, sku="NEW")[0].pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=till) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and len(set(results)) == 1


def test_a_sku_is_unique_per_merchant(merchant, other_merchant, actor):
    product_create(merchant=merchant, sku="1", name="A", actor=actor)
    product_create(merchant=other_merchant, sku="1", name="A", actor=actor)
    with pytest.raises(DuplicateProduct):
        product_create(merchant=merchant, sku="1", name="B", actor=actor)


def test_top_level_category_names_are_unique_too(merchant, actor):
    category_create(merchant=merchant, name="Bar", actor=actor)
    with pytest.raises(DuplicateCategory):
        category_create(merchant=merchant, name="Bar", actor=actor)


def test_a_product_update_changes_category_and_flags(merchant, actor):
    bar = category_create(merchant=merchant, name="Bar", actor=actor, no_discount=True)
    product = product_create(merchant=merchant, sku="1", name="Beer", actor=actor)
    product = product_update(product=product, actor=actor, category=bar, no_accrual=True)
    assert effective_flags(merchant=merchant, products=[product])[product.pk].no_discount
    assert product.no_accrual is True
    assert AuditEvent.objects.get(action="product.update").data == {
        "fields": ["category", "no_accrual"]
    }


def test_a_segment_holds_whole_subtrees_and_single_products(merchant, actor):
    bar = category_create(merchant=merchant, name="Bar", actor=actor)
    drinks = category_create(merchant=merchant, name="Drinks", parent=bar, actor=actor)
    cocktails = category_create(merchant=merchant, name="Cocktails", parent=drinks, actor=actor)
    tickets = category_create(merchant=merchant, name="Tickets", actor=actor)
    mojito = product_create(
        merchant=merchant, sku="1", name="Mojito", category=cocktails, actor=actor
    )
    nuts = product_create(merchant=merchant, sku="2", name="Nuts", category=bar, actor=actor)
    film = product_create(merchant=merchant, sku="3", name="Film", category=tickets, actor=actor)
    popcorn = product_create(merchant=merchant, sku="4", name="Popcorn", actor=actor)

    segment = segment_create(
        merchant=merchant, name="Bar", categories=[drinks], products=[popcorn], actor=actor
    )

    assert segment_product_ids(segment=segment) == {mojito.pk, popcorn.pk}
    assert segment_contains(segment=segment, product=mojito)
    assert segment_contains(segment=segment, product=popcorn)
    assert not segment_contains(segment=segment, product=nuts)
    assert not segment_contains(segment=segment, product=film)

    segment_set_members(segment=segment, categories=[bar.pk], products=[], actor=actor)
    assert segment_product_ids(segment=segment) == {mojito.pk, nuts.pk}


def test_another_merchants_catalogue_is_out_of_reach(merchant, other_merchant, actor):
    theirs_cat = category_create(merchant=other_merchant, name="Bar", actor=actor)
    theirs = product_create(merchant=other_merchant, sku="1", name="Beer", actor=actor)

    with pytest.raises(ProductNotFound):
        product_get(merchant=merchant, pk=theirs.pk)
    with pytest.raises(ProductNotFound):
        effective_flags(merchant=merchant, products=[theirs])
    with pytest.raises(CategoryNotFound):
        category_create(merchant=merchant, name="Sub", parent=theirs_cat, actor=actor)
    with pytest.raises(CategoryNotFound):
        product_create(merchant=merchant, sku="2", name="X", category=theirs_cat, actor=actor)
    with pytest.raises(CategoryNotFound):
        segment_create(merchant=merchant, name="S", categories=[theirs_cat], actor=actor)
    with pytest.raises(ProductNotFound):
        segment_create(merchant=merchant, name="S", products=[theirs.pk], actor=actor)
    mine = segment_create(merchant=merchant, name="S", actor=actor)
    assert not segment_contains(segment=mine, product=theirs)

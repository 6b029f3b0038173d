import pytest

from kopilka.catalog.exceptions import CategoryCycle, ProductNotFound, UnknownFlag
from kopilka.catalog.models import Product
from kopilka.catalog.selectors import effective_flags
from kopilka.catalog.services import (
    categories_set_flag,
    category_create,
    category_move,
    product_create,
    products_set_flag,
)
from kopilka.catalog.tree import Flags
from kopilka.merchants.models import AuditEvent


@pytest.fixture
def tree(merchant, actor):
    """Pharmacy > Medicines > Prescription, with a flag set at each level."""
    pharmacy = category_create(
        merchant=merchant, name="Pharmacy", actor=actor, no_accrual=True, no_bonus_payment=True
    )
    medicines = category_create(
        merchant=merchant, name="Medicines", parent=pharmacy, actor=actor, no_discount=True
    )
    prescription = category_create(
        merchant=merchant,
        name="Prescription",
        parent=medicines,
        actor=actor,
        no_bonus_payment=False,
    )
    return pharmacy, medicines, prescription


def test_flags_are_inherited_down_three_levels_and_a_product_overrides(merchant, tree, actor):
    pharmacy, _medicines, prescription = tree
    plain = product_create(
        merchant=merchant, sku="1", name="Aspirin", category=prescription, actor=actor
    )
    override = product_create(
        merchant=merchant,
        sku="2",
        name="Insulin",
        category=prescription,
        no_accrual=False,
        actor=actor,
    )
    top = product_create(merchant=merchant, sku="3", name="Cream", category=pharmacy, actor=actor)
    loose = product_create(merchant=merchant, sku="4", name="Bag", actor=actor)

    flags = effective_flags(merchant=merchant, products=[plain, override, top, loose])

    # no_accrual from the root, no_discount from the middle, no_bonus_payment from the leaf.
    assert flags[plain.pk] == Flags(no_accrual=True, no_discount=True, no_bonus_payment=False)
    assert flags[override.pk] == Flags(no_accrual=False, no_discount=True, no_bonus_payment=False)
    assert flags[top.pk] == Flags(no_accrual=True, no_discount=False, no_bonus_payment=True)
    assert flags[loose.pk] == Flags()


def test_effective_flags_cost_one_query_whatever_the_number_of_products(
    merchant, tree, actor, django_assert_num_queries
):
    for n in range(30):
        product_create(
            merchant=merchant, sku=str(n), name=f"P{n}", category=tree[n % 3], actor=actor
        )
    products = list(Product.objects.filter(merchant=merchant))
    with django_assert_num_queries(1):
        flags = effective_flags(merchant=merchant, products=products)
    assert len(flags) == 30


def test_clearing_a_category_flag_makes_it_inherit_again(merchant, tree, actor):
    prescription = tree[2]
    product = product_create(
        merchant=merchant, sku="1", name="Aspirin", category=prescription, actor=actor
    )
    categories_set_flag(
        merchant=merchant,
        category_ids=[prescription.pk],
        flag="no_bonus_payment",
        value=None,
        actor=actor,
    )
    flags = effective_flags(merchant=merchant, products=[product])
    assert flags[product.pk].no_bonus_payment is True


def test_products_are_flagged_in_bulk_with_one_update_and_one_audit_row(
    merchant, actor, django_assert_num_queries
):
    products = [
        product_create(merchant=merchant, sku=str(n), name=f"P{n}", actor=actor) for n in range(50)
    ]
    ids = [p.pk for p in products]

    # savepoint, UPDATE, audit INSERT, release
    with django_assert_num_queries(4) as captured:
        updated = products_set_flag(
            merchant=merchant, product_ids=ids, flag="no_accrual", value=True, actor=actor
        )
    assert updated == 50
    assert [q["sql"].split()[0] for q in captured.captured_queries].count("UPDATE") == 1
    assert set(Product.objects.values_list("no_accrual", flat=True)) == {True}
    assert AuditEvent.objects.filter(action="product.set_flag").count() == 1

    products_set_flag(
        merchant=merchant, product_ids=ids, flag="no_accrual", value=None, actor=actor
    )
    assert set(Product.objects.values_list("no_accrual", flat=True)) == {None}


def test_bulk_flagging_with_a_foreign_id_changes_nothing(merchant, other_merchant, actor):
    mine = product_create(merchant=merchant, sku="1", name="Mine", actor=actor)
    theirs = product_create(merchant=other_merchant, sku="1", name="Theirs", actor=actor)
    with pytest.raises(ProductNotFound):
        products_set_flag(
            merchant=merchant,
            product_ids=[mine.pk, theirs.pk],
            flag="no_discount",
            value=True,
            actor=actor,
        )
    assert set(Product.objects.values_list("no_discount", flat=True)) == {None}


def test_an_unknown_flag_is_refused(merchant, actor):
    with pytest.raises(UnknownFlag):
        products_set_flag(merchant=merchant, product_ids=[1], flag="free", value=True, actor=actor)


def test_a_category_cannot_move_into_its_own_subtree(merchant, tree, actor):
    pharmacy, medicines, prescription = tree
    with pytest.raises(CategoryCycle):
        category_move(category=pharmacy, parent=prescription, actor=actor)
    with pytest.raises(CategoryCycle):
        category_move(category=medicines, parent=medicines, actor=actor)

    category_move(category=prescription, parent=None, actor=actor)
    category_move(category=pharmacy, parent=prescription, actor=actor)
    pharmacy.refresh_from_db()
    assert pharmacy.parent == prescription

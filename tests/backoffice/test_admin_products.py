"""The products list of the back office: search, the category-tree and flag filters, bulk
exclusions through the audited service, saves through services, and tenancy."""

import re

import pytest

from kopilka.catalog import services as catalog
from kopilka.catalog.models import Category, Product
from kopilka.merchants.models import AuditEvent, Role
from tests.conftest import SYSTEM

from .admin_client import page_form_data, staff_user

LIST = "/admin/catalog/product/"


@pytest.fixture
def shelf(merchant):
    """Drinks > Coffee (excluded from accrual), Food; four products."""
    drinks = catalog.category_create(merchant=merchant, name="Напитки", actor=SYSTEM)
    coffee = catalog.category_create(
        merchant=merchant, name="Кофе", parent=drinks, no_accrual=True, actor=SYSTEM
    )
    food = catalog.category_create(merchant=merchant, name="Еда", actor=SYSTEM)

    def product(sku, name, category, **fields):
        return catalog.product_create(
            merchant=merchant, sku=sku, name=name, category=category, actor=SYSTEM, **fields
        )

    return {
        "drinks": drinks,
        "coffee": coffee,
        "food": food,
        "latte": product("C-1", "Латте", coffee, barcode="4600000000017"),
        "espresso": product("C-2", "Эспрессо", coffee, no_accrual=False),
        "water": product("W-1", "Вода", drinks),
        "bun": product("F-1", "Булочка", food),
    }


@pytest.fixture
def marketer(client, merchant):
    client.force_login(staff_user(merchant, Role.MARKETER))
    return client


def listed(response) -> set[str]:
    return {product.sku for product in response.context["cl"].result_list}


@pytest.mark.parametrize(
    ("query", "expected"),
    [("C-2", {"C-2"}), ("латте", {"C-1"}), ("4600000000017", {"C-1"}), ("Вод", {"W-1"})],
)
def test_products_are_found_by_sku_name_or_barcode(marketer, shelf, query, expected):
    assert listed(marketer.get(LIST, {"q": query})) == expected


def test_the_category_filter_takes_in_the_whole_subtree(marketer, shelf):
    drinks = marketer.get(LIST, {"category": shelf["drinks"].pk})
    assert listed(drinks) == {"C-1", "C-2", "W-1"}
    assert listed(marketer.get(LIST, {"category": shelf["coffee"].pk})) == {"C-1", "C-2"}
    choices = [title for _, title in drinks.context["cl"].filter_specs[0].lookup_choices]
    assert "— Кофе" in choices


def test_the_flag_filter_follows_inheritance_and_own_overrides(marketer, shelf):
    # Latte inherits "no accrual" from Coffee; Espresso overrides it on itself.
    assert listed(marketer.get(LIST, {"no_accrual": "yes"})) == {"C-1"}
    assert listed(marketer.get(LIST, {"no_accrual": "no"})) == {"C-2", "W-1", "F-1"}
    assert listed(marketer.get(LIST, {"no_accrual": "own"})) == {"C-2"}


def test_bulk_exclusion_sets_the_flag_audits_it_and_counts_the_rows(marketer, merchant, shelf):
    chosen = [shelf["water"].pk, shelf["bun"].pk]
    response = marketer.post(
        LIST,
        {"action": "set_no_bonus_payment_true", "_selected_action": chosen},
        follow=True,
    )
    [message] = response.context["messages"]
    # The count, whatever the language: "Обновлено 2 товара.", "2 products updated."
    assert message.level_tag == "success" and re.search(r"\b2\b", str(message))
    assert set(Product.objects.filter(no_bonus_payment=True).values_list("sku", flat=True)) == {
        "W-1",
        "F-1",
    }
    event = AuditEvent.objects.get(action="product.set_flag")
    assert event.data == {"flag": "no_bonus_payment", "value": True, "ids": sorted(chosen)}
    assert event.actor.startswith("user:")


def test_bulk_actions_can_undo_an_exclusion_or_hand_it_back_to_the_category(marketer, shelf):
    latte, espresso = shelf["latte"], shelf["espresso"]
    marketer.post(LIST, {"action": "set_no_accrual_false", "_selected_action": [latte.pk]})
    marketer.post(LIST, {"action": "set_no_accrual_inherit", "_selected_action": [espresso.pk]})
    latte.refresh_from_db()
    espresso.refresh_from_db()
    assert (latte.no_accrual, espresso.no_accrual) == (False, None)


def test_an_auditor_has_no_bulk_actions(client, merchant, shelf):
    client.force_login(staff_user(merchant, Role.AUDITOR))
    page = client.get(LIST)
    assert page.status_code == 200
    assert page.context["action_form"] is None or not page.context["cl"].actions
    client.post(LIST, {"action": "set_no_accrual_true", "_selected_action": [shelf["bun"].pk]})
    shelf["bun"].refresh_from_db()
    assert shelf["bun"].no_accrual is None


def test_a_product_added_in_the_back_office_is_created_by_the_service(marketer, shelf):
    response = marketer.post(
        f"{LIST}add/",
        {
            "sku": "T-1",
            "name": "Чай",
            "barcode": "",
            "category": shelf["drinks"].pk,
            "no_accrual": "unknown",
            "no_discount": "true",
            "no_bonus_payment": "false",
            "_save": "1",
        },
    )
    assert response.status_code == 302
    tea = Product.objects.get(sku="T-1")
    assert (tea.category, tea.no_accrual, tea.no_discount, tea.no_bonus_payment) == (
        shelf["drinks"],
        None,
        True,
        False,
    )
    assert AuditEvent.objects.filter(action="product.create", object_id=str(tea.pk)).exists()


def test_a_duplicate_sku_is_a_form_error_and_nothing_is_written(marketer, shelf):
    response = marketer.post(
        f"{LIST}add/",
        {"sku": "C-1", "name": "Другой латте", "no_accrual": "unknown", "_save": "1"},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["sku"]
    assert Product.objects.filter(sku="C-1").count() == 1


def test_editing_a_product_goes_through_the_service(marketer, shelf):
    url = f"{LIST}{shelf['bun'].pk}/change/"
    data = page_form_data(marketer.get(url))
    data.update(name="Булочка с маком", category=shelf["drinks"].pk, _save="1")
    assert marketer.post(url, data).status_code == 302
    bun = Product.objects.get(pk=shelf["bun"].pk)
    assert (bun.name, bun.category) == ("Булочка с маком", shelf["drinks"])
    assert AuditEvent.objects.get(action="product.update").data == {"fields": ["category", "name"]}


def test_another_merchants_products_are_neither_listed_nor_reachable(
    marketer, shelf, other_merchant
):
    foreign = catalog.product_create(merchant=other_merchant, sku="X-1", name="Чужое", actor=SYSTEM)
    foreign_category = catalog.category_create(merchant=other_merchant, name="Чужая", actor=SYSTEM)
    page = marketer.get(LIST)
    assert "X-1" not in listed(page)
    assert foreign_category.name not in page.content.decode()
    assert marketer.get(f"{LIST}{foreign.pk}/change/").status_code == 302
    marketer.post(LIST, {"action": "set_no_accrual_true", "_selected_action": [foreign.pk]})
    foreign.refresh_from_db()
    assert foreign.no_accrual is None
    add_page = marketer.get(f"{LIST}add/")
    categories = add_page.context["adminform"].form.fields["category"].queryset
    assert foreign_category not in categories


def test_moving_a_category_under_its_own_child_is_refused_with_a_message(marketer, shelf):
    drinks, coffee = shelf["drinks"], shelf["coffee"]
    url = f"/admin/catalog/category/{drinks.pk}/change/"
    data = page_form_data(marketer.get(url))
    data.update(parent=coffee.pk, _save="1")
    response = marketer.post(url, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors()
    assert Category.objects.get(pk=drinks.pk).parent is None


def test_a_segment_is_created_and_renamed_through_the_services(marketer, shelf):
    response = marketer.post(
        "/admin/catalog/segment/add/",
        {"name": "Бар", "categories": [shelf["drinks"].pk], "products": [], "_save": "1"},
    )
    assert response.status_code == 302
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert "segment.create" in actions
    segment = shelf["drinks"].segments.get()
    url = f"/admin/catalog/segment/{segment.pk}/change/"
    data = page_form_data(marketer.get(url))
    data.update(name="Бар и кухня", categories=[shelf["drinks"].pk, shelf["food"].pk], _save="1")
    assert marketer.post(url, data).status_code == 302
    segment.refresh_from_db()
    assert segment.name == "Бар и кухня"
    assert set(segment.categories.all()) == {shelf["drinks"], shelf["food"]}

"""The products list in a real browser: two products chosen and excluded from accrual by the
bulk action, and a screenshot of the list for the documentation."""

from django.utils import translation
from django.utils.translation import gettext, ngettext

from kopilka.catalog import services as catalog
from kopilka.catalog.models import Product
from tests.conftest import SYSTEM

from .conftest import log_in, save_screenshot

LIST = "/admin/catalog/product/"


def test_two_products_are_excluded_from_accrual_by_the_bulk_action(page, make_staff, merchant):
    drinks = catalog.category_create(merchant=merchant, name="Напитки", actor=SYSTEM)
    alcohol = catalog.category_create(
        merchant=merchant,
        name="Алкоголь",
        parent=drinks,
        no_accrual=True,
        no_bonus_payment=True,
        actor=SYSTEM,
    )
    food = catalog.category_create(merchant=merchant, name="Продукты", actor=SYSTEM)
    rows = [
        ("DR-001", "Вода минеральная", drinks),
        ("DR-002", "Сок яблочный", drinks),
        ("AL-001", "Вино красное", alcohol),
        ("FD-001", "Хлеб бородинский", food),
        ("FD-002", "Сыр российский", food),
    ]
    products = {
        sku: catalog.product_create(
            merchant=merchant, sku=sku, name=name, category=category, actor=SYSTEM
        )
        for sku, name, category in rows
    }
    chosen = [products["DR-002"], products["FD-002"]]

    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, make_staff("marketer"), path=f"/admin/login/?next={LIST}")
    for product in chosen:
        page.locator(f"input.action-select[value='{product.pk}']").check()
    page.select_option("select[name=action]", "set_no_accrual_true")
    page.locator("button[name=index]").click()
    page.wait_for_load_state("networkidle")

    with translation.override("ru"):
        done = ngettext("%(count)d product updated.", "%(count)d products updated.", 2) % {
            "count": 2
        }
        excluded_text, inherited_text = gettext("excluded"), gettext("excluded by category")
    assert page.get_by_text(done).is_visible()
    excluded = set(Product.objects.filter(no_accrual=True).values_list("sku", flat=True))
    assert excluded == {"DR-002", "FD-002"}
    accrual_cells = {
        sku: page.locator("#result_list tr", has_text=sku).locator("td.field-no_accrual")
        for sku in products
    }
    assert accrual_cells["DR-002"].inner_text().strip() == excluded_text
    assert accrual_cells["FD-002"].inner_text().strip() == excluded_text
    assert accrual_cells["AL-001"].inner_text().strip() == inherited_text
    assert accrual_cells["DR-001"].inner_text().strip() == "—"
    save_screenshot(page, "backoffice-products.png")

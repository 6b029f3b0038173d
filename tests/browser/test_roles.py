"""The role matrix in a real browser: a cashier gets no back office; an auditor reads a
product page without a save button, and a forced POST changes nothing."""

from kopilka.catalog import services as catalog
from kopilka.catalog.models import Product
from tests.conftest import SYSTEM

from .conftest import log_in


def test_a_cashier_gets_no_back_office(page, make_staff):
    cashier = make_staff("cashier")
    log_in(page, cashier)
    assert "/admin/login/" in page.url
    assert page.locator(".errornote, .errorlist, [role=alert]").count() >= 1
    assert page.locator("input[name=password]").is_visible()

    page.goto("/admin/catalog/product/")
    assert "/admin/login/" in page.url
    assert page.locator("#result_list").count() == 0


def test_an_auditor_reads_a_product_but_cannot_save_it(page, make_staff, merchant):
    product = catalog.product_create(merchant=merchant, sku="A-1", name="Кофе", actor=SYSTEM)
    auditor = make_staff("auditor")
    url = f"/admin/catalog/product/{product.pk}/change/"
    log_in(page, auditor, path=f"/admin/login/?next={url}")

    assert page.url.endswith(url)
    assert page.get_by_text("Кофе").first.is_visible()
    assert page.locator("[name=_save], [name=_continue], [name=_addanother]").count() == 0
    assert page.locator("input[name=name]").count() == 0

    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    forced = page.request.post(
        url,
        form={"csrfmiddlewaretoken": token, "sku": "A-1", "name": "Взлом", "_save": "1"},
        headers={"Referer": page.url},
    )
    assert forced.status == 403
    assert Product.objects.get(pk=product.pk).name == "Кофе"

    page.goto("/admin/customers/customer/")
    assert page.locator("#result_list, #changelist").count() >= 1
    assert page.locator("a[href$='/admin/customers/customer/add/']").count() == 0

"""Every refusal in the back office is a page in its style saying why and what to do instead:
a role's refusal names the roles that may; rows that are never deleted say what to do
instead; rows Kopilka writes itself say so."""

import pytest

from kopilka.catalog import services as catalog
from kopilka.merchants.models import Role
from tests.conftest import SYSTEM

from .admin_client import staff_user


def signed_in(client, merchant, role):
    client.force_login(staff_user(merchant, role))
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def refusal(response) -> str:
    assert response.status_code == 403
    page = response.content.decode()
    assert 'id="refused"' in page and "This cannot be done here" in page
    return page


def test_a_marketer_adding_a_program_is_told_which_roles_may(client, merchant):
    page = refusal(signed_in(client, merchant, Role.MARKETER).get("/admin/programs/program/add/"))
    assert "Your role (marketer) does not allow this. It is for: owner, administrator." in page
    assert "ask the owner for a role that may" in page


def test_an_auditor_changing_a_product_is_told_which_roles_may(client, merchant):
    product = catalog.product_create(merchant=merchant, sku="A-1", name="Кофе", actor=SYSTEM)
    url = f"/admin/catalog/product/{product.pk}/change/"
    page = refusal(signed_in(client, merchant, Role.AUDITOR).post(url, {"name": "Чай"}))
    assert "It is for: owner, administrator, marketer." in page


def test_deleting_a_customer_says_to_anonymise_instead(client, merchant, make_customer):
    customer = make_customer()
    owner = signed_in(client, merchant, Role.OWNER)
    page = refusal(owner.get(f"/admin/customers/customer/{customer.pk}/delete/"))
    assert "Customers are never deleted" in page and "use Anonymise on the customer card" in page


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("/admin/merchants/store/{store}/delete/", "Untick Active on its page and save instead."),
        ("/admin/merchants/register/{register}/delete/", "revoke its key"),
    ],
)
def test_deleting_a_store_or_register_says_what_to_do_instead(
    client, merchant, store, register, url, says
):
    owner = signed_in(client, merchant, Role.OWNER)
    page = refusal(owner.get(url.format(store=store.pk, register=register.pk)))
    assert says in page


def test_records_kopilka_writes_are_explained_not_just_refused(client, merchant):
    owner = signed_in(client, merchant, Role.OWNER)
    page = refusal(owner.get("/admin/ledger/entry/add/"))
    assert "written by Kopilka itself" in page
    assert "credit or debit them on the customer card" in page


def test_the_refusal_is_in_the_staff_members_language(client, merchant):
    client.force_login(staff_user(merchant, Role.MARKETER))
    response = client.get("/admin/programs/program/add/", HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 403
    page = response.content.decode()
    assert "Ваша роль (маркетолог) этого не позволяет. Это могут: владелец, администратор." in page

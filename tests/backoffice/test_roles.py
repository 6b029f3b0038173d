"""The role matrix (docs/roles.md) as the back office enforces it: per role, a representative
model of each area is looked at and changed through Django's test client."""

import pytest

from kopilka.catalog import services as catalog
from kopilka.catalog.models import Product
from kopilka.ledger.models import Entry
from kopilka.merchants.models import Merchant, Role, StaffMember, Store
from kopilka.programs import services as programs
from kopilka.programs.models import Campaign, Program
from tests.conftest import SYSTEM

from .admin_client import page_form_data, staff_user

# What each back-office role may change, by the area's representative model.
MAY_CHANGE = {
    Role.OWNER: {"product", "program", "campaign", "store", "merchant"},
    Role.ADMIN: {"product", "program", "campaign", "store", "merchant"},
    Role.MARKETER: {"product", "campaign"},
    Role.AUDITOR: set(),
}
BACK_OFFICE_ROLES = list(MAY_CHANGE)


@pytest.fixture
def targets(merchant, store, program):
    """One row per area, and how to read back the field a change writes."""
    product = catalog.product_create(merchant=merchant, sku="A-1", name="Кофе", actor=SYSTEM)
    campaign = programs.campaign_create(
        merchant=merchant,
        name="Осень",
        kind=Campaign.Kind.MULTIPLIER,
        multiplier=2,
        actor=SYSTEM,
    )
    return {
        "product": (f"/admin/catalog/product/{product.pk}/change/", Product, product.pk),
        "program": (f"/admin/programs/program/{program.pk}/change/", Program, program.pk),
        "campaign": (f"/admin/programs/campaign/{campaign.pk}/change/", Campaign, campaign.pk),
        "store": (f"/admin/merchants/store/{store.pk}/change/", Store, store.pk),
        "merchant": (f"/admin/merchants/merchant/{merchant.pk}/change/", Merchant, merchant.pk),
    }


def _signed_in(client, merchant, role):
    client.force_login(staff_user(merchant, role))
    return client


@pytest.mark.parametrize("role", BACK_OFFICE_ROLES)
@pytest.mark.parametrize("area", ["product", "program", "campaign", "store", "merchant"])
def test_each_role_sees_each_area_and_changes_only_what_the_matrix_allows(
    client, merchant, targets, role, area
):
    _signed_in(client, merchant, role)
    url, model, pk = targets[area]
    before = model.objects.get(pk=pk).name

    page = client.get(url)
    assert page.status_code == 200
    may_change = area in MAY_CHANGE[role]
    assert (b'name="_save"' in page.content) is may_change

    data = page_form_data(page) if may_change else {"name": "Changed"}
    data.update(name="Changed", _save="1")
    response = client.post(url, data)

    if may_change:
        assert response.status_code == 302, response.context["adminform"].form.errors
        assert model.objects.get(pk=pk).name == "Changed"
    else:
        assert response.status_code == 403
        assert model.objects.get(pk=pk).name == before


@pytest.mark.parametrize("role", BACK_OFFICE_ROLES)
def test_nobody_adds_or_edits_ledger_entries_in_the_back_office(client, merchant, role):
    _signed_in(client, merchant, role)
    assert client.get("/admin/ledger/entry/").status_code == 200
    response = client.post("/admin/ledger/entry/add/", {"amount": "100", "kind": "accrual"})
    assert response.status_code == 403
    assert not Entry.objects.exists()


@pytest.mark.parametrize("role", BACK_OFFICE_ROLES)
def test_every_back_office_role_may_look_at_customers(client, merchant, role):
    _signed_in(client, merchant, role)
    assert client.get("/admin/customers/customer/").status_code == 200


def test_a_cashier_gets_no_back_office(client, merchant, targets):
    cashier = staff_user(merchant, Role.CASHIER)
    client.force_login(cashier)
    for url in ["/admin/", "/admin/catalog/product/", targets["product"][0]]:
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith("/admin/login/")
    url, model, pk = targets["product"]
    client.post(url, {"name": "Changed", "sku": "A-1"})
    assert model.objects.get(pk=pk).name == "Кофе"
    assert client.get("/").url == "/cashier/"


def test_a_cashier_cannot_sign_in_to_the_back_office(client, merchant):
    cashier = staff_user(merchant, Role.CASHIER)
    response = client.post(
        "/admin/login/", {"username": cashier.username, "password": "a-long-test-password"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
def test_the_plan_is_read_only_for_owners_and_admins(client, merchant, targets, role):
    _signed_in(client, merchant, role)
    url = targets["merchant"][0]
    page = client.get(url)
    data = page_form_data(page)
    assert "customer_limit" not in data
    data.update(customer_limit="5", plan_name="free", _save="1")
    assert client.post(url, data).status_code == 302
    merchant.refresh_from_db()
    assert (merchant.plan_name, merchant.customer_limit) == ("unlimited", None)


def test_the_platform_operator_sets_a_merchants_plan(client, merchant, targets, django_user_model):
    operator = django_user_model.objects.create_superuser("operator", password="pw-operator-1")
    client.force_login(operator)
    url = targets["merchant"][0]
    data = page_form_data(client.get(url))
    data.update(customer_limit="5000", plan_name="basic", _save="1")
    assert client.post(url, data).status_code == 302
    merchant.refresh_from_db()
    assert (merchant.plan_name, merchant.customer_limit) == ("basic", 5000)


def test_an_admin_cannot_appoint_an_owner(client, merchant):
    _signed_in(client, merchant, Role.ADMIN)
    page = client.get("/admin/merchants/staffmember/add/")
    roles = [value for value, _ in page.context["adminform"].form.fields["role"].choices]
    assert Role.OWNER not in roles and Role.MARKETER in roles
    response = client.post(
        "/admin/merchants/staffmember/add/",
        {"username": "boss", "password": "a-long-test-password", "role": "owner", "_save": "1"},
    )
    assert response.status_code == 200
    assert not StaffMember.objects.filter(user__username="boss").exists()


def test_an_admin_cannot_change_an_owner_nor_themselves(client, merchant):
    owner = StaffMember.objects.get(user=staff_user(merchant, Role.OWNER))
    admin_user = staff_user(merchant, Role.ADMIN)
    client.force_login(admin_user)
    for member in (owner, admin_user.staff):
        url = f"/admin/merchants/staffmember/{member.pk}/change/"
        assert b'name="_save"' not in client.get(url).content
        assert client.post(url, {"role": "cashier", "_save": "1"}).status_code == 403
        member.refresh_from_db()
        assert member.role != Role.CASHIER


def test_an_owner_creates_a_marketer_who_then_reaches_the_back_office(client, merchant):
    _signed_in(client, merchant, Role.OWNER)
    response = client.post(
        "/admin/merchants/staffmember/add/",
        {
            "username": "maria",
            "password": "a-long-test-password",
            "role": "marketer",
            "first_name": "Мария",
            "_save": "1",
        },
    )
    assert response.status_code == 302
    member = StaffMember.objects.get(user__username="maria")
    assert (member.merchant, member.role, member.user.is_staff) == (merchant, "marketer", True)
    assert list(member.user.groups.values_list("name", flat=True)) == ["marketer"]

    client.force_login(member.user)
    assert client.get("/admin/programs/campaign/").status_code == 200


def test_demoting_an_admin_to_cashier_closes_the_back_office_to_them(client, merchant):
    owner = staff_user(merchant, Role.OWNER)
    colleague = staff_user(merchant, Role.ADMIN)
    client.force_login(owner)
    url = f"/admin/merchants/staffmember/{colleague.staff.pk}/change/"
    data = page_form_data(client.get(url))
    data.update(role="cashier", _save="1")
    assert client.post(url, data).status_code == 302
    colleague.refresh_from_db()
    assert colleague.is_staff is False
    assert StaffMember.objects.get(user=colleague).role == "cashier"
    client.force_login(colleague)
    assert client.get("/admin/").status_code == 302

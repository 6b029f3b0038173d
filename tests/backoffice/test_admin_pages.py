"""Every back-office page of the domain opens: each model's list and one row's page, for the
owner and for the read-only auditor, with one row of everything in place; the sidebar and
the language switch work."""

import pytest
from django.contrib import admin

from kopilka.catalog import services as catalog
from kopilka.customers.card_types import card_type_create
from kopilka.ledger import services as ledger
from kopilka.limits.models import LimitAlert
from kopilka.merchants.models import Role
from kopilka.programs import services as programs
from kopilka.programs.models import Campaign, CampaignUse, LevelChange
from kopilka.sales.models import Receipt
from tests.conftest import SYSTEM
from tests.ledger.helpers import locked

from .admin_client import staff_user

OUR_MODULES = (
    "admin_catalog",
    "admin_merchants",
    "admin_programs",
    "admin_ledger",
    "admin_pos",
    "safe_operations",
)
OUR_ADMINS = sorted(
    (
        (model._meta.app_label, model._meta.model_name)
        for model, model_admin in admin.site._registry.items()
        if type(model_admin).__module__.rsplit(".", 1)[-1] in OUR_MODULES
    ),
)


@pytest.fixture
def one_of_everything(merchant, store, register, program, make_customer):
    customer = make_customer()
    drinks = catalog.category_create(merchant=merchant, name="Напитки", actor=SYSTEM)
    catalog.product_create(merchant=merchant, sku="A", name="Вода", category=drinks, actor=SYSTEM)
    bar = catalog.segment_create(merchant=merchant, name="Бар", categories=[drinks], actor=SYSTEM)
    programs.accrual_rule_set(program=program, steps=[(0, 5)], segments=[bar], actor=SYSTEM)
    level = programs.level_create(program=program, name="VIP", priority=1, actor=SYSTEM)
    programs.level_assign(customer=customer, level=level, reason="тест", actor=SYSTEM)
    campaign = programs.campaign_create(
        merchant=merchant,
        name="Осень",
        kind=Campaign.Kind.MULTIPLIER,
        multiplier=2,
        actor=SYSTEM,
    )
    card_type_create(merchant=merchant, name="Золотая", program=program, actor=SYSTEM)
    receipt = Receipt.objects.create(
        merchant=merchant,
        store=store,
        register=register,
        customer=customer,
        external_number="1",
        occurred_at=customer.created_at,
    )
    receipt.lines.create(line_no=1, sku="A", qty=1, unit_price=10000, amount=10000)
    account = ledger.account_open(customer=customer, program=program, actor=SYSTEM)
    locked(account, ledger.credit, amount=500, actor=SYSTEM)
    locked(account, ledger.hold, amount=100, actor=SYSTEM)
    CampaignUse.objects.create(campaign=campaign, customer=customer, receipt=receipt)
    LevelChange.objects.create(program=program, customer=customer, to_level=level, reason="manual")
    LimitAlert.objects.create(
        merchant=merchant,
        kind=LimitAlert.Kind.SOFT,
        rule="accrual:card",
        subject=str(customer.pk),
        amount=100,
        total=200,
        threshold=150,
        receipt=receipt,
        customer=customer,
        register=register,
        cashier="Анна",
    )


@pytest.mark.parametrize("role", [Role.OWNER, Role.AUDITOR])
@pytest.mark.parametrize(("app", "model"), OUR_ADMINS)
def test_every_list_and_row_page_opens(client, merchant, one_of_everything, role, app, model):
    client.force_login(staff_user(merchant, role))
    page = client.get(f"/admin/{app}/{model}/")
    assert page.status_code == 200
    rows = page.context["cl"].result_list
    assert len(rows) >= 1, "the fixture makes one row of every model"
    assert client.get(f"/admin/{app}/{model}/{rows[0].pk}/change/").status_code == 200


def test_the_sidebar_groups_the_areas_and_links_their_lists(client, merchant):
    client.force_login(staff_user(merchant, Role.MARKETER))
    groups = client.get("/admin/").context["sidebar_navigation"]
    links = {item["link"] for group in groups for item in group["items"]}
    assert {"/admin/catalog/product/", "/admin/programs/campaign/", "/admin/ledger/entry/"} <= links
    assert len(groups) == 6


def test_the_platform_operator_gets_the_list_of_areas_instead_of_figures(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", password="pw-root-1"))
    page = client.get("/admin/")
    assert page.status_code == 200
    assert "figures" not in page.context
    assert page.context["app_list"]


def test_the_language_switch_turns_the_back_office_ukrainian(client, merchant):
    client.force_login(staff_user(merchant, Role.OWNER))
    assert 'lang="ru"' in client.get("/admin/").content.decode()
    switched = client.post("/i18n/setlang/", {"language": "uk", "next": "/admin/"})
    assert switched.status_code == 302
    assert 'lang="uk"' in client.get("/admin/").content.decode()


def test_the_purchase_history_of_the_whole_base_pages_without_counting(
    client, merchant, one_of_everything
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(staff_user(merchant, Role.OWNER))
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/admin/sales/receipt/", {"kind__exact": "sale"})
    assert page.status_code == 200 and len(page.context["cl"].result_list) == 1
    assert not [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]

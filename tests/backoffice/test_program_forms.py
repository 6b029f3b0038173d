"""Issue 16 (3, 4): forms that fit the task. A campaign's form keeps only its kind's figures,
the gift's set is picked as products and quantities, the program's page holds its accrual
steps, caps and levels as its kind uses them, and a program starts from a template; a new
merchant's owner signs in to the start page. Every save goes through the programs services."""

import html
from decimal import Decimal

import pytest

from kopilka.catalog import services as catalog
from kopilka.merchants import services as merchants
from kopilka.merchants.models import AuditEvent, Role
from kopilka.programs import services as programs
from kopilka.programs.models import AccrualRule, Campaign, Level, Program
from tests.conftest import SYSTEM

from .admin_client import page_form_data, rows_data, staff_user
from .test_admin_programs import inline_rows

PASSWORD = "a-long-test-password"


@pytest.fixture
def owner(client, merchant):
    client.force_login(staff_user(merchant, Role.OWNER))
    return client


@pytest.fixture
def products(merchant):
    for sku, name in [("SH-1", "Шампунь"), ("CO-1", "Кондиционер"), ("GF-1", "Расчёска")]:
        catalog.product_create(merchant=merchant, sku=sku, name=name, actor=SYSTEM)


def campaign_data(owner, **fields) -> dict:
    data = page_form_data(owner.get("/admin/programs/campaign/add/"))
    data.update(_save="1", **fields)
    return data


# --- campaigns -------------------------------------------------------------------------------


def test_a_campaign_of_one_kind_saves_without_the_other_kinds_figures(owner, merchant):
    # The figures of other kinds were typed before the kind was changed: they are hidden
    # and ignored, not refused.
    data = campaign_data(
        owner, name="Третий в подарок", kind="nth_free", n="3", multiplier="2", bonus="100"
    )
    response = owner.post("/admin/programs/campaign/add/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    campaign = Campaign.objects.get(name="Третий в подарок")
    assert (campaign.n, campaign.multiplier, campaign.bonus) == (3, Decimal(1), 0)
    assert AuditEvent.objects.filter(action="campaign.create").exists()


def test_changing_a_campaigns_kind_clears_the_old_kinds_figures(owner, merchant):
    campaign = programs.campaign_create(
        merchant=merchant, name="Двойные", kind="multiplier", multiplier=2, actor=SYSTEM
    )
    url = f"/admin/programs/campaign/{campaign.pk}/change/"
    data = page_form_data(owner.get(url))
    data.update(kind="extra_percent", extra_percent="2", _save="1")  # multiplier still "2"
    assert owner.post(url, data).status_code == 302
    campaign.refresh_from_db()
    assert (campaign.kind, campaign.extra_percent, campaign.multiplier) == (
        "extra_percent",
        Decimal(2),
        Decimal(1),
    )


def test_the_form_shows_each_reward_figure_for_its_kinds_only(owner):
    page = html.unescape(owner.get("/admin/programs/campaign/add/").content.decode())
    assert "x-show=\"kind == 'nth_free'\"" in page
    assert "x-show=\"kind == 'birthday' || kind == 'fixed_bonus'\"" in page
    assert 'name="set_items-rows"' in page  # the gift's set is rows, not a JSON box
    assert 'data-field-name="группы покупателей"' in page  # the pickers are named in Russian


def test_the_gift_picker_stores_products_and_quantities_and_shows_them_again(
    owner, merchant, products
):
    page = owner.get("/admin/programs/campaign/add/").content.decode()
    assert '<option value="SH-1">Шампунь (SH-1)</option>' in page
    data = campaign_data(owner, name="Набор", kind="gift", gift_sku="GF-1")
    data.update(
        rows_data(
            "set_items",
            [{"sku": "SH-1", "qty": "2"}, {"sku": "", "qty": ""}, {"sku": "CO-1", "qty": "1"}],
        )
    )
    assert owner.post("/admin/programs/campaign/add/", data).status_code == 302
    campaign = Campaign.objects.get(name="Набор")
    # What the engine reads today (rules.campaigns: set_skus from the sku/qty list).
    assert campaign.set_items == [{"sku": "SH-1", "qty": 2}, {"sku": "CO-1", "qty": 1}]

    url = f"/admin/programs/campaign/{campaign.pk}/change/"
    data = page_form_data(owner.get(url))
    assert (data["set_items-0-sku"], data["set_items-0-qty"]) == ("SH-1", "2")
    data["_save"] = "1"
    assert owner.post(url, data).status_code == 302
    campaign.refresh_from_db()
    assert campaign.set_items == [{"sku": "SH-1", "qty": 2}, {"sku": "CO-1", "qty": 1}]
    assert not AuditEvent.objects.filter(action="campaign.update", data__fields=["set_items"])


def test_a_bad_row_of_the_gift_is_refused_in_russian_and_nothing_typed_is_lost(
    owner, merchant, products
):
    data = campaign_data(owner, name="Набор", kind="gift", gift_sku="GF-1")
    data.update(
        rows_data("set_items", [{"sku": "SH-1", "qty": "два"}, {"sku": "XX-9", "qty": "1"}])
    )
    response = owner.post("/admin/programs/campaign/add/", data)
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "Строка 1, количество: Введите целое число." in form.errors["set_items"]
    page = response.content.decode()
    assert 'value="два"' in page and 'value="XX-9"' in page and 'value="Набор"' in page
    assert not Campaign.objects.exists()

    data.update(rows_data("set_items", [{"sku": "SH-1", "qty": "2"}, {"sku": "XX-9", "qty": "1"}]))
    response = owner.post("/admin/programs/campaign/add/", data)
    assert response.status_code == 200
    assert "XX-9" in str(response.context["adminform"].form.errors["set_items"])
    assert "Нет товара с артикулом" in str(response.context["adminform"].form.errors)
    assert not Campaign.objects.exists()


def test_a_gift_without_its_set_is_refused_on_the_field(owner, products):
    data = campaign_data(owner, name="Пусто", kind="gift", gift_sku="GF-1")
    response = owner.post("/admin/programs/campaign/add/", data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["set_items"] == [
        "Выберите хотя бы один товар набора."
    ]


def test_a_kind_specific_check_is_shown_on_its_field(owner):
    data = campaign_data(owner, name="Каждый первый", kind="nth_free", n="1")
    response = owner.post("/admin/programs/campaign/add/", data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["n"]
    assert not Campaign.objects.exists()


# --- the program's page ----------------------------------------------------------------------


def inline_prefixes(response) -> set[str]:
    return {inline.formset.prefix for inline in response.context["inline_admin_formsets"]}


def test_a_bonus_programs_page_holds_its_steps_caps_and_levels_not_discount_steps(owner, program):
    response = owner.get(f"/admin/programs/program/{program.pk}/change/")
    assert inline_prefixes(response) == {"accrual_rules", "segment_caps", "levels"}
    page = html.unescape(response.content.decode())
    assert "x-show=\"kind == 'combined' || kind == 'fixed_discount'\"" in page
    assert "до 10 бонусов + 90 ₽" in page  # help with the seed's example


def test_a_discount_programs_page_holds_its_steps_and_levels_only(owner, merchant):
    program = programs.program_create(
        merchant=merchant, name="Скидки", kind="accumulative_discount", actor=SYSTEM
    )
    response = owner.get(f"/admin/programs/program/{program.pk}/change/")
    assert inline_prefixes(response) == {"discount_steps", "levels"}
    levels = next(
        i for i in response.context["inline_admin_formsets"] if i.formset.prefix == "levels"
    )
    assert "discount_percent" in levels.formset.form.base_fields
    assert "cashback_percent" not in levels.formset.form.base_fields


def test_a_fixed_discount_program_has_no_figures_below(owner, merchant):
    program = programs.program_create(
        merchant=merchant,
        name="5 %",
        kind="fixed_discount",
        fixed_discount_percent=5,
        actor=SYSTEM,
    )
    response = owner.get(f"/admin/programs/program/{program.pk}/change/")
    assert inline_prefixes(response) == set()


def test_accrual_steps_and_a_level_are_set_on_the_programs_page_through_the_services(
    owner, program
):
    url = f"/admin/programs/program/{program.pk}/change/"
    data = page_form_data(owner.get(url))
    data.update(inline_rows("accrual_rules", [{"name": "Весь чек"}]))
    data.update(
        rows_data(
            "accrual_rules-0-steps_table",
            [
                {"min_receipt_total": "0", "percent": "2"},
                {"min_receipt_total": "5000,00", "percent": "5"},
            ],
        )
    )
    data.update(
        inline_rows(
            "levels",
            [
                {
                    "name": "Киноман",
                    "priority": "1",
                    "window_days": "30",
                    "min_spend": "0",
                    "min_visits": "20",
                    "cashback_percent": "10",
                }
            ],
        )
    )
    data["_save"] = "1"
    response = owner.post(url, data)
    assert response.status_code == 302, [
        (i.formset.prefix, i.formset.errors, i.formset.non_form_errors())
        for i in response.context["inline_admin_formsets"]
    ]
    rule = AccrualRule.objects.get(program=program)
    assert sorted(rule.steps.values_list("min_receipt_total", "percent")) == [
        (0, Decimal("2")),
        (500000, Decimal("5")),
    ]
    level = Level.objects.get(program=program)
    assert (level.window_days, level.min_visits, level.cashback_percent) == (30, 20, Decimal(10))
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"program.accrual_rule_set", "level.create"} <= actions

    # Shown again as saved; saved again unchanged, nothing is rewritten.
    data = page_form_data(owner.get(url))
    assert data["accrual_rules-0-steps_table-1-percent"] == "5"  # as written, not "5,000"
    data["_save"] = "1"
    before = AuditEvent.objects.count()
    assert owner.post(url, data).status_code == 302
    assert AuditEvent.objects.filter(action="program.accrual_rule_set").count() == 1
    assert AuditEvent.objects.count() == before + 1  # program.update only


def test_a_refused_rule_comes_back_in_russian_with_everything_typed(owner, program):
    programs.accrual_rule_set(program=program, steps=[(0, 5)], actor=SYSTEM)
    url = f"/admin/programs/program/{program.pk}/change/"
    data = page_form_data(owner.get(url))  # the existing rule is row 0
    data.update({"accrual_rules-TOTAL_FORMS": "2", "accrual_rules-1-name": "Второй весь чек"})
    data.update(
        rows_data("accrual_rules-1-steps_table", [{"min_receipt_total": "0", "percent": "7"}])
    )
    data["_save"] = "1"
    response = owner.post(url, data)
    assert response.status_code == 200
    errors = str(response.context["adminform"].form.non_field_errors())
    assert "уже действует на весь чек" in errors
    assert 'value="Второй весь чек"' in response.content.decode()
    assert AccrualRule.objects.filter(program=program).count() == 1


def test_a_hidden_fixed_discount_is_cleared_when_the_kind_no_longer_gives_it(owner, merchant):
    program = programs.program_create(
        merchant=merchant, name="5 %", kind="fixed_discount", fixed_discount_percent=5, actor=SYSTEM
    )
    url = f"/admin/programs/program/{program.pk}/change/"
    data = page_form_data(owner.get(url))
    data.update(kind="accumulative_discount", _save="1")
    assert owner.post(url, data).status_code == 302
    program.refresh_from_db()
    assert (program.kind, program.fixed_discount_percent) == ("accumulative_discount", 0)


# --- templates and the start page ------------------------------------------------------------


def test_the_programs_list_offers_templates_and_one_makes_a_program(owner, merchant):
    listing = owner.get("/admin/programs/program/").content.decode()
    assert "/admin/programs/program/from-template/" in listing
    page = owner.get("/admin/programs/program/from-template/")
    assert page.status_code == 200
    assert "4\xa0900\xa0₽" in page.content.decode()  # never broken across lines
    response = owner.post(
        "/admin/programs/program/from-template/",
        {"template": "pharmacy_steps", "name": "Аптека"},
    )
    program = Program.objects.get(merchant=merchant)
    assert response.status_code == 302
    assert response.url == f"/admin/programs/program/{program.pk}/change/"
    assert program.name == "Аптека"
    assert AuditEvent.objects.filter(action="program.from_template").exists()


def test_a_marketer_cannot_make_programs_from_templates(client, merchant):
    client.force_login(staff_user(merchant, Role.MARKETER))
    response = client.post(
        "/admin/programs/program/from-template/", {"template": "bonus", "name": "Нет"}
    )
    assert response.status_code == 403
    assert not Program.objects.exists()


def sign_in(client, user):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": user.get_username(), "password": PASSWORD, "next": "/admin/"},
    )


def test_a_new_merchants_owner_signs_in_to_the_start_page(client, merchant):
    owner = staff_user(merchant, Role.OWNER)
    response = sign_in(client, owner)
    assert (response.status_code, response.url) == (302, "/admin/start/")
    page = client.get("/admin/start/")
    steps = {step.key: step.done for step in page.context["steps"]}
    assert steps == {
        "program": False,
        "stores": False,
        "registers": False,
        "cashiers": False,
        "sale": False,
    }
    assert "/admin/programs/program/from-template/" in page.content.decode()


def test_the_start_page_ticks_what_is_done_and_the_owner_then_signs_in_to_the_dashboard(
    client, merchant
):
    owner = staff_user(merchant, Role.OWNER)
    store = merchants.store_create(merchant=merchant, name="Главный", actor=SYSTEM)
    register = merchants.register_create(store=store, name="Касса 1", actor=SYSTEM)
    merchants.register_key_issue(register=register, actor=SYSTEM)
    staff_user(merchant, Role.CASHIER)
    programs.program_create(merchant=merchant, name="Бонусы", actor=SYSTEM)
    client.force_login(owner)
    page = client.get("/admin/start/")
    steps = {step.key: step.done for step in page.context["steps"]}
    assert steps == {
        "program": True,
        "stores": True,
        "registers": True,
        "cashiers": True,
        "sale": False,
    }
    client.logout()
    response = sign_in(client, owner)
    assert (response.status_code, response.url) == (302, "/admin/")


def test_the_inlines_offer_only_the_merchants_own_segments(owner, merchant, program):
    other = merchants.merchant_create(name="Чужой", actor=SYSTEM)
    catalog.segment_create(merchant=other, name="Чужой бар", actor=SYSTEM)
    ours = catalog.segment_create(merchant=merchant, name="Наш бар", actor=SYSTEM)
    level = programs.level_create(program=program, name="Гость", priority=1, actor=SYSTEM)
    for url in (
        f"/admin/programs/program/{program.pk}/change/",
        f"/admin/programs/level/{level.pk}/change/",
    ):
        page = owner.get(url).content.decode()
        assert "Наш бар" in page and ours.name in page
        assert "Чужой бар" not in page


# --- a new program: where its percents, steps and levels are -----------------------------------


def test_the_add_form_says_percents_steps_and_levels_come_on_the_programs_page(owner, merchant):
    add = owner.get("/admin/programs/program/add/").content.decode()
    assert 'id="program-add-hint"' in add
    assert "Проценты, ступени и уровни — следующим шагом" in add
    assert "откроется сразу после сохранения" in html.unescape(add)
    program = programs.program_create(merchant=merchant, name="Бонусы", actor=SYSTEM)
    change = owner.get(f"/admin/programs/program/{program.pk}/change/").content.decode()
    assert 'id="program-add-hint"' not in change and 'id="levels-group"' in change


@pytest.mark.parametrize(
    ("kind", "tables"),
    [
        ("bonus", ["accrual_rules", "segment_caps", "levels"]),
        ("accumulative_discount", ["discount_steps", "levels"]),
    ],
)
def test_saving_a_new_program_opens_its_page_with_the_tables_of_its_kind(
    owner, merchant, kind, tables
):
    data = page_form_data(owner.get("/admin/programs/program/add/"))
    data.update(name="Новая", kind=kind, _save="1")
    response = owner.post("/admin/programs/program/add/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    program = Program.objects.get(name="Новая")
    assert response.url == f"/admin/programs/program/{program.pk}/change/"
    page = owner.get(response.url).content.decode()
    for table in tables:
        assert f'id="{table}-group"' in page


def test_save_and_add_another_still_goes_to_a_new_form(owner, merchant):
    data = page_form_data(owner.get("/admin/programs/program/add/"))
    data.update(name="Ещё одна", _addanother="1")
    response = owner.post("/admin/programs/program/add/", data)
    assert response.status_code == 302 and response.url == "/admin/programs/program/add/"

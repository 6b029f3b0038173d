"""The report pages: figures of a hand-computed history on screen and in the downloads, and
who may see them."""

import csv
import html
import io
import re
from datetime import UTC, datetime

import pytest
from django.test import Client
from openpyxl import load_workbook

from kopilka.merchants import services as merchants
from kopilka.reports import rollups
from tests.reports.history import at, build_history

PERIOD = {"start": "2026-03-02", "end": "2026-03-08", "bucket": "week"}


@pytest.fixture
def history(merchant, register, make_customer, actor):
    program = build_history(
        merchant=merchant, register=register, make_customer=make_customer, actor=actor
    )
    rollups.refresh(now=at(5, 12))
    return program


def staff_client(merchant, actor, role):
    member = merchants.staff_create(
        merchant=merchant,
        username=f"{role}-reports",
        password="x-reports-9",
        role=role,
        actor=actor,
    )
    client = Client()
    client.force_login(member.user)
    return client


@pytest.mark.parametrize("role", ["owner", "admin", "marketer", "auditor"])
def test_every_back_office_role_opens_every_report(merchant, actor, history, role):
    client = staff_client(merchant, actor, role)
    for path in ("", "customers/", "bonuses/", "at-risk/", "levels/", "campaigns/", "simulator/"):
        response = client.get(f"/admin/reports/{path}")
        assert response.status_code == 200, (path, response.status_code)


def test_a_cashier_gets_no_reports(merchant, actor, history):
    response = staff_client(merchant, actor, "cashier").get("/admin/reports/bonuses/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_customers_report_shows_new_loyal_and_other_per_week(merchant, actor, history):
    page = staff_client(merchant, actor, "marketer").get("/admin/reports/customers/", PERIOD)
    rows = page.context["table"]
    assert len(rows) == 1
    new_customers, new_receipts, new_revenue = rows[0][1:4]
    assert (new_customers, new_receipts, str(new_revenue)) == (2, 2, "1300")
    assert (rows[0][4], str(rows[0][5]), rows[0][6], str(rows[0][7])) == (1, "2000", 1, "500")


def test_the_bonus_report_exports_the_same_figures_as_csv(merchant, actor, history):
    client = staff_client(merchant, actor, "owner")
    response = client.get(
        "/admin/reports/bonuses/", {**PERIOD, "bucket": "day", "end": "2026-03-04", "export": "csv"}
    )
    assert response["Content-Disposition"] == 'attachment; filename="bonuses.csv"'
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert len(header) == 10 and len(rows) == 3
    assert [row[-1] for row in rows] == ["0", "1", "0"]  # purchases paid with bonuses
    accrued = [row[1] for row in rows]
    outstanding = [row[-2] for row in rows]
    assert accrued == ["50", "98.5", "15"]
    assert outstanding == ["50", "118.5", "123.5"]


def test_cards_with_bonuses_at_risk_export_as_xlsx_with_card_program_and_contacts(
    merchant, actor, history, make_customer
):
    from django.db import transaction

    from kopilka.customers import card_types
    from kopilka.customers.models import Card
    from kopilka.customers.services import card_issue
    from kopilka.ledger import locks
    from kopilka.ledger import services as ledger
    from kopilka.ledger.models import Account

    account = Account.objects.filter(merchant=merchant).order_by("pk").first()
    gold = card_types.card_type_create(
        merchant=merchant, name="Золотая", program=history, actor=actor
    )
    card_issue(
        customer=account.customer,
        kind=Card.Kind.PLASTIC,
        number="7700123",
        actor=actor,
        card_type=gold,
    )
    now = datetime.now(UTC)
    with transaction.atomic():
        [locked] = locks.lock_accounts([account.pk])
        ledger.credit(account=locked, amount=4200, actor=actor, lifetime_days=3, now=now)
    client = staff_client(merchant, actor, "marketer")
    response = client.get("/admin/reports/at-risk/", {"days": 7, "export": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2
    card, card_type, program, _name, phone = rows[1][:5]
    assert (card, card_type, program) == ("7700123", "Золотая", "Бонусы")
    assert phone == account.customer.phone and float(rows[1][7]) == 42.0

    page = client.get("/admin/reports/at-risk/", {"days": 7})
    assert page.context["title"] == "Карты с бонусами в группе риска"
    assert [row[0] for row in page.context["table"]] == ["7700123"]


def test_a_period_that_ends_before_it_starts_is_refused_with_a_message(merchant, actor, history):
    page = staff_client(merchant, actor, "owner").get(
        "/admin/reports/bonuses/", {"start": "2026-03-08", "end": "2026-03-01"}
    )
    assert page.status_code == 200
    assert page.context["form"].errors and page.context["table"] == []


def test_the_simulator_page_replays_the_period_beside_the_current_program(merchant, actor, history):
    params = {
        "start": "2026-03-02",
        "end": "2026-03-04",
        "program": history.pk,
        "bonus_percent": "10",
        "bonus_max_share": "50",
        "bonus_lifetime": "",
        "discount_percent": "3",
    }
    page = staff_client(merchant, actor, "owner").get("/admin/reports/simulator/", params)
    assert page.status_code == 200, page.context["form"].errors
    receipts, revenue, discounts, issued = (row[1:] for row in page.context["table"][:4])
    assert receipts == [4, 4, 4]
    assert [str(v) for v in revenue] == ["3800", "3800", "3800"]
    # The current program issues exactly what the real ledger accrued: 163.50.
    assert str(issued[0]) == "163.5"
    # 3 % of every receipt, anonymous ones included; the bonus programs give no discount.
    assert [str(v) for v in discounts] == ["0", "0", "114"]


def test_the_simulator_page_replays_a_combined_discount_with_the_bonuses_beside_it(
    merchant, actor, history
):
    params = {
        "start": "2026-03-02",
        "end": "2026-03-04",
        "bonus_percent": "10",
        "bonus_max_share": "50",
        "bonus_lifetime": "",
        "discount_percent": "",
        "combined_discount_percent": "3",
    }
    page = staff_client(merchant, actor, "owner").get("/admin/reports/simulator/", params)
    assert page.status_code == 200, page.context["form"].errors
    # Columns: the current program, 10 % bonuses, the default 3 % discount, the combined one.
    receipts, _revenue, discounts, issued = (row[1:] for row in page.context["table"][:4])
    assert receipts == [4, 4, 4, 4]
    # 3 % off every receipt: 30.00 + 15.00 + 60.00 + 9.00 = 114.00 (the anonymous one too).
    assert [str(v) for v in discounts] == ["0", "0", "114", "114"]
    # Bonuses alone, 10 % in whole bonuses: 100 + 197 (on 2000.00 less 30.00 paid with
    # bonuses) + 30 = 327. Combined, 10 % of what the discount left: A 970.00 -> 97;
    # A 1940.00 less 30.00 -> 191; B 291.00 -> 29 (not 29.10): 317.
    assert [str(v) for v in issued] == ["163.5", "327", "0", "317"]


def test_the_simulator_refuses_a_period_too_long_for_a_page(merchant, actor, history):
    page = staff_client(merchant, actor, "owner").get(
        "/admin/reports/simulator/", {"start": "2024-01-01", "end": "2026-03-04"}
    )
    assert page.context["form"].errors and page.context["table"] == []


ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def visible_text(page: str) -> str:
    """The page's text without its markup, scripts and styles (attributes, links and the
    chart's data are not read by people)."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


@pytest.mark.parametrize(
    ("language", "written"), [("ru", "%d.%m.%Y %H:%M"), ("uk", "%d.%m.%Y %H:%M")]
)
def test_cards_at_risk_show_their_burn_dates_as_the_language_writes_them(
    merchant, actor, history, language, written
):
    from zoneinfo import ZoneInfo

    from django.db import transaction

    from kopilka.ledger import locks
    from kopilka.ledger import services as ledger
    from kopilka.ledger.models import Account
    from kopilka.reports import selectors

    account = Account.objects.filter(merchant=merchant).order_by("pk").first()
    now = datetime.now(UTC)
    with transaction.atomic():
        [locked] = locks.lock_accounts([account.pk])
        ledger.credit(account=locked, amount=4200, actor=actor, lifetime_days=3, now=now)
    [risk] = selectors.bonuses_at_risk(merchant=merchant, now=now, within_days=7)
    local = risk.first_expiry.astimezone(ZoneInfo(merchant.time_zone))
    client = staff_client(merchant, actor, "marketer")
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language

    page = client.get("/admin/reports/at-risk/", {"days": 7}).content.decode()
    text = visible_text(page)
    assert local.strftime(written) in text  # "01.12.2026 10:00"
    assert not ISO_DATE.search(text), ISO_DATE.search(text)

    export = client.get("/admin/reports/at-risk/", {"days": 7, "export": "xlsx"})
    row = list(load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True))[1]
    assert row[8] == local.replace(tzinfo=None, second=0, microsecond=0)  # a real date cell


@pytest.mark.parametrize("language", ["ru", "uk"])
def test_no_report_page_shows_an_iso_date(merchant, actor, history, language):
    client = staff_client(merchant, actor, "owner")
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    for path, query in [
        ("customers/", PERIOD),
        ("bonuses/", PERIOD),
        ("at-risk/", {"days": 365}),
        ("levels/", {}),
        ("campaigns/", {}),
        ("simulator/", {}),
    ]:
        text = visible_text(client.get(f"/admin/reports/{path}", query).content.decode())
        assert not ISO_DATE.search(text), (path, ISO_DATE.findall(text))

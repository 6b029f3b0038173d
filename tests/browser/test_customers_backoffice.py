"""The customer pages of the back office in a real browser: filtering and exporting the list,
importing a file with a bad row, a manual credit on the customer card."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from kopilka.customers.models import Customer
from kopilka.ledger import locks
from kopilka.ledger import services as ledger
from kopilka.programs import services as programs
from tests.conftest import SYSTEM

from .conftest import log_in

LIST = "/admin/customers/customer/"


@pytest.fixture
def owner(make_staff):
    return make_staff("owner")


def test_filtered_list_is_exported_to_xlsx(page, owner, make_customer, tmp_path):
    now = timezone.now()
    gone = make_customer(first_name="Анна", last_name="Ушедшая")
    Customer.objects.filter(pk=gone.pk).update(
        last_purchase_at=now - timedelta(days=60), purchases_total=500_000, visits=7
    )
    recent = make_customer(first_name="Борис", last_name="Постоянный")
    Customer.objects.filter(pk=recent.pk).update(last_purchase_at=now, visits=30)

    log_in(page, owner, path=f"/admin/login/?next={LIST}")
    page.goto(f"{LIST}?not_seen_days=30")
    table = page.locator("#result_list")
    assert table.get_by_text("Ушедшая").is_visible()
    assert table.get_by_text("Постоянный").count() == 0

    with page.expect_download() as download:
        page.locator("#customer-tools a", has_text="Excel").click()
    saved = tmp_path / "export.xlsx"
    download.value.save_as(saved)
    rows = list(load_workbook(saved, read_only=True).active.iter_rows(values_only=True))
    assert len(rows) == 2
    assert rows[1][0:2] == ("Ушедшая", "Анна")
    assert rows[1][10] == 7


def test_import_with_a_bad_row_shows_it_and_imports_only_the_good_rows(
    page, owner, program, tmp_path
):
    book = Workbook()
    for row in (
        ["Телефон", "Имя", "E-mail"],
        ["8 916 200-00-01", "Анна", "anna@example.com"],
        ["не телефон", "Борис", ""],
        ["+7 916 200 00 03", "Вера", "vera@example.com"],
    ):
        book.active.append(row)
    path = tmp_path / "import.xlsx"
    book.save(path)

    log_in(page, owner, path=f"/admin/login/?next={LIST}import/")
    page.goto(f"{LIST}import/")
    page.set_input_files("input[name=file]", str(path))
    page.locator("#customer-import button[type=submit]").click()
    page.locator("button[value=preview]").click()
    errors = page.locator("#import-errors")
    assert errors.get_by_text("не телефон").is_visible()
    assert not Customer.objects.exists()

    page.locator("button[value=confirm]").click()
    summary = page.locator("#import-summary")
    summary.wait_for()
    assert "2" in summary.inner_text() and "1" in summary.inner_text()
    assert sorted(Customer.objects.values_list("first_name", flat=True)) == ["Анна", "Вера"]


def test_manual_credit_on_the_customer_card_shows_the_new_balance_and_ledger_row(
    page, owner, make_customer, program
):
    customer = make_customer(first_name="Анна", last_name="Петрова")
    account = programs.customer_enrol(customer=customer, program=program, actor=SYSTEM)
    with transaction.atomic():
        [locked] = locks.lock_accounts([account.pk])
        ledger.credit(account=locked, amount=10_000, actor=SYSTEM)

    log_in(page, owner, path=f"/admin/login/?next={LIST}{customer.pk}/card/")
    page.goto(f"{LIST}{customer.pk}/card/")
    available = page.locator("[data-balance=available]")
    assert available.inner_text().replace("\xa0", " ") == "100,00"

    form = page.locator("#adjust-form")
    form.locator("input[name=amount]").fill("250,50")
    form.locator("input[name=reason]").fill("компенсация за ожидание")
    form.locator("button[type=submit]").click()
    page.wait_for_function(
        "document.querySelector('[data-balance=available]').innerText.startsWith('350')"
    )
    assert page.locator("#entries").get_by_text("компенсация за ожидание").is_visible()
    assert page.url.endswith("/card/")  # answered in place, no reload

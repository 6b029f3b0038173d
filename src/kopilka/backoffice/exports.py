"""Tables as downloads: CSV (UTF-8 with a byte-order mark, so Excel reads Cyrillic right) or
XLSX (openpyxl, write-only), streamed row by row.

Safe to open (OWASP's CSV injection rules): text a customer or a till wrote (a name such as
`=HYPERLINK(...)`) must never run as a formula in a spreadsheet. Text starting with `=`, `+`,
`-`, `@`, a tab or a carriage return gets a leading `'` in CSV and is stored as a text cell in
XLSX; numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from django.http import HttpResponse, StreamingHttpResponse
from django.utils.functional import Promise
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _text(cell) -> str | None:
    """The cell as text when it is text (translated labels arrive as lazy strings)."""
    if isinstance(cell, str | Promise):
        return str(cell)
    return None


def csv_cell(cell):
    """A CSV field that no spreadsheet reads as a formula."""
    text = _text(cell)
    if text is None:
        return cell
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def xlsx_cell(sheet, cell):
    """An XLSX cell: text as a text cell (never a formula), anything else as it is."""
    text = _text(cell)
    if text is None:
        return cell
    if not text.startswith(FORMULA_STARTS):
        return text
    safe = WriteOnlyCell(sheet, value=text)
    safe.data_type = "s"  # openpyxl would otherwise store "=..." as a formula
    return safe


class Echo:
    """What csv.writer writes to: hands each line back, for a streamed response."""

    def write(self, value):
        return value


def table_response(
    filename: str, fmt: str, headers: Sequence[str], rows: Iterable[Sequence]
) -> HttpResponse:
    """A download of `rows` under `headers` as `<filename>.<fmt>`."""
    if fmt == "xlsx":
        book = Workbook(write_only=True)
        sheet = book.create_sheet()
        sheet.append([xlsx_cell(sheet, h) for h in headers])
        for row in rows:
            sheet.append([xlsx_cell(sheet, cell) for cell in row])
        buffer = io.BytesIO()
        book.save(buffer)
        response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    elif fmt == "csv":
        writer = csv.writer(Echo())

        def lines():
            yield "\ufeff" + writer.writerow([csv_cell(h) for h in headers])
            for row in rows:
                yield writer.writerow([csv_cell(cell) for cell in row])

        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    else:
        raise ValueError(f"unknown format {fmt!r}")
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response

"""Reports in a real browser: every page opens from the reports index, draws its chart, and
its export downloads a file with the figures of the page."""

import io

from openpyxl import load_workbook

from kopilka.reports import rollups
from tests.reports.history import at, build_history

from .conftest import log_in


def test_an_owner_opens_every_report_and_exports_the_bonuses(
    page, make_staff, merchant, register, make_customer, actor
):
    build_history(merchant=merchant, register=register, make_customer=make_customer, actor=actor)
    rollups.refresh(now=at(5, 12))
    log_in(page, make_staff("owner"))
    page.goto("/admin/reports/")
    slugs = page.locator("[data-report]").evaluate_all("els => els.map(e => e.dataset.report)")
    assert slugs == ["customers", "bonuses", "at-risk", "levels", "campaigns", "simulator"]
    for slug in slugs:
        page.goto("/admin/reports/")
        page.click(f"[data-report='{slug}']")
        page.wait_for_selector("#report-table")
        assert page.locator("#report-filters").is_visible()
    page.goto("/admin/reports/bonuses/?start=2026-03-02&end=2026-03-04&bucket=day")
    page.wait_for_selector("#report-canvas[data-ready='3']")
    cells = page.locator("#report-table tbody tr").first.locator("td").all_inner_texts()
    assert cells[1] == "50,00"  # points as Russian writes them (issue 16), not "50"
    with page.expect_download() as download:
        page.click("[data-export='xlsx']")
    with open(download.value.path(), "rb") as file:
        book = load_workbook(io.BytesIO(file.read()))
    rows = list(book.active.iter_rows(values_only=True))
    assert len(rows) == 4
    assert [float(row[1]) for row in rows[1:]] == [50.0, 98.5, 15.0]
    assert float(rows[-1][-2]) == 123.5  # outstanding at the end
    assert [row[-1] for row in rows[1:]] == [0, 1, 0]  # purchases paid with bonuses

"""Issue 16, point 2: report pages write numbers as people do in the page's language, and the
downloads keep them as numbers."""

import io

from openpyxl import load_workbook

from tests.backoffice.test_report_pages import PERIOD, history, staff_client  # noqa: F401

NB = "\u00a0"


def test_the_bonus_report_writes_figures_in_russian(merchant, actor, history):  # noqa: F811
    client = staff_client(merchant, actor, "owner")
    page = client.get("/admin/reports/bonuses/", {**PERIOD, "bucket": "day", "end": "2026-03-04"})
    html = page.content.decode()
    summary = dict((str(name), value) for name, value in page.context["summary"])
    assert summary["начислено бонусов"] == "163,50"
    assert summary["доля сгорания (сгорело / начислено)"] == f"0{NB}%"
    # Table cells: a day's accrual 98.50 reads "98,50", right-aligned; no "98.5" on screen.
    assert ">98,50</td>" in html and ">98.5<" not in html
    assert "text-right tabular-nums" in html
    # The chart formats its axis and tooltips in the page's language.
    assert '"unit": "points"' in html and "kopilka/backoffice/numbers.js" in html


def test_the_simulator_shows_percents_and_money_in_ukrainian(merchant, actor, history):  # noqa: F811
    client = staff_client(merchant, actor, "owner")
    client.cookies["django_language"] = "uk"
    params = {
        "start": "2026-03-02",
        "end": "2026-03-04",
        "bonus_percent": "10",
        "bonus_max_share": "50",
        "discount_percent": "3",
    }
    page = client.get("/admin/reports/simulator/", params)
    html = page.content.decode()
    assert f">3{NB}800,00</td>" in html  # revenue
    assert f"{NB}%</td>" in html  # the cost shares
    assert '"unit": "percent"' in html


def test_exports_keep_numbers_numeric(merchant, actor, history):  # noqa: F811
    client = staff_client(merchant, actor, "owner")
    response = client.get("/admin/reports/customers/", {**PERIOD, "export": "xlsx"})
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    figures = rows[1][1:]
    assert all(isinstance(value, int | float) for value in figures), figures
    assert figures[2] == 1300  # revenue of new customers, a number, not "1 300,00"

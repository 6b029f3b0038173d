"""Issue 16, point 2 in a real browser: the dashboard and the bonuses report write numbers the
Russian way, and their charts format axes and tooltips for the page's language.

With KOPILKA_SCREENSHOTS=docs/screenshots the two pages are saved there, 1366 px wide."""

import os
import re
from pathlib import Path

from kopilka.demo import DEMO_PASSWORD, demo_build

NB = "\u00a0"
# A figure written the English way: "1234.50", "25993" or "0.0 %" (grouping or comma missing).
ENGLISH_NUMBER = re.compile(r"(?<![\d.,])\d+\.\d+(?![\d.])|(?<![\d\xa0])\d{4,}(?![\d\xa0])")


def sign_in_as_owner(page):
    page.goto("/admin/login/")
    page.fill("input[name=username]", "owner")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("[type=submit]").first.click()
    page.wait_for_load_state("networkidle")


def screenshot(page, name):
    folder = os.environ.get("KOPILKA_SCREENSHOTS")
    if folder:
        page.set_viewport_size({"width": 1366, "height": 900})
        page.wait_for_timeout(300)
        page.screenshot(path=str(Path(folder) / name), full_page=True)


def chart_locale(page, canvas_id):
    return page.evaluate(
        "(id) => { const c = window.Chart && Chart.getChart(document.getElementById(id));"
        " return c ? [c.options.locale, c.scales.y.ticks.map((t) => t.label)] : null; }",
        canvas_id,
    )


def test_dashboard_and_bonus_report_write_numbers_in_russian(page, db):
    demo_build(customers_count=30, months=2)
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in_as_owner(page)

    page.goto("/admin/?period=30")
    page.wait_for_load_state("networkidle")
    figures = page.locator("[data-figure]:not([data-figure=as-of])").all_inner_texts()
    assert figures and not [f for f in figures if ENGLISH_NUMBER.search(f)], figures
    assert re.fullmatch(r"[\d\xa0]+,\d\d", page.locator("[data-figure=accrued]").inner_text())
    locale, ticks = chart_locale(page, "dashboard-chart")
    assert locale == "ru"
    assert not [t for t in ticks if ENGLISH_NUMBER.search(t)], ticks
    screenshot(page, "dashboard-ru.png")

    page.goto("/admin/reports/bonuses/")
    page.wait_for_selector("#report-canvas[data-ready]")
    summary = page.locator("[data-summary]").all_inner_texts()
    assert not [s for s in summary if ENGLISH_NUMBER.search(s)], summary
    assert summary[4].endswith(f"{NB}%"), summary  # breakage: "0 %", never "0.0 %"
    cells = page.locator("#report-table td.text-right").all_inner_texts()
    assert cells and not [c for c in cells if ENGLISH_NUMBER.search(c)], cells[:20]
    locale, ticks = chart_locale(page, "report-canvas")
    assert locale == "ru"
    assert not [t for t in ticks if ENGLISH_NUMBER.search(t)], ticks
    screenshot(page, "bonuses-report-ru.png")

"""Issue 16 (3, 4) in a real browser: a new merchant's owner signs in (Russian, 1366 px) to
the start page, makes a program from the pharmacy's template, finds on its page only what a
bonus program uses (the fields follow the kind as it is changed), and saves it."""

import os
from decimal import Decimal
from pathlib import Path

from playwright.sync_api import expect

from kopilka.programs.models import AccrualRule, Program

from .conftest import log_in


def screenshot(page, name: str) -> None:
    """Kept for the documentation when KOPILKA_SCREENSHOTS names a folder."""
    folder = os.environ.get("KOPILKA_SCREENSHOTS")
    if folder:
        # The whole page in one tall window (a full-page shot would repeat the fixed parts).
        height = page.evaluate("document.documentElement.scrollHeight")
        page.set_viewport_size({"width": 1366, "height": min(height, 4000)})
        page.screenshot(path=str(Path(folder) / name))
        page.set_viewport_size({"width": 1366, "height": 768})


def test_an_owner_starts_from_a_template_and_saves_the_program(page, make_staff, merchant):
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, make_staff("owner"))

    # No program yet: the start page, nothing ticked.
    assert page.url.endswith("/admin/start/")
    assert page.locator("#start [data-step]").count() == 5
    assert page.locator("#start [data-step][data-done='1']").count() == 0
    assert page.get_by_text("Попробуйте продажу на кассе").is_visible()

    page.locator("[data-step=program] a").click()
    page.wait_for_load_state("networkidle")
    pharmacy = page.locator("form[data-template=pharmacy_steps]")
    assert pharmacy.get_by_text("4\xa0900\xa0₽").is_visible()  # never broken across lines
    pharmacy.locator("input[name=name]").fill("Аптека")
    pharmacy.locator("[type=submit]").click()
    page.wait_for_load_state("networkidle")

    program = Program.objects.get(merchant=merchant)
    assert page.url.endswith(f"/admin/programs/program/{program.pk}/change/")
    assert page.get_by_text("Программа «Аптека» готова").is_visible()
    # A bonus program: accrual steps, caps and levels; no discount figures.
    assert page.locator("#accrual_rules-group").is_visible()
    assert page.locator("#levels-group").is_visible()
    assert page.locator("#discount_steps-group").count() == 0
    assert page.locator("#id_max_share_percent").is_visible()
    assert page.locator("#id_fixed_discount_percent").is_hidden()
    steps = page.locator("input[name^='accrual_rules-0-steps_table-'][name$='-percent']")
    # Percents as people write them: "5", never "5,000" (which reads as five thousand).
    assert steps.evaluate_all("l => l.map(i => i.value)")[:2] == ["2", "5"]

    # The fields follow the kind as it changes, before anything is saved.
    # (expect waits: on a busy machine the page's script may answer the change a moment later)
    page.select_option("#id_kind", "fixed_discount")
    expect(page.locator("#id_fixed_discount_percent")).to_be_visible()
    expect(page.locator("#id_max_share_percent")).to_be_hidden()
    page.select_option("#id_kind", "bonus")
    expect(page.locator("#id_max_share_percent")).to_be_visible()

    page.fill("#id_max_share_percent", "50")
    page.locator("input[name='accrual_rules-0-steps_table-1-percent']").fill("6")
    screenshot(page, "backoffice-program.png")
    page.locator("button[name=_save]").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/admin/programs/program/")
    program.refresh_from_db()
    assert program.max_share_percent == Decimal(50)
    rule = AccrualRule.objects.get(program=program)
    assert sorted(rule.steps.values_list("min_receipt_total", "percent")) == [
        (0, Decimal(2)),
        (500000, Decimal(6)),
    ]

    # The start page now ticks the program.
    page.goto("/admin/start/")
    assert page.locator("[data-step=program][data-done='1']").count() == 1

"""Issue 16: a program's page with its levels fits a 1366-pixel screen (a common shop laptop)
without sideways scrolling, for the widest kind (a combined program: levels with cashback,
discount and a cap), with long level names and large thresholds."""

import os

import pytest

from kopilka.programs import services as programs
from tests.conftest import SYSTEM

from .conftest import log_in, save_screenshot

WIDTH, HEIGHT = 1366, 768


@pytest.fixture
def owner(make_staff):
    return make_staff("owner")


@pytest.fixture
def combined(merchant):
    program = programs.program_create(
        merchant=merchant, name="Бонусы и скидка", kind="combined", actor=SYSTEM
    )
    for priority, name in enumerate(["Базовый", "Серебряный покупатель", "Золотой партнёр"]):
        programs.level_create(
            program=program,
            name=name,
            priority=priority + 1,
            window_days=365,
            min_spend=priority * 12_345_600,
            min_visits=priority * 20,
            cashback_percent=priority + 2,
            discount_percent=priority * 5,
            max_share_percent=30,
            actor=SYSTEM,
        )
    return program


def test_the_program_page_with_levels_fits_1366_pixels(page, owner, combined):
    url = f"/admin/programs/program/{combined.pk}/change/"
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    log_in(page, owner, path=f"/admin/login/?next={url}")
    page.goto(url)
    assert page.locator("input[value='Золотой партнёр']").count() == 1  # the levels are there
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{overflow}px of sideways scrolling"
    scrolled = page.evaluate(
        """() => [...document.querySelectorAll('#content *')]
            .filter(el => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX))
            .filter(el => el.offsetParent !== null)
            .map(el => [el.id || el.className, el.scrollWidth - el.clientWidth])
            .filter(([, extra]) => extra > 1)"""
    )
    assert scrolled == []  # nor does the levels table scroll inside its own box
    if os.environ.get("KOPILKA_LAYOUT_SHOT"):
        page.screenshot(path=os.environ["KOPILKA_LAYOUT_SHOT"], full_page=True)
    save_screenshot(page, "backoffice-program-levels.png")  # last: it resizes the page

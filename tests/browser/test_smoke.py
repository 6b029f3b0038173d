"""The browser harness itself: a real Chromium reaches the live server and signs in."""

from .conftest import log_in


def test_an_owner_signs_in_to_the_back_office_in_russian(page, make_staff):
    owner = make_staff("owner")
    log_in(page, owner)
    assert page.url.endswith("/admin/start/")  # a new merchant (no program yet) starts here
    assert page.locator("html").get_attribute("lang") == "ru"

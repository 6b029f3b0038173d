"""Every page works under the Content-Security-Policy (kopilka.security): the back office, the
reports with their charts, the cashier screen and the API docs load in Chromium without the
browser refusing a single script, style, image, font or request."""

import re

from .conftest import log_in

BACK_OFFICE = [
    "/admin/",
    "/admin/start/",
    "/admin/customers/customer/",
    "/admin/programs/program/",
    "/admin/programs/campaign/add/",
    "/admin/reports/",
    "/admin/reports/bonuses/",
    "/admin/reports/simulator/",
]


def watch_refusals(page) -> list[str]:
    """What the browser refused because of the policy (its console says so)."""
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text)
            if re.search(r"Content Security Policy|Refused to", message.text)
            else None
        ),
    )
    return refused


def test_the_back_office_runs_under_the_policy(page, make_staff, program):
    refused = watch_refusals(page)
    log_in(page, make_staff("owner"))
    for path in BACK_OFFICE:
        answer = page.goto(path)
        page.wait_for_load_state("networkidle")
        assert answer.status == 200, path
        assert "default-src 'self'" in answer.headers["content-security-policy"]
    assert refused == []


def test_the_cashier_screen_and_the_api_docs_run_under_the_policy(
    page, make_staff, register, program
):
    refused = watch_refusals(page)
    log_in(page, make_staff("cashier"), path="/cashier/login/")
    page.goto("/cashier/")
    page.wait_for_load_state("networkidle")
    page.goto("/api/v1/docs")
    page.wait_for_load_state("networkidle")
    assert page.locator(".opblock").count() >= 5  # Swagger UI drew the operations
    assert refused == []

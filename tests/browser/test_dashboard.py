"""The dashboard in a real browser: the figures of a small history, a period switch, and the
chart drawn by the vendored Chart.js; a screenshot for the documentation."""

from datetime import timedelta

from django.utils import timezone, translation

from kopilka.backoffice.formatting import money
from kopilka.customers.models import Customer
from kopilka.ledger import services as ledger
from kopilka.ledger.models import EntryKind
from kopilka.sales.models import Receipt
from tests.conftest import SYSTEM
from tests.ledger.helpers import locked

from .conftest import log_in, save_screenshot

DAY = timedelta(days=1)


def test_the_dashboard_shows_the_periods_figures_and_a_chart(
    page, make_staff, merchant, store, register, program, make_customer
):
    now = timezone.now()
    customers = [make_customer() for _ in range(4)]
    Customer.objects.filter(pk=customers[0].pk).update(created_at=now - 45 * DAY)
    for number, (customer, age) in enumerate(
        [(customers[0], 1), (customers[1], 2), (None, 3), (customers[0], 40)]
    ):
        Receipt.objects.create(
            merchant=merchant,
            store=store,
            register=register,
            customer=customer,
            external_number=str(number),
            occurred_at=now - age * DAY,
        )
    account = ledger.account_open(customer=customers[0], program=program, actor=SYSTEM)
    locked(account, ledger.credit, amount=120_000, actor=SYSTEM, now=now - 40 * DAY)
    locked(
        account,
        ledger.credit,
        amount=20_000,
        actor=SYSTEM,
        kind=EntryKind.WELCOME,
        now=now - 29 * DAY,
    )
    # A month of daily accruals and a spend every third day, for a chart worth looking at.
    accruals = {age: 5_000 + (age * 3_700) % 40_000 for age in range(1, 29)}
    spends = {age: 4_000 + (age * 1_900) % 15_000 for age in range(1, 29, 3)}
    for age in range(28, 0, -1):
        locked(account, ledger.credit, amount=accruals[age], actor=SYSTEM, now=now - age * DAY)
        if age in spends:
            locked(account, ledger.spend, amount=spends[age], actor=SYSTEM, now=now - age * DAY)
    accrued_30 = sum(accruals.values())
    gifts_30 = 20_000
    spent_30 = sum(spends.values())

    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, make_staff("owner"))

    def shown(name):
        return page.locator(f"[data-figure={name}]").inner_text().strip()

    with translation.override("ru"):
        expected_30 = {
            "customers_total": "4",
            "customers_registered": "3",
            # First purchases within the 30 days: only customers[1]'s (customers[0] bought
            # 40 days ago).
            "customers_new": "1",
            "receipts_with_card": "2",
            "receipts_without_card": "1",
            "accrued": money(accrued_30),
            "gifts": money(gifts_30),
            "spent": money(spent_30),
            "outstanding": money(120_000 + gifts_30 + accrued_30 - spent_30),
        }
        accrued_90 = money(120_000 + accrued_30)  # the welcome 200,00 stays a gift
    assert {name: shown(name) for name in expected_30} == expected_30
    assert page.locator("#dashboard-chart").is_visible()
    assert page.evaluate("Chart.getChart(document.getElementById('dashboard-chart')) !== undefined")
    save_screenshot(page, "backoffice-dashboard.png")

    page.locator("a[data-period='90']").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#dashboard").get_attribute("data-period") == "90"
    assert shown("accrued") == accrued_90
    assert shown("customers_registered") == "4"
    assert shown("customers_new") == "2"  # customers[0] 40 days ago, customers[1]

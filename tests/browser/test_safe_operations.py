"""Safe operations in Chromium, in Russian: the owner sets a card's daily accrual limit on
the settings page, a cashier's second sale of the day goes over it and the till says why,
keeping the receipt; the owner's dashboard counts the alerts and the alerts list shows them
with the people behind them."""

import pytest
from playwright.sync_api import expect

from kopilka.limits.models import LimitAlert
from kopilka.sales.models import Receipt

from .conftest import log_in, save_screenshot
from .test_cashier_sale import shop  # noqa: F401  (the fixture: program, products, Анна)


def sell_coffee(page, qty: str, subtotal: str) -> None:
    page.keyboard.press("F2")
    page.keyboard.type("8 (916) 123-45-67", delay=60)  # a person, not a scanner
    page.keyboard.press("Enter")
    expect(page.locator(".customer-name")).to_have_text("Анна П.")
    page.keyboard.type("кофе", delay=60)
    page.locator(".suggestion", has_text="Кофе молотый").click()
    price = page.locator("#price-0")
    price.fill("520")
    page.keyboard.press("Tab")
    expect(page.locator("#total-subtotal")).to_have_text("520,00")
    page.fill("#qty-0", qty)
    page.keyboard.press("Tab")
    expect(page.locator("#total-subtotal")).to_have_text(subtotal)
    pay_no_bonuses(page, to_pay=subtotal)


def pay_no_bonuses(page, *, to_pay: str) -> None:
    """Type 0 into the bonus payment. A requote still on its way may redraw the panel with
    the maximum after the typing; a cashier then types it again, and so does this."""
    for _attempt in range(3):
        page.fill("#spend", "0")
        page.keyboard.press("Tab")
        try:
            expect(page.locator("#total-to-pay")).to_have_text(to_pay, timeout=3000)
            return
        except AssertionError:
            continue
    expect(page.locator("#total-to-pay")).to_have_text(to_pay)


@pytest.mark.usefixtures("shop")
def test_an_owner_sets_a_limit_the_till_refuses_above_it_and_the_dashboard_counts_it(
    page, make_staff
):
    owner = make_staff("owner")
    log_in(page, owner)
    page.goto("/admin/safe-operations/")
    expect(page.locator("#safe-operations h1")).to_have_text("Безопасные операции")
    page.fill("input[name=accrual__card__soft]", "30,00")
    page.fill("input[name=accrual__card__hard]", "60,00")
    page.locator("#safe-operations [type=submit]").click()
    expect(page.get_by_text("Настройки безопасных операций сохранены.")).to_be_visible()
    expect(page.locator("input[name=accrual__card__hard]")).to_have_value("60,00")
    save_screenshot(page, "backoffice-safe-operations.png")

    page.context.clear_cookies()
    log_in(page, make_staff("cashier"), path="/cashier/login/")
    sell_coffee(page, "2", "1\xa0040,00")  # 1 040,00: 52,00 accrued, over the flag threshold
    page.keyboard.press("F9")
    expect(page.locator("#result-balance")).to_be_visible()
    page.keyboard.press("Escape")
    sell_coffee(page, "1", "520,00")  # 26,00 more: 78,00 in the day, over 60,00
    page.keyboard.press("F9")
    message = page.locator("#message")
    expect(message).to_contain_text("Отклонено лимитом безопасных операций")
    expect(message).to_contain_text("не более 60,00")
    expect(page.locator("#qty-0")).to_have_value("1")  # the receipt is still there
    assert Receipt.objects.count() == 1
    save_screenshot(page, "cashier-limit-refused.png")

    page.context.clear_cookies()
    log_in(page, owner)
    page.goto("/admin/")
    expect(page.locator("[data-figure=alerts_refused]")).to_have_text("1")
    expect(page.locator("[data-figure=alerts_flagged]")).to_have_text("1")
    save_screenshot(page, "backoffice-dashboard-alerts.png")
    page.locator("#dashboard-alerts").click()
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)
    refused = rows.filter(has_text="отклонено")
    expect(refused).to_contain_text("Начисление бонусов по одной карте за день")
    expect(refused).to_contain_text("кассир cashier-")
    expect(refused).to_contain_text("не проведён")
    expect(rows.filter(has_text="порог превышен")).to_contain_text(
        Receipt.objects.get().external_number
    )
    save_screenshot(page, "backoffice-alerts.png")
    assert set(LimitAlert.objects.values_list("kind", flat=True)) == {"soft", "refused"}

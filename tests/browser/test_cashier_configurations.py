"""The cashier screen in Chromium under every family of configuration the back office can
save: levels (by spend, by visits, per segment, for a group, by hand), accumulative and fixed
discount programs, a program limited to some stores, and each campaign kind. Under each one
the cashier identifies Анна, rings up two coffees, pays what bonuses allow, confirms and
refunds one coffee; the screen never fails and shows the figures the ledger booked."""

import pytest
from django.utils import timezone, translation
from playwright.sync_api import expect

from kopilka.cashier.templatetags.cashier import money
from kopilka.catalog import services as catalog
from kopilka.customers.services import customer_update, group_add_customers, group_create
from kopilka.ledger.models import Account
from kopilka.ledger.selectors import account_balance
from kopilka.ledger.verify import verify_ledger
from kopilka.merchants import services as merchants
from kopilka.programs import services as programs
from kopilka.sales.models import Receipt
from tests.cashier import world

from .conftest import log_in


def levels_by_spend(shop):
    programs.level_create(program=shop.program, name="Базовый", priority=1, actor=shop.actor)
    programs.level_create(
        program=shop.program, name="Золотой", priority=2, min_spend=1_000_00, actor=shop.actor
    )
    return "Базовый"


def levels_by_visits(shop):
    programs.level_create(program=shop.program, name="Новичок", priority=1, actor=shop.actor)
    programs.level_create(
        program=shop.program,
        name="Завсегдатай",
        priority=2,
        min_visits=20,
        window_days=30,
        actor=shop.actor,
    )
    return "Новичок"


def levels_per_segment(shop):
    coffee = catalog.segment_create(
        merchant=shop.merchant, name="Кофе", actor=shop.actor, products=[shop.products["coffee"]]
    )
    programs.level_create(
        program=shop.program,
        name="Кофеман",
        priority=1,
        min_spend=500_00,
        segments={coffee: {"min_spend": 300_00, "cashback_percent": 10}},
        actor=shop.actor,
    )
    return "—"  # nothing bought yet: no level


def level_for_a_group(shop):
    staff = group_create(merchant=shop.merchant, name="Сотрудники", actor=shop.actor)
    group_add_customers(group=staff, customers=[shop.customer.pk], actor=shop.actor)
    programs.level_create(
        program=shop.program,
        name="Свой",
        priority=1,
        groups=[staff],
        cashback_percent=15,
        actor=shop.actor,
    )
    return "Свой"


def level_by_hand(shop):
    programs.level_create(program=shop.program, name="Обычный", priority=1, actor=shop.actor)
    vip = programs.level_create(
        program=shop.program, name="VIP", priority=2, min_spend=1_000_000_00, actor=shop.actor
    )
    programs.level_assign(
        customer=shop.customer, level=vip, actor=shop.actor, reason="Друг владельца"
    )
    return "VIP"


def without_bonuses(shop):
    """A discount program gives no bonuses: its accrual rule goes before its kind changes."""
    for rule in shop.program.accrual_rules.all():
        programs.accrual_rule_delete(rule=rule, actor=shop.actor)


def accumulative_discount(shop):
    without_bonuses(shop)
    shop.program = programs.program_update(
        program=shop.program, kind="accumulative_discount", actor=shop.actor
    )
    programs.discount_steps_set(
        program=shop.program, steps=[(0, 3), (5_000_00, 5)], actor=shop.actor
    )
    return "—"


def fixed_discount(shop):
    without_bonuses(shop)
    programs.program_update(
        program=shop.program, kind="fixed_discount", fixed_discount_percent=10, actor=shop.actor
    )
    return "—"


def combined_program(shop):
    programs.program_update(
        program=shop.program, kind="combined", fixed_discount_percent=10, actor=shop.actor
    )
    return "—"


def combined_with_level_discounts(shop):
    shop.program = programs.program_update(program=shop.program, kind="combined", actor=shop.actor)
    programs.level_create(
        program=shop.program, name="Серебро", priority=1, discount_percent=5, actor=shop.actor
    )
    return "Серебро"


def program_in_another_store(shop):
    elsewhere = merchants.store_create(merchant=shop.merchant, name="Другой", actor=shop.actor)
    programs.program_update(program=shop.program, stores=[elsewhere], actor=shop.actor)
    return "—"


def campaign(kind, **fields):
    def configure(shop):
        programs.campaign_create(
            merchant=shop.merchant,
            program=shop.program,
            name=f"Акция {kind}",
            kind=kind,
            actor=shop.actor,
            **fields,
        )
        return "—"

    configure.__name__ = f"campaign_{kind}"
    return configure


def birthday_campaign(shop):
    customer_update(customer=shop.customer, actor=shop.actor, birthday=timezone.localdate())
    return campaign("birthday", bonus=100_00, days_around=3)(shop)


CONFIGURATIONS = [
    levels_by_spend,
    levels_by_visits,
    levels_per_segment,
    level_for_a_group,
    level_by_hand,
    accumulative_discount,
    fixed_discount,
    combined_program,
    combined_with_level_discounts,
    program_in_another_store,
    campaign("nth_free", n=2),
    campaign("gift", set_items=[{"sku": "COFFEE", "qty": 2}], gift_sku="MILK"),
    campaign("multiplier", multiplier=2),
    campaign("extra_percent", extra_percent=5),
    campaign("fixed_bonus", bonus=50_00, min_amount=500_00),
    birthday_campaign,
]


class Shop:
    def __init__(self, merchant, register, actor):
        self.merchant, self.register, self.actor = merchant, register, actor
        self.program = world.bonus_program(merchant, actor)
        self.products = world.products(merchant, actor)
        self.customer = world.funded_customer(merchant, self.program, actor)


def shown(page, selector) -> str:
    return page.locator(selector).inner_text().strip()


@pytest.mark.parametrize("configure", CONFIGURATIONS, ids=lambda c: c.__name__)
def test_the_till_sells_and_refunds_under_every_configuration(
    page, make_staff, merchant, register, actor, configure
):
    shop = Shop(merchant, register, actor)
    level_shown = configure(shop)
    log_in(page, make_staff("cashier"), path="/cashier/login/")

    page.fill("#identify", "8 (916) 123-45-67")
    page.keyboard.press("Enter")
    expect(page.locator(".customer-name")).to_have_text("Анна П.")
    expect(page.locator("#customer-level")).to_have_text(level_shown)

    page.fill("#search", world.COFFEE_BARCODE)
    page.keyboard.press("Enter")
    expect(page.locator("#price-0")).to_be_focused()
    page.keyboard.type("520")
    page.keyboard.press("Tab")
    expect(page.locator("#total-subtotal")).to_have_text("520,00")
    page.fill("#qty-0", "2")
    page.keyboard.press("Tab")
    expect(page.locator("#total-subtotal")).to_have_text("1\xa0040,00")
    quoted_to_pay = shown(page, "#total-to-pay")
    quoted_accrual = shown(page, "#total-accrual")

    page.keyboard.press("F9")
    expect(page.locator("#result-balance")).to_be_visible()
    expect(page.locator("#message")).not_to_have_class("message shown")
    sale = Receipt.objects.get(kind=Receipt.Kind.SALE)
    account = Account.objects.get(customer=shop.customer, program=shop.program)
    now = timezone.now()
    with translation.override("ru"):
        assert quoted_to_pay == money(sale.to_pay)
        assert quoted_accrual == "+" + money(sale.accrued + sale.campaign_bonus)
        balance = account_balance(account, now=now).available
        expect(page.locator("#result-balance")).to_have_text(money(balance))

    page.keyboard.press("Escape")
    expect(page.locator(".customer-name")).to_have_count(0)
    page.fill("#identify", "8 (916) 123-45-67")
    page.keyboard.press("Enter")
    expect(page.locator(".customer-name")).to_have_text("Анна П.")
    page.keyboard.press("F7")
    page.locator("tr", has_text=sale.external_number).get_by_role("button").click()
    page.fill("#refund-qty-1", "1")
    page.locator("#refund-selected").click()
    expect(page.locator("#refund-amount")).to_be_visible()
    expect(page.locator("#message")).not_to_have_class("message shown")
    refund = Receipt.objects.get(kind=Receipt.Kind.REFUND)
    assert refund.refund_of_id == sale.pk
    with translation.override("ru"):
        balance = account_balance(account, now=timezone.now()).available
        expect(page.locator("#refund-balance")).to_have_text(money(balance))
    assert verify_ledger() == []


def test_a_failed_answer_shows_its_own_message_and_never_says_the_server_did_not_answer(
    page, make_staff, merchant, register, actor
):
    Shop(merchant, register, actor)
    log_in(page, make_staff("cashier"), path="/cashier/login/")
    page.fill("#identify", "+7 999 000-00-00")
    page.keyboard.press("Enter")
    expect(page.locator("#message")).to_have_text("Покупатель не найден.")

    # A fault of ours answers 500 with a message of its own.
    page.route(
        "**/cashier/identify/",
        lambda route: route.fulfill(
            status=500,
            content_type="text/html",
            body='<div id="message" class="message shown">Сбой на сервере</div>',
        ),
    )
    page.fill("#identify", "8 (916) 123-45-67")
    page.keyboard.press("Enter")
    expect(page.locator("#message")).to_have_text("Сбой на сервере")

    # A proxy's bare 502 page: the status is named.
    page.unroute("**/cashier/identify/")
    page.route("**/cashier/identify/", lambda route: route.fulfill(status=502, body="Bad gateway"))
    page.keyboard.press("Enter")
    expect(page.locator("#message")).to_contain_text("(502)")
    expect(page.locator("#message")).not_to_contain_text("Нет связи")


def test_a_receipt_without_a_customer_says_it_earns_no_bonuses(
    page, make_staff, merchant, register, actor
):
    Shop(merchant, register, actor)
    log_in(page, make_staff("cashier"), path="/cashier/login/")
    page.fill("#identify", "+7 999 000-00-00")
    page.keyboard.press("Enter")
    expect(page.locator("#message")).to_have_text("Покупатель не найден.")
    page.fill("#search", world.COFFEE_BARCODE)
    page.keyboard.press("Enter")
    expect(page.locator("#anonymous-sale")).to_be_visible()

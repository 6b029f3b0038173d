"""Moving the cards of a filtered customer list to a card type of another program, in a real
browser: balances follow the customers."""

from django.db import transaction
from django.utils import timezone

from kopilka.customers import card_types
from kopilka.customers.models import Card
from kopilka.customers.services import card_issue
from kopilka.ledger import locks
from kopilka.ledger import services as ledger
from kopilka.ledger.models import Account
from kopilka.ledger.selectors import account_balance
from kopilka.programs import services as programs
from tests.conftest import SYSTEM

from .conftest import log_in, save_screenshot

LIST = "/admin/customers/customer/"


def test_an_owner_moves_a_customers_card_to_gold_and_the_bonuses_follow(
    page, make_staff, merchant, make_customer
):
    silver_program = programs.program_create(merchant=merchant, name="Серебро", actor=SYSTEM)
    gold_program = programs.program_create(merchant=merchant, name="Золото", actor=SYSTEM)
    silver = card_types.card_type_create(
        merchant=merchant, name="Серебряные", program=silver_program, actor=SYSTEM
    )
    card_types.card_type_create(
        merchant=merchant, name="Золотые", program=gold_program, actor=SYSTEM
    )
    customer = make_customer(first_name="Вера", last_name="Постоянная")
    card_issue(
        customer=customer, kind=Card.Kind.PLASTIC, number="5551", actor=SYSTEM, card_type=silver
    )
    account = ledger.account_open(customer=customer, program=silver_program, actor=SYSTEM)
    with transaction.atomic():
        [locked] = locks.lock_accounts([account.pk])
        ledger.credit(account=locked, amount=25000, actor=SYSTEM)

    log_in(page, make_staff("owner"), path=f"/admin/login/?next={LIST}")
    page.goto(f"{LIST}?q=5551")
    page.locator("#move-cards-link").click()
    page.wait_for_url("**/move-cards/?q=5551")
    page.select_option("select[name=to_type]", label="Золотые (Золото)")
    page.fill("input[name=reason]", "Повышение")
    save_screenshot(page, "backoffice-move-cards.png")
    page.get_by_role("button", name="Перевести карты").click()
    page.wait_for_url("**/admin/customers/customer/?q=5551")

    assert page.get_by_text("1 карта теперь имеет тип Золотые").is_visible()
    gold = Account.objects.get(customer=customer, program=gold_program)
    assert account_balance(gold, now=timezone.now()).available == 25000

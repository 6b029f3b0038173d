"""The little shop the cashier tests work in, shared by the view tests and the browser tests:
a bonus program, products with barcodes, and a customer with bonuses and a plastic card."""

from django.db import transaction

from kopilka.catalog import services as catalog
from kopilka.customers.services import card_issue, customer_register
from kopilka.ledger import locks
from kopilka.ledger import services as ledger
from kopilka.programs import services as programs

CARD = "2000000000017"
COFFEE_BARCODE = "4600000000011"
MILK_BARCODE = "4600000000028"


def bonus_program(merchant, actor):
    """5 % accrual, at most half of a receipt payable with bonuses."""
    program = programs.program_create(
        merchant=merchant,
        name="Бонусы",
        actor=actor,
        accrual_rounding="kopeck",
        max_share_percent=50,
    )
    programs.accrual_rule_set(program=program, steps=[(0, 5)], actor=actor)
    return program


def products(merchant, actor) -> dict:
    """Coffee and milk with barcodes; bread that earns nothing and cannot be paid with bonuses."""
    bakery = catalog.category_create(
        merchant=merchant, name="Хлеб", actor=actor, no_accrual=True, no_bonus_payment=True
    )
    return {
        "coffee": catalog.product_create(
            merchant=merchant,
            sku="COFFEE",
            name="Кофе молотый",
            barcode=COFFEE_BARCODE,
            actor=actor,
        ),
        "milk": catalog.product_create(
            merchant=merchant, sku="MILK", name="Молоко", barcode=MILK_BARCODE, actor=actor
        ),
        "bread": catalog.product_create(
            merchant=merchant,
            sku="BREAD",
            name="Хлеб бородинский",
            category=bakery,
            actor=actor,
        ),
    }


def funded_customer(merchant, program, actor):
    """Анна Петрова with 500.00 bonuses and the plastic card CARD."""
    customer = customer_register(
        merchant=merchant,
        actor=actor,
        first_name="Анна",
        last_name="Петрова",
        phone="+79161234567",
    )
    card_issue(customer=customer, kind="plastic", number=CARD, actor=actor)
    account = programs.customer_enrol(customer=customer, program=program, actor=actor)
    with transaction.atomic():
        [locked] = locks.lock_accounts([account.pk])
        ledger.credit(account=locked, amount=50000, actor=actor)
    return customer

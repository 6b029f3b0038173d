"""Demo data: one merchant with stores, registers, staff, a catalogue with exclusions,
1,000 customers with cards and a few months of receipts and ledger history.

Deterministic: the same seed builds the same data, and the register keys are derived from it
so `make run` can print them every time. Demo keys and passwords are for a local demo only.
"""

from __future__ import annotations

import contextlib
import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction

from kopilka.catalog import services as catalog
from kopilka.customers import services as customers
from kopilka.customers import stats as customer_stats
from kopilka.ledger import locks
from kopilka.ledger import services as ledger
from kopilka.ledger.exceptions import InsufficientBalance
from kopilka.merchants import services as merchants
from kopilka.merchants.actors import Actor
from kopilka.merchants.models import Merchant, Register, Role
from kopilka.pos.models import Receipt, ReceiptLine
from kopilka.programs import services as programs

DEMO_NAME = "Демо-магазин"
DEMO_PASSWORD = "kopilka-demo"
SEED = 2026
ACTOR = Actor.system("demo")

FIRST_NAMES = [
    "Анна",
    "Мария",
    "Елена",
    "Ольга",
    "Наталья",
    "Иван",
    "Сергей",
    "Алексей",
    "Дмитрий",
    "Андрей",
    "Татьяна",
    "Павел",
    "Юлия",
    "Михаил",
    "Ирина",
    "Олег",
]
LAST_NAMES = [
    "Иванов",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Васильев",
    "Петров",
    "Соколов",
    "Михайлов",
    "Новиков",
    "Фёдоров",
    "Морозов",
    "Волков",
    "Алексеев",
    "Лебедев",
]
# (category, parent, flags, [(sku, name, price in kopecks)])
CATALOG = [
    ("Продукты", None, {}, []),
    (
        "Хлеб",
        "Продукты",
        {"no_accrual": True, "no_discount": True, "no_bonus_payment": True},
        [("BR-001", "Хлеб бородинский", 6500), ("BR-002", "Батон нарезной", 5200)],
    ),
    (
        "Молочные продукты",
        "Продукты",
        {},
        [
            ("ML-001", "Молоко 3,2 %", 9900),
            ("ML-002", "Сыр российский", 45000),
            ("ML-003", "Йогурт клубничный", 7900),
        ],
    ),
    (
        "Бакалея",
        "Продукты",
        {},
        [
            ("GR-001", "Гречка 900 г", 11900),
            ("GR-002", "Кофе молотый", 52000),
            ("GR-003", "Чай чёрный", 24900),
        ],
    ),
    (
        "Напитки",
        None,
        {},
        [("DR-001", "Сок яблочный 1 л", 14900), ("DR-002", "Вода минеральная", 6900)],
    ),
    (
        "Алкоголь",
        "Напитки",
        {"no_bonus_payment": True, "no_accrual": True},
        [("AL-001", "Вино красное", 79000), ("AL-002", "Пиво светлое", 11900)],
    ),
    (
        "Хозтовары",
        None,
        {},
        [("HH-001", "Средство для посуды", 18900), ("HH-002", "Губки 5 шт.", 9900)],
    ),
    (
        "Пакеты",
        "Хозтовары",
        {"no_accrual": True, "no_discount": True, "no_bonus_payment": True},
        [("BAG-01", "Пакет-майка", 900), ("BAG-02", "Пакет крафт", 1500)],
    ),
]
STORES = [
    ("Магазин на Тверской", True, ["Касса 1", "Касса 2"]),
    ("Киоск у метро", False, ["Касса"]),
]


@dataclass(frozen=True)
class DemoInfo:
    merchant: Merchant
    logins: list[tuple[str, str, str]]  # (role, username, password)
    keys: list[tuple[str, str]]  # (register, API key)
    created: bool


def demo_barcode(n: int) -> str:
    """An EAN-13 barcode for the n-th demo product (prefix 460, a valid check digit)."""
    body = f"4600000{n:05d}"
    odd, even = sum(map(int, body[::2])), sum(map(int, body[1::2]))
    return body + str((10 - (odd + 3 * even) % 10) % 10)


def demo_key(register_name: str, store_name: str) -> str:
    digest = hashlib.sha256(f"kopilka-demo/{SEED}/{store_name}/{register_name}".encode())
    return "kp_demo_" + digest.hexdigest()[:32]


def _describe(merchant: Merchant, created: bool) -> DemoInfo:
    logins = [
        (member.role, member.user.username, DEMO_PASSWORD)
        for member in merchant.staff.select_related("user").order_by("id")
    ]
    keys = [
        (str(register), demo_key(register.name, register.store.name))
        for register in Register.objects.filter(merchant=merchant)
        .select_related("store")
        .order_by("id")
    ]
    return DemoInfo(merchant=merchant, logins=logins, keys=keys, created=created)


def demo_find() -> Merchant | None:
    return Merchant.objects.filter(name=DEMO_NAME).order_by("id").first()


@transaction.atomic
def demo_build(*, customers_count: int = 1000, months: int = 4, now: datetime | None = None):
    """Build the demo merchant. Call only when it is absent (see `demo_find`)."""
    rng = random.Random(SEED)
    now = now or datetime.now(UTC)
    merchant = merchants.merchant_create(
        name=DEMO_NAME,
        currency="RUB",
        time_zone="Europe/Moscow",
        phone_region="RU",
        actor=ACTOR,
    )
    registers: list[Register] = []
    for store_name, accepts_bonuses, register_names in STORES:
        store = merchants.store_create(
            merchant=merchant,
            name=store_name,
            accepts_bonus_payment=accepts_bonuses,
            actor=ACTOR,
        )
        for register_name in register_names:
            register = merchants.register_create(store=store, name=register_name, actor=ACTOR)
            merchants.register_key_issue(
                register=register, actor=ACTOR, key=demo_key(register_name, store_name)
            )
            registers.append(register)
    for role in Role.values:
        merchants.staff_create(
            merchant=merchant,
            username=role,
            password=DEMO_PASSWORD,
            role=role,
            actor=ACTOR,
            first_name=role.capitalize(),
        )

    categories, products = {}, []
    for name, parent, flags, items in CATALOG:
        categories[name] = catalog.category_create(
            merchant=merchant, name=name, parent=categories.get(parent), actor=ACTOR, **flags
        )
        for sku, product_name, price in items:
            product = catalog.product_create(
                merchant=merchant,
                sku=sku,
                name=product_name,
                category=categories[name],
                barcode=demo_barcode(len(products) + 1),
                actor=ACTOR,
            )
            products.append((product, price))
    drinks = catalog.segment_create(
        merchant=merchant, name="Напитки", actor=ACTOR, categories=[categories["Напитки"]]
    )
    groups = [
        customers.group_create(merchant=merchant, name=n, actor=ACTOR)
        for n in ("VIP", "Сотрудники")
    ]
    program = programs.program_create(
        merchant=merchant,
        name="Бонусная программа",
        actor=ACTOR,
        terms_url="https://example.com/bonus-terms",
        lifetime_days=180,
        max_share_percent=30,
        welcome_bonus=10000,
        welcome_lifetime_days=30,
    )
    # 3 % below 5,000 roubles, 5 % from 5,000 (seed 004); drinks may be paid 10 % by bonuses.
    programs.accrual_rule_set(
        program=program, steps=[(0, 3), (500000, 5)], actor=ACTOR, name="Кешбэк"
    )
    programs.segment_cap_set(program=program, segment=drinks, max_share_percent=10, actor=ACTOR)

    start = now - timedelta(days=30 * months)
    receipt_no = 0
    receipt_lines: list[ReceiptLine] = []
    for n in range(customers_count):
        registered = start + timedelta(minutes=rng.randrange(0, 30 * months * 24 * 60 // 2))
        plastic = rng.random() < 0.2
        customer = customers.customer_register(
            merchant=merchant,
            actor=ACTOR,
            phone=f"+7916{n:07d}",
            email=f"client{n}@example.com" if rng.random() < 0.4 else None,
            first_name=rng.choice(FIRST_NAMES),
            last_name=rng.choice(LAST_NAMES),
            birthday=datetime(
                1960 + rng.randrange(45), rng.randrange(1, 13), rng.randrange(1, 29)
            ).date()
            if rng.random() < 0.8
            else None,
            marketing_consent=rng.random() < 0.6,
            groups=[rng.choice(groups)] if rng.random() < 0.1 else [],
            card_number=f"{2000000000000 + n}" if plastic else None,
            virtual_card=not plastic,
        )
        account = programs.customer_enrol(
            customer=customer, program=program, actor=ACTOR, now=registered
        )
        at = registered
        for _visit in range(rng.randrange(0, 10)):
            at += timedelta(days=rng.uniform(1, 20), minutes=rng.randrange(600))
            if at >= now:
                break
            register = rng.choice(registers)
            lines = [
                (product, price, rng.randrange(1, 3))
                for product, price in rng.sample(products, rng.randrange(1, 5))
            ]
            total = sum(price * qty for _, price, qty in lines)
            receipt_no += 1
            receipt = Receipt.objects.create(
                merchant=merchant,
                store_id=register.store_id,
                register=register,
                customer=customer,
                external_number=f"D-{receipt_no:06d}",
                occurred_at=at,
                subtotal=total,
                to_pay=total,
            )
            # The lines give the cashier screen each product's last price.
            receipt_lines.extend(
                ReceiptLine(
                    receipt=receipt,
                    line_no=line_no,
                    product=product,
                    sku=product.sku,
                    name=product.name,
                    qty=qty,
                    unit_price=price,
                    amount=price * qty,
                )
                for line_no, (product, price, qty) in enumerate(lines, start=1)
            )
            with transaction.atomic():
                [locked] = locks.lock_accounts([account.pk])
                if register.store.accepts_bonus_payment and rng.random() < 0.3:
                    with contextlib.suppress(InsufficientBalance):
                        ledger.spend(
                            account=locked,
                            amount=min(total // 10, 50000),
                            actor=ACTOR,
                            receipt=receipt,
                            now=at,
                        )
                accrual = total * 5 // 100 // 100 * 100  # 5 %, whole bonuses
                if accrual:
                    ledger.credit(
                        account=locked,
                        amount=accrual,
                        actor=ACTOR,
                        receipt=receipt,
                        now=at,
                        freeze_days=rng.choice([0, 0, 14]),
                        lifetime_days=180,
                        lifetime_from_accrual=program.lifetime_from_accrual,
                    )
    ReceiptLine.objects.bulk_create(receipt_lines, batch_size=1000)
    # The receipts above were written directly, not through the till: count their visits
    # and spend for the back office's customer list.
    customer_stats.rebuild(merchant=merchant, now=now)
    return _describe(merchant, created=True)


def demo_describe(merchant: Merchant) -> DemoInfo:
    return _describe(merchant, created=False)

"""Demo data: one merchant with stores, registers, staff, a catalogue with exclusions,
1,000 customers with cards and a few months of receipts and ledger history.

Deterministic: the same seed builds the same data, and the register keys are derived from it
so `make run` can print them every time. Demo keys and passwords are for a local demo only.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction

from kopilka import tick
from kopilka.catalog import services as catalog
from kopilka.customers import services as customers
from kopilka.customers.models import Customer
from kopilka.demo_history import PastSales, book, more_visits
from kopilka.merchants import services as merchants
from kopilka.merchants.actors import Actor
from kopilka.merchants.models import Merchant, Register, Role
from kopilka.programs import services as programs

DEMO_NAME = "Демо-магазин"
DEMO_PASSWORD = "kopilka-demo"
SEED = 2026
ACTOR = Actor.system("demo")

FEMALE_NAMES = ["Анна", "Мария", "Елена", "Ольга", "Наталья", "Татьяна", "Юлия", "Ирина"]
MALE_NAMES = ["Иван", "Сергей", "Алексей", "Дмитрий", "Андрей", "Павел", "Михаил", "Олег"]
# Masculine surnames; a woman's is the feminine form (+"а": Иванов, Иванова).
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
def demo_build(
    *,
    customers_count: int = 1000,
    months: int = 4,
    receipts: int = 0,
    days: int = 365,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
):
    """Build the demo merchant. Call only when it is absent (see `demo_find`). `receipts`:
    that many more purchases spread over the `days` before now (a longer history for
    trying the reports at volume)."""
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
        lifetime_days=90,
        max_share_percent=30,
        welcome_bonus=10000,
        welcome_lifetime_days=30,
    )
    # 3 % below 5,000 roubles, 5 % from 5,000 (seed 004); drinks may be paid 10 % by bonuses.
    programs.accrual_rule_set(
        program=program, steps=[(0, 3), (500000, 5)], actor=ACTOR, name="Кешбэк"
    )
    programs.segment_cap_set(program=program, segment=drinks, max_share_percent=10, actor=ACTOR)

    sales = PastSales(
        rng=random.Random(SEED + 1),
        registers=registers,
        products=[(product.sku, product.name, price) for product, price in products],
    )
    visits: list[tuple[datetime, int | None]] = []
    joined: list[tuple[datetime, int]] = []
    start = now - timedelta(days=30 * months)
    for n in range(customers_count):
        # Spread over the whole history but its last week, so every period has newcomers.
        registered = start + timedelta(minutes=rng.randrange(0, (30 * months - 7) * 24 * 60))
        plastic = rng.random() < 0.2
        female = rng.random() < 0.55
        surname = rng.choice(LAST_NAMES)
        customer = customers.customer_register(
            merchant=merchant,
            actor=ACTOR,
            phone=f"+7916{n:07d}",
            email=f"client{n}@example.com" if rng.random() < 0.4 else None,
            first_name=rng.choice(FEMALE_NAMES if female else MALE_NAMES),
            last_name=surname + "а" if female else surname,
            gender=Customer.Gender.FEMALE if female else Customer.Gender.MALE,
            birthday=datetime(
                1960 + rng.randrange(45), rng.randrange(1, 13), rng.randrange(1, 29)
            ).date()
            if rng.random() < 0.8
            else None,
            marketing_consent=rng.random() < 0.6,
            groups=[rng.choice(groups)] if rng.random() < 0.1 else [],
            card_number=f"{2000000000000 + n}" if plastic else None,
            virtual_card=not plastic,
            registered_at=registered,
        )
        programs.customer_enrol(customer=customer, program=program, actor=ACTOR, now=registered)
        joined.append((registered, customer.pk))
        at = registered
        for _visit in range(rng.randrange(0, 10)):
            at += timedelta(days=rng.uniform(1, 20), minutes=rng.randrange(600))
            if at >= now:
                break
            visits.append((at, customer.pk))
            if rng.random() < 0.2:
                visits.append((at + timedelta(minutes=rng.randrange(1, 90)), None))
    joined.sort()
    visits += more_visits(rng=rng, joined=joined, count=receipts, now=now, days=days)
    # In time order: a purchase spends what was there at its moment, before anything burnt.
    book(sales, visits, progress)
    # What the periodic job would have done by now: burn what expired (on the day it
    # expired), record levels, roll the reports up. The demo then shows no figure that waits
    # for a job.
    tick.run(now=now, say=lambda line: None)
    return _describe(merchant, created=True)


def demo_describe(merchant: Merchant) -> DemoInfo:
    return _describe(merchant, created=False)

"""`kopilka demo --receipts N`: a long purchase history for the demo merchant, fast.

Receipts, their lines and their accruals are written in bulk (thousands of rows per statement),
not through the till's services one receipt at a time, so a million receipts take minutes.
The ledger stays whole all the same: every accrual opens its lot and posts its entry, exactly
as `ledger.services.credit` would (check with `kopilka verify-ledger`). The history spends no
bonuses, which keeps it simple; the regular demo history does. Afterwards the customers'
figures and the report rollups are rebuilt.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction

from kopilka.ledger.models import Account, Entry, EntryKind, Lot
from kopilka.merchants.models import Merchant, Register
from kopilka.pos.models import Receipt, ReceiptLine

BATCH = 2000
ANONYMOUS_SHARE = 0.3
ACCRUAL_PERCENT = 5
LIFETIME = timedelta(days=180)


@dataclass(frozen=True)
class HistoryResult:
    receipts: int
    lines: int
    accruals: int


def add_history(
    *,
    merchant: Merchant,
    count: int,
    now: datetime,
    days: int = 365,
    seed: int = 1,
    progress: Callable[[int], None] | None = None,
) -> HistoryResult:
    """Add `count` confirmed sale receipts spread over the `days` before `now`."""
    rng = random.Random(seed)
    registers = list(Register.objects.filter(store__merchant=merchant).select_related("store"))
    accounts = list(
        Account.objects.filter(merchant=merchant).values_list("pk", "customer_id", "program_id")
    )
    products = _products_with_prices(merchant)
    if not registers or not products:
        raise ValueError("the merchant needs registers and products with a sale price first")
    run = uuid.uuid4().hex[:8]  # receipt numbers stay unique however often this runs
    made = HistoryResult(0, 0, 0)
    for first in range(0, count, BATCH):
        size = min(BATCH, count - first)
        made = _add_batch(
            merchant, rng, registers, accounts, products, now, days, run, first, size, made
        )
        if progress:
            progress(made.receipts)
    return made


def _products_with_prices(merchant: Merchant) -> list[tuple[int, str, str, int]]:
    """(product id, sku, name, unit price) of products sold before, at their last price."""
    prices: dict[int, tuple[str, str, int]] = {}
    lines = (
        ReceiptLine.objects.filter(receipt__merchant=merchant, product__isnull=False)
        .order_by("pk")
        .values_list("product_id", "sku", "name", "unit_price")
    )
    for product_id, sku, name, price in lines.iterator(chunk_size=5000):
        prices[product_id] = (sku, name, price)
    return [(pk, sku, name, price) for pk, (sku, name, price) in sorted(prices.items())]


@transaction.atomic
def _add_batch(merchant, rng, registers, accounts, products, now, days, run, first, size, made):
    receipts, baskets = [], []
    for n in range(first, first + size):
        register = rng.choice(registers)
        account = None if rng.random() < ANONYMOUS_SHARE or not accounts else rng.choice(accounts)
        basket = [
            (product, rng.randrange(1, 3)) for product in rng.sample(products, rng.randint(1, 4))
        ]
        subtotal = sum(price * qty for (_, _, _, price), qty in basket)
        accrued = subtotal * ACCRUAL_PERCENT // 100 // 100 * 100 if account else 0
        receipts.append(
            Receipt(
                merchant=merchant,
                store_id=register.store_id,
                register=register,
                customer_id=account[1] if account else None,
                program_id=account[2] if account else None,
                external_number=f"H{run}-{n}",
                occurred_at=now - timedelta(seconds=rng.randrange(days * 86400)),
                subtotal=subtotal,
                to_pay=subtotal,
                accrued=accrued,
            )
        )
        baskets.append((basket, account))
    Receipt.objects.bulk_create(receipts)
    lines = [
        ReceiptLine(
            receipt=receipt,
            line_no=line_no,
            product_id=product_id,
            sku=sku,
            name=name,
            qty=qty,
            unit_price=price,
            amount=price * qty,
        )
        for receipt, (basket, _) in zip(receipts, baskets, strict=True)
        for line_no, ((product_id, sku, name, price), qty) in enumerate(basket, start=1)
    ]
    ReceiptLine.objects.bulk_create(lines)
    earning = [
        (receipt, account)
        for receipt, (_, account) in zip(receipts, baskets, strict=True)
        if account is not None and receipt.accrued
    ]
    lots = Lot.objects.bulk_create(
        Lot(
            merchant=merchant,
            account_id=account[0],
            kind=EntryKind.ACCRUAL,
            amount=receipt.accrued,
            remaining=receipt.accrued,
            available_from=receipt.occurred_at,
            expires_at=receipt.occurred_at + LIFETIME,
            created_at=receipt.occurred_at,
        )
        for receipt, account in earning
    )
    Entry.objects.bulk_create(
        Entry(
            merchant=merchant,
            account_id=account[0],
            lot=lot,
            kind=EntryKind.ACCRUAL,
            amount=receipt.accrued,
            receipt=receipt,
            actor="system:demo-history",
            created_at=receipt.occurred_at,
        )
        for (receipt, account), lot in zip(earning, lots, strict=True)
    )
    return HistoryResult(made.receipts + size, made.lines + len(lines), made.accruals + len(lots))

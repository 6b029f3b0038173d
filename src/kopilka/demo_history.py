"""The demo's purchase history, booked through the till's own services at moments in the
past: `make run`'s few months of receipts and `kopilka demo --receipts N`'s longer history.

Every receipt goes through `sales.services.receipt_confirm` (and now and then `receipt_refund`)
with `now=` the moment of the purchase, so the receipts, lots, entries, customers' figures,
levels and campaign uses are exactly what real sales would have written: there is no second
way of booking a sale to keep equal. Purchases and refunds are booked in time order, before
the demo's `tick.run` burns what expired and rolls the reports up; a history is never added
behind a tick that has run (that would spend points the job already wrote off).
"""

from __future__ import annotations

import bisect
import heapq
import random
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from kopilka.merchants.models import Register
from kopilka.sales import services as pos
from kopilka.sales.schemas import ConfirmIn, RefundIn

ANONYMOUS_SHARE = 0.3
SPEND_SHARE = 0.3  # of a known customer's purchases where the store takes bonuses
REFUND_SHARE = 0.04  # of a known customer's purchases: the first line back within the hour
PROGRESS_EVERY = 1000


class PastSales:
    """Books purchases (and now and then a refund) at moments in the past through the till's
    services. `products`: (sku, name, unit price in kopecks) to pick baskets from."""

    def __init__(
        self,
        *,
        rng: random.Random,
        registers: Sequence[Register],
        products: Sequence[tuple[str, str, int]],
    ):
        self.rng, self.registers, self.products = rng, registers, products
        self.number = self.refunds = 0
        self.refunds_due: list[tuple[datetime, int, Register, int]] = []

    def sale(self, customer_id: int | None, at: datetime) -> None:
        """A purchase at `at`; now and then its first line comes back within the hour
        (booked by `refunds_until` once the clock has got there)."""
        self.refunds_until(at)
        rng = self.rng
        register = rng.choice(self.registers)
        chosen = rng.sample(self.products, min(len(self.products), rng.randrange(1, 5)))
        self.number += 1
        known = customer_id is not None
        spend = (
            "max"
            if known and register.store.accepts_bonus_payment and rng.random() < SPEND_SHARE
            else 0
        )
        booked = pos.receipt_confirm(
            register=register,
            key=f"demo-sale-{self.number}",
            data=ConfirmIn(
                customer={"id": customer_id} if known else None,
                lines=[
                    {
                        "line_no": line_no,
                        "sku": sku,
                        "name": name,
                        "qty": str(rng.randrange(1, 3)),
                        "unit_price": price,
                    }
                    for line_no, (sku, name, price) in enumerate(chosen, start=1)
                ],
                spend=spend,
                external_number=f"D-{self.number:07d}",
            ),
            now=at,
        )
        if known and rng.random() < REFUND_SHARE:
            when = at + timedelta(minutes=rng.randrange(5, 60))
            heapq.heappush(self.refunds_due, (when, self.number, register, booked["receipt_id"]))

    def refunds_until(self, moment: datetime | None = None) -> None:
        """Book the refunds due by `moment` (all of them without one), so the ledger sees
        every purchase and refund in the order they happened."""
        while self.refunds_due and (moment is None or self.refunds_due[0][0] <= moment):
            when, number, register, receipt_id = heapq.heappop(self.refunds_due)
            self.refunds += 1
            pos.receipt_refund(
                register=register,
                receipt_id=receipt_id,
                key=f"demo-refund-{number}",
                data=RefundIn(lines=[{"line_no": 1, "qty": "1"}]),
                now=when,
            )


def more_visits(
    *,
    rng: random.Random,
    joined: Sequence[tuple[datetime, int]],
    count: int,
    now: datetime,
    days: int,
) -> list[tuple[datetime, int | None]]:
    """`count` purchase moments spread over the `days` before `now`, each anonymous or by
    one of the customers `joined` ((registered at, id), in that order) by then."""
    since = [registered for registered, _ in joined]
    visits: list[tuple[datetime, int | None]] = []
    for _ in range(count):
        at = now - timedelta(seconds=rng.randrange(days * 86400))
        registered = bisect.bisect_right(since, at)
        anonymous = registered == 0 or rng.random() < ANONYMOUS_SHARE
        visits.append((at, None if anonymous else joined[rng.randrange(registered)][1]))
    return visits


def book(
    sales: PastSales,
    visits: Sequence[tuple[datetime, int | None]],
    progress: Callable[[int], None] | None = None,
) -> None:
    """Book the purchases (moment, customer id or None) in time order, and the refunds due."""
    for n, (at, customer_id) in enumerate(sorted(visits, key=lambda v: v[0]), start=1):
        sales.sale(customer_id, at)
        if progress and n % PROGRESS_EVERY == 0:
            progress(n)
    sales.refunds_until()

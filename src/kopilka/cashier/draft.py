"""The receipt being rung up at the till, as the screen posts it back with every action.

The screen keeps no receipt on the server: every request carries the whole draft (lines,
customer, bonus spend, the attempt's idempotency key and receipt number), so a reload or a
second tab can never book a receipt the cashier did not see. Money is typed in roubles and
kept in kopecks.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kopilka import bounds, numfmt
from kopilka.errors import ValidationFailed
from kopilka.pos.schemas import ConfirmIn, CustomerRef, LineIn, QuoteIn

MAX_LINES = bounds.MAX_TILL_SCREEN_LINES
MAX_QTY = Decimal(bounds.MAX_QTY)
# A free amount of no category (a merchant without a catalogue yet): each is a line of its own.
FREE_AMOUNT_SKU = "FREE"


class InvalidAmount(ValidationFailed):
    code = "invalid_amount"

    def __init__(self, message=None, **details):
        super().__init__(message if message is not None else numfmt.invalid_amount(), **details)


class InvalidQuantity(ValidationFailed):
    code = "invalid_quantity"
    default_message = _("Enter a quantity greater than zero, up to three decimals.")


class TooManyLines(ValidationFailed):
    code = "too_many_lines"
    default_message = _("A receipt cannot have more lines.")


def _decimal(raw: str) -> Decimal:
    return numfmt.parse_number(raw)


def parse_money(raw: str, maximum: int) -> int:
    """Roubles as typed or as the screen shows them ("89.90", "89,9", "1 200", "5 000,00 ₽")
    to kopecks, at most `maximum` kopecks (a bound of kopilka.bounds). The reading is
    `numfmt.parse_number`, shared with the back office."""
    try:
        value = _decimal(raw)
    except numfmt.NotANumber:
        raise InvalidAmount(field="amount", value=raw) from None
    if value > Decimal(maximum) / 100:
        raise InvalidAmount(
            gettext("Enter an amount of at most %(maximum)s.")
            % {"maximum": number_format(Decimal(maximum) / 100, 2, force_grouping=True)},
            field="amount",
            value=raw,
            maximum=maximum,
        )
    if value < 0 or value != value.quantize(Decimal("0.01")):
        raise InvalidAmount(field="amount", value=raw)
    return int(value * 100)


def parse_qty(raw: str) -> Decimal:
    try:
        value = _decimal(raw)
    except numfmt.NotANumber:
        raise InvalidQuantity(field="qty", value=raw) from None
    if not 0 < value <= MAX_QTY or value != value.quantize(Decimal("0.001")):
        raise InvalidQuantity(field="qty", value=raw)
    return value.normalize() if value == value.to_integral() else value


def money_input(kopecks: int | None) -> str:
    """Kopecks as the screen's inputs show them, the way the active language writes money
    ("1 234,50" in Russian and Ukrainian, "1,234.50" in English), which `parse_money`
    reads back."""
    if kopecks is None:
        return ""
    return numfmt.money(kopecks)


@dataclass(frozen=True)
class DraftLine:
    sku: str
    name: str
    qty: Decimal
    price: int | None  # kopecks; None until the cashier types it
    category: str = ""  # set for a free amount: the category the amount is booked under

    @property
    def shows_sku(self) -> bool:
        """A product's SKU helps the cashier; a free amount's made-up one ("FREE") does not."""
        return not self.category and self.sku != FREE_AMOUNT_SKU

    @property
    def amount(self) -> int | None:
        if self.price is None:
            return None
        return int((self.qty * self.price).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Draft:
    key: str
    number: str
    customer_id: int | None = None
    customer_card: str = ""
    lines: tuple[DraftLine, ...] = ()
    spend_max: bool = True
    spend: int = 0  # what the screen shows: the cashier's amount, or the last quote's max

    @classmethod
    def new(cls) -> Draft:
        """A fresh receipt: a new idempotency key and a receipt number made from it, so that a
        retry of this attempt books nothing twice and reads as the same receipt."""
        key = str(uuid.uuid4())
        return cls(key=key, number=f"{timezone.now():%y%m%d}-{key[:8].upper()}")

    @classmethod
    def from_post(cls, data) -> Draft:
        """The draft the screen posted. Bad numbers raise, naming the field."""
        fresh = cls.new()
        lines = []
        skus, names = data.getlist("line_sku"), data.getlist("line_name")
        qtys, prices = data.getlist("line_qty"), data.getlist("line_price")
        categories = data.getlist("line_category")
        if len(skus) > MAX_LINES:
            raise TooManyLines(limit=MAX_LINES)
        for i, sku in enumerate(skus):
            price_text = prices[i].strip() if i < len(prices) else ""
            lines.append(
                DraftLine(
                    sku=sku[:64],
                    name=(names[i] if i < len(names) else "")[:300],
                    qty=parse_qty(qtys[i] if i < len(qtys) else "1"),
                    price=parse_money(price_text, bounds.MAX_UNIT_PRICE) if price_text else None,
                    category=(categories[i] if i < len(categories) else "")[:200],
                )
            )
        customer_id = data.get("customer_id", "").strip()
        spend_text = data.get("spend", "").strip()
        return cls(
            key=(data.get("key") or fresh.key)[:128],
            number=(data.get("number") or fresh.number)[:64],
            customer_id=int(customer_id) if customer_id.isdigit() else None,
            customer_card=data.get("customer_card", "").strip()[:32],
            lines=tuple(lines),
            spend_max=data.get("spend_max", "1") == "1",
            spend=parse_money(spend_text, bounds.MAX_SPEND) if spend_text else 0,
        )

    # --- changes --------------------------------------------------------------------------

    def with_customer(self, customer_id: int | None, card: str = "") -> Draft:
        return replace(self, customer_id=customer_id, customer_card=card, spend_max=True)

    def with_line(self, line: DraftLine) -> Draft:
        """Add a line; the same product again adds to its quantity (one scan, one unit)."""
        if len(self.lines) >= MAX_LINES:
            raise TooManyLines(limit=MAX_LINES)
        if not line.category and line.sku != FREE_AMOUNT_SKU:
            for i, existing in enumerate(self.lines):
                if existing.sku == line.sku and not existing.category:
                    if existing.qty + line.qty > MAX_QTY:
                        raise InvalidQuantity(field="qty", maximum=bounds.MAX_QTY)
                    merged = replace(existing, qty=existing.qty + line.qty)
                    return replace(self, lines=(*self.lines[:i], merged, *self.lines[i + 1 :]))
        return replace(self, lines=(*self.lines, line))

    def without_line(self, index: int) -> Draft:
        return replace(self, lines=self.lines[:index] + self.lines[index + 1 :])

    # --- what the services take -------------------------------------------------------------

    @property
    def priced_lines(self) -> list[LineIn]:
        return [
            LineIn(
                line_no=no,
                sku=line.sku,
                name=line.name,
                category=line.category or None,
                qty=line.qty,
                unit_price=line.price,
            )
            for no, line in enumerate(self.lines, start=1)
            if line.price is not None
        ]

    @property
    def complete(self) -> bool:
        """Every line has its price: only then may the receipt be confirmed."""
        return bool(self.lines) and all(line.price is not None for line in self.lines)

    def customer_ref(self) -> CustomerRef | None:
        if self.customer_card:
            return CustomerRef(card=self.customer_card)
        if self.customer_id is not None:
            return CustomerRef(id=self.customer_id)
        return None

    def quote_in(self) -> QuoteIn:
        return QuoteIn(
            customer=self.customer_ref(),
            lines=self.priced_lines,
            spend="max" if self.spend_max else self.spend,
        )

    def confirm_in(self, *, cashier: str = "") -> ConfirmIn:
        """The booking, with the spend the screen showed (not "max": resolved again it could
        differ from what the cashier saw, and a double click must post the same request),
        by `cashier` (the staff member's user name: safe operations count per cashier)."""
        return ConfirmIn(
            customer=self.customer_ref(),
            lines=self.priced_lines,
            spend=self.spend,
            external_number=self.number,
            cashier=cashier or None,
        )

"""Reads for the cashier screen: products to ring up, their last prices, receipts to refund.
Every query is scoped by the merchant first."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Q, Sum

from kopilka.catalog.models import Category, Product
from kopilka.sales.models import Receipt, ReceiptLine

SUGGESTIONS = 8
RECENT_RECEIPTS = 10


def _name_variants(text: str) -> Q:
    """Name contains the text as typed, lower-case, capitalised or upper-case: SQLite folds
    only ASCII letters, and a cashier types "хлеб" for "Хлеб бородинский"."""
    condition = Q()
    for variant in {text, text.lower(), text.capitalize(), text.upper()}:
        condition |= Q(name__contains=variant)
    return condition


def products_matching(*, merchant, text: str, limit: int = SUGGESTIONS) -> list[Product]:
    """Products whose barcode or SKU is the text, then those whose SKU starts with it or whose
    name contains it."""
    text = (text or "").strip()
    if not text:
        return []
    products = Product.objects.filter(merchant=merchant).select_related("category")
    exact = list(products.filter(Q(barcode=text) | Q(sku__iexact=text)).order_by("sku")[:limit])
    seen = {p.pk for p in exact}
    more = (
        products.filter(Q(sku__istartswith=text) | _name_variants(text))
        .exclude(pk__in=seen)
        .order_by("name", "sku")[: limit - len(exact)]
    )
    return exact + list(more)


def product_by_code(*, merchant, code: str) -> Product | None:
    """The product a scanner or the search field named exactly: its barcode, else its SKU."""
    code = (code or "").strip()
    if not code:
        return None
    products = Product.objects.filter(merchant=merchant).select_related("category")
    return (
        products.filter(barcode=code).order_by("pk").first()
        or products.filter(sku__iexact=code).order_by("pk").first()
    )


def last_prices(*, merchant, product_ids) -> dict[int, int]:
    """The unit price each product last sold at in this merchant's receipts (the catalogue
    has no prices: the till's own system knows them)."""
    prices: dict[int, int] = {}
    for product_id in set(product_ids):
        price = (
            ReceiptLine.objects.filter(
                receipt__merchant=merchant,
                receipt__kind=Receipt.Kind.SALE,
                product_id=product_id,
            )
            .order_by("-id")
            .values_list("unit_price", flat=True)
            .first()
        )
        if price is not None:
            prices[product_id] = price
    return prices


def categories_for_amounts(*, merchant) -> list[Category]:
    return list(Category.objects.filter(merchant=merchant).order_by("name", "pk"))


def category_label(category: Category) -> str:
    """How a free-amount line names its category to the POS services (code, else name)."""
    return category.code or category.name


def recent_sales(*, merchant, customer_id: int | None) -> list[Receipt]:
    """The customer's latest confirmed sales, newest first: what they may bring back."""
    if customer_id is None:
        return []
    return list(
        Receipt.objects.filter(
            merchant=merchant,
            customer_id=customer_id,
            kind=Receipt.Kind.SALE,
            status=Receipt.Status.CONFIRMED,
        ).order_by("-occurred_at", "-id")[:RECENT_RECEIPTS]
    )


def sales_numbered(*, merchant, number: str) -> list[Receipt]:
    """Sales with this receipt number in any of the merchant's registers (numbers are unique
    per register only)."""
    number = (number or "").strip()
    if not number:
        return []
    return list(
        Receipt.objects.filter(merchant=merchant, kind=Receipt.Kind.SALE, external_number=number)
        .select_related("register__store")
        .order_by("-occurred_at", "-id")[:RECENT_RECEIPTS]
    )


def sales_on_day(*, merchant, day: datetime.date, amount: int | None = None) -> list[Receipt]:
    """Confirmed sales on the merchant's local day, newest first: with `amount` (kopecks) only
    those whose purchase sum or sum paid in money is that amount, as on the customer's paper
    receipt. Read through the (merchant, occurred_at) index."""
    zone = ZoneInfo(merchant.time_zone)
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(
        day + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone
    )
    sales = Receipt.objects.filter(
        merchant=merchant,
        occurred_at__gte=start,
        occurred_at__lt=end,
        kind=Receipt.Kind.SALE,
        status=Receipt.Status.CONFIRMED,
    )
    if amount is not None:
        sales = sales.filter(Q(subtotal=amount) | Q(to_pay=amount))
    return list(
        sales.select_related("register__store").order_by("-occurred_at", "-id")[:RECENT_RECEIPTS]
    )


@dataclass(frozen=True)
class RefundableLine:
    line: ReceiptLine
    refunded: Decimal

    @property
    def left(self) -> Decimal:
        return self.line.qty - self.refunded


def refundable_lines(receipt: Receipt) -> list[RefundableLine]:
    """The receipt's lines with what earlier refunds already took back."""
    refunded = {
        row["refunds_line"]: row["qty"]
        for row in ReceiptLine.objects.filter(refunds_line__receipt=receipt)
        .values("refunds_line")
        .annotate(qty=Sum("qty"))
    }
    return [
        RefundableLine(line=line, refunded=refunded.get(line.pk, Decimal(0)))
        for line in receipt.lines.order_by("line_no")
    ]

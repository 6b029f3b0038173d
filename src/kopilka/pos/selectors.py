"""Reads of receipts, always scoped by merchant."""

from .exceptions import ReceiptNotFound
from .models import Receipt, ReceiptLine


def receipt_get(*, merchant, pk) -> Receipt:
    receipt = (
        Receipt.objects.filter(merchant=merchant, pk=pk).first() if str(pk).isdigit() else None
    )
    if receipt is None:
        raise ReceiptNotFound(receipt=pk)
    return receipt


def receipts_of_customer(*, merchant, customer):
    return Receipt.objects.filter(merchant=merchant, customer=customer).order_by("-occurred_at")


def customer_activity(*, customer, windows, now) -> tuple:
    """The customer's purchases within each window (days; 0 = ever), for levels: spend after
    discounts with refunds deducted, per segment too, and visits (sales). Two queries."""
    from datetime import timedelta

    from kopilka.catalog.selectors import SegmentIndex, category_tree
    from kopilka.rules import Activity

    windows = sorted(set(windows))
    if not windows:
        return ()
    oldest = None if 0 in windows else now - timedelta(days=max(windows))
    receipts = Receipt.objects.filter(
        merchant_id=customer.merchant_id, customer=customer, status=Receipt.Status.CONFIRMED
    )
    if oldest is not None:
        receipts = receipts.filter(occurred_at__gte=oldest)
    rows = list(
        ReceiptLine.objects.filter(receipt__in=receipts)
        .select_related("product")
        .values_list(
            "receipt_id",
            "receipt__kind",
            "receipt__occurred_at",
            "amount",
            "discount",
            "product_id",
            "product__category_id",
        )
    )
    index = SegmentIndex(customer.merchant, category_tree(merchant=customer.merchant))
    result = []
    for window in windows:
        start = None if window == 0 else now - timedelta(days=window)
        spend, visits, by_segment = 0, set(), {}
        for receipt_id, kind, occurred_at, amount, discount, product_id, category_id in rows:
            if start is not None and occurred_at < start:
                continue
            sign = -1 if kind == Receipt.Kind.REFUND else 1
            value = sign * (amount - discount)
            spend += value
            if kind == Receipt.Kind.SALE:
                visits.add(receipt_id)
            if product_id is not None:
                for segment_id in index.of(_ProductRef(product_id, category_id)):
                    by_segment[segment_id] = by_segment.get(segment_id, 0) + value
        result.append((window, Activity(spend, tuple(sorted(by_segment.items())), len(visits))))
    return tuple(result)


class _ProductRef:
    """Just what SegmentIndex.of reads from a product."""

    __slots__ = ("category_id", "pk")

    def __init__(self, pk, category_id):
        self.pk = pk
        self.category_id = category_id

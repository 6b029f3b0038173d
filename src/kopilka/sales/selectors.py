"""Reads of receipts, always scoped by merchant."""

from .exceptions import ReceiptNotFound
from .models import Receipt


def receipt_get(*, merchant, pk) -> Receipt:
    receipt = (
        Receipt.objects.filter(merchant=merchant, pk=pk).first() if str(pk).isdigit() else None
    )
    if receipt is None:
        raise ReceiptNotFound(receipt=pk)
    return receipt


def receipts_of_customer(*, merchant, customer):
    return Receipt.objects.filter(merchant=merchant, customer=customer).order_by("-occurred_at")

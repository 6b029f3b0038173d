"""Reads of receipts, always scoped by merchant."""

from kopilka.programs.level_changes import activities_of

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


def customer_activity(*, customer, windows, now) -> tuple:
    """One customer's purchases within each window (days; 0 = ever), for levels."""
    return activities_of(
        merchant=customer.merchant, customer_ids=[customer.pk], windows=windows, now=now
    )[customer.pk]

"""Receipts: quote (writes nothing), confirm (atomic, idempotent), capture / void of a hold,
and refunds. The engine says what a receipt is worth; the ledger books it. One module per job:
`quote`, `sale`, `holds`, `refunds`, on the shared steps of `common`, the answers of `bodies`
and `idempotency`.
"""

from .common import CLOCK_SKEW, NO_PROGRAM
from .holds import receipt_capture, receipt_void
from .idempotency import idempotent
from .quote import receipt_quote
from .refunds import receipt_refund
from .sale import receipt_confirm

__all__ = [
    "CLOCK_SKEW",
    "NO_PROGRAM",
    "idempotent",
    "receipt_capture",
    "receipt_confirm",
    "receipt_quote",
    "receipt_refund",
    "receipt_void",
]

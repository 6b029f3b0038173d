"""Receipts endpoints: quote, confirm (idempotent), capture / void a hold, refunds."""

from django.http import HttpRequest
from ninja import Header, Router
from ninja.responses import Status

from kopilka.sales import services

from .schemas import ConfirmIn, QuoteIn, QuoteOut, ReceiptOut, RefundIn, RefundOut

router = Router(tags=["receipts"])

IDEMPOTENCY_KEY = Header(
    default=None,
    alias="Idempotency-Key",
    description="Required. The till saves it before sending and reuses it on every retry.",
    max_length=128,
)


@router.post("/quote", response=QuoteOut, summary="What a receipt would be worth (writes nothing)")
def quote(request: HttpRequest, body: QuoteIn):
    return services.receipt_quote(register=request.register, data=body)


@router.post("", response={201: ReceiptOut}, summary="Confirm a receipt (exactly once)")
def confirm(request: HttpRequest, body: ConfirmIn, idempotency_key: str | None = IDEMPOTENCY_KEY):
    return Status(
        201, services.receipt_confirm(register=request.register, key=idempotency_key, data=body)
    )


@router.post("/{int:receipt_id}/capture", summary="Spend the held bonuses and accrue")
def capture(request: HttpRequest, receipt_id: int):
    return services.receipt_capture(register=request.register, receipt_id=receipt_id)


@router.post("/{int:receipt_id}/void", summary="Release the held bonuses")
def void(request: HttpRequest, receipt_id: int):
    return services.receipt_void(register=request.register, receipt_id=receipt_id)


@router.post(
    "/{int:receipt_id}/refunds",
    response={201: RefundOut},
    summary="Refund a receipt fully or by lines and quantities",
)
def refund(
    request: HttpRequest,
    receipt_id: int,
    body: RefundIn,
    idempotency_key: str | None = IDEMPOTENCY_KEY,
):
    return Status(
        201,
        services.receipt_refund(
            register=request.register, receipt_id=receipt_id, key=idempotency_key, data=body
        ),
    )

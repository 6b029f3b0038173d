"""What the sale, refund and quote services take: a receipt as a till sends it. Money:
integers in kopecks. The POS API uses these as its request bodies (their bounds show in the
OpenAPI schema); the cashier screen and the demo build them too."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kopilka import bounds


class Strict(BaseModel):
    """Request bodies: unknown fields are an error, and so is a NUL character, which
    PostgreSQL cannot store in text.

    Plain pydantic models, not ninja Schemas: a Schema that forbids unknown fields validates
    each object twice, and so each nested one four times (a receipt's lines, say), for
    attribute getters that a JSON body never needs."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def no_nul_characters(cls, value):
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("text must not contain the NUL character")
        return value


class CustomerRef(Strict):
    """Exactly one of these."""

    id: int | None = Field(default=None, ge=1, le=2**62)
    card: str | None = Field(default=None, min_length=1, max_length=32)
    phone: str | None = Field(default=None, min_length=3, max_length=32)
    email: str | None = Field(default=None, min_length=3, max_length=254)


class LineFlags(Strict):
    no_accrual: bool = False
    no_discount: bool = False
    no_bonus_payment: bool = False


# The maxima are kopilka.bounds' (documented there and in docs/pos-api.md); the ones of one
# field are here so that the OpenAPI schema shows them, the ones across fields (a line's
# quantity x price, the receipt total) are checked by the services.
Qty = Annotated[
    Decimal,
    Field(
        gt=0, le=bounds.MAX_QTY, max_digits=bounds.QTY_DIGITS, decimal_places=bounds.QTY_DECIMALS
    ),
]


class LineIn(Strict):
    line_no: int = Field(ge=1, le=100000)
    sku: str = Field(min_length=1, max_length=64)
    name: str = Field(default="", max_length=300)
    category: str | None = Field(default=None, max_length=200)
    qty: Qty
    unit_price: int = Field(ge=0, le=bounds.MAX_UNIT_PRICE)
    pos_discount: int = Field(default=0, ge=0, le=bounds.MAX_POS_DISCOUNT)
    flags: LineFlags | None = None


class QuoteIn(Strict):
    customer: CustomerRef | None = None
    lines: list[LineIn] = Field(min_length=1, max_length=bounds.MAX_RECEIPT_LINES)
    spend: Annotated[int, Field(ge=0, le=bounds.MAX_SPEND)] | Literal["max"] = Field(
        default=0, description='Bonuses to pay with, in kopecks, or "max".'
    )
    occurred_at: datetime | None = None
    channel: Literal["pos", "online"] = "pos"


class PaymentIn(Strict):
    method: str = Field(min_length=1, max_length=32)
    amount: int = Field(ge=0, le=bounds.MAX_PAYMENT)


class ConfirmIn(QuoteIn):
    external_number: str = Field(min_length=1, max_length=64)
    payments: list[PaymentIn] = Field(default_factory=list, max_length=bounds.MAX_PAYMENTS)
    hold: bool = Field(default=False, description="Hold the bonuses; capture or void later.")
    cashier: str | None = Field(
        default=None,
        max_length=150,
        description="The cashier as the till names them (name or number); the merchant's "
        "safe-operations limits count per cashier.",
    )


class RefundLineIn(Strict):
    line_no: int = Field(ge=1, le=100000)
    qty: Qty


class RefundIn(Strict):
    external_number: str | None = Field(default=None, min_length=1, max_length=64)
    lines: list[RefundLineIn] | None = Field(
        default=None,
        max_length=bounds.MAX_RECEIPT_LINES,
        description="Omit to refund everything not yet refunded.",
    )

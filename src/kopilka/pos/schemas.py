"""Request and response shapes shared by the POS endpoints. Money: integers in kopecks."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Schema
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


class Balance(Schema):
    program_id: int
    program: str
    available: int
    pending: int
    held: int


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


# What a quote and a sale answer: plain pydantic models too, built from the services' dicts
# (a ninja Schema would wrap every nested object in its ORM attribute getter first).


class ReasonOut(BaseModel):
    code: str
    source: str
    value: str


class LineOut(BaseModel):
    line_no: int
    amount: int
    discount: int
    bonus_cap: int
    bonus_spent: int
    accrual: int
    to_pay: int
    reasons: list[ReasonOut]


class TotalsOut(BaseModel):
    subtotal: int
    discount: int
    max_spend: int
    bonus_spent: int
    to_pay: int
    accrual: int
    campaign_bonus: int = 0
    accrual_available_from: datetime | None
    accrual_expires_at: datetime | None


class LevelRef(BaseModel):
    id: int
    name: str


class SegmentAmount(BaseModel):
    segment_id: int
    amount: int


class NextLevelOut(BaseModel):
    id: int
    name: str
    spend: int | None = Field(description="Spend still needed (None: the level has no spend path).")
    spend_by_segment: list[SegmentAmount]
    visits: int | None = Field(description="Visits still needed (None: no visit path).")


class LevelOut(BaseModel):
    before: LevelRef | None
    after: LevelRef | None
    next: NextLevelOut | None


class QuoteOut(BaseModel):
    customer_id: int | None
    program_id: int | None
    totals: TotalsOut
    lines: list[LineOut]
    reasons: list[ReasonOut]
    campaigns: list[int] = Field(default_factory=list, description="Campaigns that applied.")
    balance: Balance | None
    level: LevelOut | None = None


class ReceiptOut(QuoteOut):
    receipt_id: int
    external_number: str
    status: str
    offline: bool


class RefundLineOut(Schema):
    line_no: int
    qty: Decimal
    amount: int
    bonus_returned: int
    accrual_clawed_back: int


class RefundOut(Schema):
    refund_id: int
    receipt_id: int
    external_number: str
    amount: int
    bonus_returned: int
    accrual_clawed_back: int
    clawback_shortfall: int
    lines: list[RefundLineOut]
    balance: Balance | None

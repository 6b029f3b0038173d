"""Response shapes of the POS endpoints, and the request bodies they take (the sales
services' own, `sales.schemas`). Money: integers in kopecks."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from ninja import Schema
from pydantic import BaseModel, Field

from kopilka.sales.schemas import (  # noqa: F401  (the API's request bodies)
    ConfirmIn,
    CustomerRef,
    LineFlags,
    LineIn,
    PaymentIn,
    QuoteIn,
    RefundIn,
    RefundLineIn,
    Strict,
)


class Balance(Schema):
    program_id: int
    program: str
    available: int
    pending: int
    held: int


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

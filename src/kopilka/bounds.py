"""The largest figures Kopilka accepts: each bound defined once, here, with why it is that number.

Plain Python (no Django), so the pure rules engine, the API's schemas, the services, the back
office and the cashier screen all read the same constants. Money and bonuses are integers in
kopecks (minor units); quantities are decimals with at most `QTY_DECIMALS` places. Every face
refuses more with a clear error: the API's schemas (which put these maxima in the OpenAPI
document), the services again (for callers that skip the schemas: `receipt_violation`,
`ledger.manual_adjust`), the back-office forms and the customer import, the cashier screen.

Why nothing the engine produces can overflow a bigint
-----------------------------------------------------
PostgreSQL's bigint and SQLite's integer hold up to 2^63 - 1 ~ 9.22 x 10^18. Every figure of
a receipt is bounded by the receipt total, at most `MAX_RECEIPT_TOTAL` = 10^11:

* line amounts, the subtotal, discounts, the bonus payment and the amount to pay are parts of
  the total (the engine refuses a discount above its line, `rules.engine._amounts`);
* the accrual: the engine caps every line's rate at 100 % whatever the program's percents,
  a level's cashback, extra percents and multipliers of campaigns (`rules.engine._rate`), so
  the accrual is at most the total, 10^11, even at `MAX_PERCENT` x `MAX_CAMPAIGN_MULTIPLIER`;
* fixed bonuses of campaigns add at most `MAX_BONUS_GRANT` = 10^9 each, welcome and birthday
  bonuses the same once.

So one sale writes figures of at most about 10^11 + 10^9 x (fixed-bonus campaigns running):
below 10^12 unless a thousand such campaigns run at once, and the ledger refuses any single
movement above `MAX_LEDGER_MOVEMENT` = 10^12 as a last line of defence (a typed error, never
an overflow): 9 x 10^6 times below 2^63. Sums that grow with time (a customer's total spent,
an account's balance, a store's daily sales in the reports) would need over 9 x 10^6
movements of 10^12, or 9 x 10^7 receipts of the largest total, to reach 2^63. Python
computes the intermediate products (amount x rate numerators) in arbitrary precision, so
only stored figures matter. `tests/rules/test_bounds.py` and `tests/pos/test_bounds.py`
book the largest receipt under the most generous configuration on both databases.
"""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

# ---- a receipt ---------------------------------------------------------------------------

MAX_QTY = 1_000_000
"""Quantity of one line (units, or kilograms with three decimals). A million of anything on
one line is already beyond any shop; more is a scanner or keyboard accident."""

QTY_DECIMALS = 3
"""Decimal places of a quantity: grams of a kilogram."""

QTY_DIGITS = 14
"""Digits of a quantity as sent (the schema's `max_digits`; the largest quantity with three
decimals needs 10)."""

MAX_MONEY = 10**11
"""A billion roubles in kopecks: the unit of every money bound below. No single purchase of
a retail loyalty program comes near it; a larger figure is a typo or an attack."""

MAX_UNIT_PRICE = MAX_MONEY
"""Price of one unit, in kopecks."""

MAX_LINE_AMOUNT = MAX_MONEY
"""A line's quantity x unit price, in kopecks (before the till's own discount on the line,
which is never larger than it). Without it a million units at the largest price would make
one line 10^17."""

MAX_POS_DISCOUNT = MAX_LINE_AMOUNT
"""The till's own discount on a line (it may not exceed the line's amount either)."""

MAX_RECEIPT_LINES = 1000
"""Lines per receipt. A hypermarket trolley has a few hundred; a thousand leaves room for
wholesale receipts and keeps the request within `MAX_REQUEST_BODY`."""

MAX_RECEIPT_TOTAL = MAX_MONEY
"""The receipt total: the sum of quantity x unit price over its lines, in kopecks. The bound
every figure of a sale derives from (see the module's docstring)."""

MAX_SPEND = MAX_RECEIPT_TOTAL
"""Bonuses paid on one receipt, in kopecks: never more than the receipt could take."""

MAX_PAYMENT = MAX_RECEIPT_TOTAL
"""One payment of a receipt (cash, card...), in kopecks."""

MAX_PAYMENTS = 20
"""Payments listed on one receipt."""

MAX_REQUEST_BODY = 4 * 1024 * 1024
"""Bytes of one request body (Django's DATA_UPLOAD_MAX_MEMORY_SIZE: the API, the back office
and the cashier screen). A receipt of `MAX_RECEIPT_LINES` lines with every text at its
longest takes 3.6 MB with non-ASCII characters escaped as \\uXXXX (1.4 MB as UTF-8), so it
fits; a larger body is answered 413. File uploads (the customer import) are not counted."""

MAX_TILL_SCREEN_LINES = 200
"""Lines of a receipt rung up on the cashier screen, lower than `MAX_RECEIPT_LINES`: every
action there posts and redraws the whole receipt."""

MAX_FORM_FIELDS = 10 * MAX_TILL_SCREEN_LINES
"""Fields of one form post (Django's DATA_UPLOAD_MAX_NUMBER_FIELDS): the cashier screen
posts five per line (Django's default of 1000 refused a receipt of 200 lines)."""

# ---- bonuses by hand ---------------------------------------------------------------------

MAX_MANUAL_ADJUSTMENT = 10**9
"""One manual credit or debit of bonuses (the customer card), in kopecks: ten million bonus
roubles, far above any goodwill gesture or correction, and low enough that a slip of the
keyboard adding zeros is refused instead of booked."""

MAX_OPENING_BALANCE = MAX_MANUAL_ADJUSTMENT
"""An opening balance brought by the customer import (a manual credit by another door)."""

# ---- program and campaign configuration (for the back office's validation) ----------------
# For the validation of programs and campaigns (programs/services.py, the back office), which
# does not enforce them yet: until it does, a welcome or fixed bonus set above them is still
# stopped at MAX_LEDGER_MOVEMENT when booked, and percents are already 0..100 in the models.

MAX_PERCENT = 100
"""Accrual and discount percents, extra percents of campaigns, bonus-payment shares."""

MAX_CAMPAIGN_MULTIPLIER = 100
"""A campaign's bonus multiplier ("x100" is already a giveaway). The engine caps a line's
rate at 100 % anyway, so this bounds nonsense, not overflow."""

MAX_BONUS_GRANT = 10**9
"""A fixed bonus given at once by the configuration, in kopecks: a campaign's fixed or
birthday bonus, a program's welcome bonus. As large as a manual adjustment."""

MAX_LEDGER_MOVEMENT = 10**12
"""The largest single ledger movement (credit, spend, hold, refund, clawback), in kopecks:
ten times the largest receipt total, refused by the ledger as the last line of defence
against an overflow (see the module's docstring)."""


# ---- checks shared by every face ----------------------------------------------------------


class Violation(NamedTuple):
    """A figure above its bound. `kind` says which bound (the names of the constants above,
    lower-case, without MAX_: "qty", "unit_price", "pos_discount", "line_amount",
    "receipt_lines", "receipt_total", "spend"); `field`, where it is in the request as the
    API spells it (`lines[2].qty`); `line_no`, the line's number when it is one line's; the
    maximum and the value in the field's own units (kopecks, units, lines)."""

    kind: str
    field: str
    maximum: int
    value: int | Decimal
    line_no: int | None = None


def receipt_violation(lines, spend) -> Violation | None:
    """The first bound a receipt breaks, or None. `lines` carry `line_no`, `qty`,
    `unit_price` and `pos_discount`; `spend` is kopecks or "max". Lower bounds (positive
    quantity, no negative prices) are the engine's (`rules.engine.InvalidCart`)."""
    if len(lines) > MAX_RECEIPT_LINES:
        return Violation("receipt_lines", "lines", MAX_RECEIPT_LINES, len(lines))
    if isinstance(spend, int) and spend > MAX_SPEND:
        return Violation("spend", "spend", MAX_SPEND, spend)
    total = 0
    for i, line in enumerate(lines):
        qty, price, off, no = line.qty, line.unit_price, line.pos_discount, line.line_no
        if qty > MAX_QTY:
            return Violation("qty", f"lines[{i}].qty", MAX_QTY, qty, no)
        if price > MAX_UNIT_PRICE:
            return Violation("unit_price", f"lines[{i}].unit_price", MAX_UNIT_PRICE, price, no)
        if off > MAX_POS_DISCOUNT:
            return Violation("pos_discount", f"lines[{i}].pos_discount", MAX_POS_DISCOUNT, off, no)
        # Exact: a quantity of at most 14 digits times a price of 12 is within Decimal's 28.
        amount = Decimal(qty) * price
        if amount > MAX_LINE_AMOUNT:
            return Violation("line_amount", f"lines[{i}]", MAX_LINE_AMOUNT, amount, no)
        total += amount
    if total > MAX_RECEIPT_TOTAL:
        return Violation("receipt_total", "lines", MAX_RECEIPT_TOTAL, total)
    return None

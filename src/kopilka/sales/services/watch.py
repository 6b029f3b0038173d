"""A sale under the merchant's safe operations: its accrual and bonus payment counted against
the limits (`limits.services.enforce`) and the patterns of abuse it completes flagged, in the
sale's own transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from kopilka.limits import safe
from kopilka.limits import services as limits

from .. import sql
from ..models import Receipt


def watch_sale(register, receipt: Receipt, now: datetime, *, previous_purchase_at=None) -> None:
    """Count the sale (a held one too: the cashier acted now) and flag its patterns.
    `previous_purchase_at`: the customer's last purchase before this sale (`Customer.
    last_purchase_at` as read before it), which spares most sales the patterns' query."""
    merchant = register.merchant
    who = limits.Who(receipt.customer_id, register.pk, receipt.cashier)
    uses = safe.sale_uses(
        accrued=receipt.accrued + receipt.campaign_bonus,
        spent=receipt.bonus_spent,
        customer_id=receipt.customer_id,
        register_id=register.pk,
        cashier=receipt.cashier,
    )
    settings = limits.enforce(merchant=merchant, uses=uses, who=who, now=now, receipt=receipt)
    if receipt.customer_id is not None and previous_purchase_at is not None:
        matched = _patterns(settings.patterns, register, receipt, previous_purchase_at)
        if matched:
            limits.flag_patterns(
                merchant=merchant, matched=matched, who=who, now=now, receipt=receipt
            )


def _patterns(
    patterns: safe.Patterns, register, receipt: Receipt, previous_purchase_at
) -> list[safe.Pattern]:
    at = receipt.occurred_at
    window = max(
        patterns.stores_minutes if patterns.stores else 0,
        patterns.anonymous_minutes if patterns.anonymous else 0,
    )
    # Every pattern needs an earlier sale of the card within its window: a customer whose
    # last purchase is older completes none, and most sales end here without a query.
    if not window or previous_purchase_at < at - timedelta(minutes=window):
        return []
    register_since = at - timedelta(minutes=patterns.anonymous_minutes)
    stores, card_sales, anonymous = sql.card_activity(
        customer_id=receipt.customer_id,
        register_id=register.pk,
        stores_since=at - timedelta(minutes=patterns.stores_minutes),
        register_since=register_since,
    )
    return safe.patterns_matched(
        patterns, stores=stores, anonymous=anonymous, card_sales=card_sales
    )

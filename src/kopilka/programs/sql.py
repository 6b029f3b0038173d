"""The programs app's hand-written statements: the reads the till makes on every quote and
sale, where the ORM spent more CPU building the query than the database spent running it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache

from kopilka import hotsql

from .models import Campaign, Program

_PROGRAM = hotsql.Loader(Program)
_CAMPAIGN = hotsql.Loader(Campaign)


@cache
def _program_of_customer(statuses: int) -> str:
    placeholders = ", ".join(f"%(status_{n})s" for n in range(statuses))
    return f"""
SELECT {_PROGRAM.columns("p")} FROM programs_program p WHERE p.id = coalesce(
    (SELECT t.program_id FROM customers_card c
        JOIN customers_cardtype t ON t.id = c.card_type_id
        WHERE c.merchant_id = %(merchant)s AND c.customer_id = %(customer)s
            AND c.status IN ({placeholders})
        ORDER BY c.issued_at DESC, c.id DESC LIMIT 1),
    (SELECT d.id FROM programs_program d
        WHERE d.merchant_id = %(merchant)s AND d.enabled = %(enabled)s
        ORDER BY CASE WHEN (d.active_from IS NULL OR d.active_from <= %(now)s)
            AND (d.active_to IS NULL OR d.active_to > %(now)s) THEN 0 ELSE 1 END, d.id
        LIMIT 1)
)
"""


def program_of_customer(
    *, merchant_id: int, customer_id: int, statuses: Sequence[str], now: datetime
) -> Program | None:
    """`selectors.program_of_customer`'s one statement: the program of the newest of the
    customer's cards in `statuses` that has a type, else the merchant's default program (the
    oldest enabled one in its period at `now`, else the oldest enabled one)."""
    db = hotsql.default_db()
    rows = hotsql.rows(
        db,
        _program_of_customer(len(statuses)),
        {
            "merchant": merchant_id,
            "customer": customer_id,
            "enabled": True,
            "now": hotsql.moment(db, now),
            **{f"status_{n}": status for n, status in enumerate(statuses)},
        },
    )
    return _PROGRAM.build(db, rows[0]) if rows else None


_TILL_CAMPAIGNS = (
    f"SELECT {_CAMPAIGN.columns('c')} FROM {Campaign._meta.db_table} c "
    "WHERE c.merchant_id = %s AND c.enabled = %s AND (c.program_id IS NULL OR c.program_id = %s) "
    "AND c.kind <> %s AND c.archived_at IS NULL ORDER BY c.id"
)


def till_campaigns(*, merchant_id: int, program_id: int | None) -> list[Campaign]:
    """The merchant's enabled, unarchived campaigns of this program and the standalone ones,
    but birthday campaigns (the tick grants those, not the till), oldest first."""
    db = hotsql.default_db()
    return [
        _CAMPAIGN.build(db, row)
        for row in hotsql.rows(
            db, _TILL_CAMPAIGNS, [merchant_id, True, program_id, Campaign.Kind.BIRTHDAY]
        )
    ]

"""The customers app's hand-written statements: the customer read the till makes on every
sale (the ORM spent more CPU building it than the database spent running it)."""

from __future__ import annotations

from kopilka import hotsql

from .models import Customer

_CUSTOMER = hotsql.Loader(Customer)
# By the primary key alone, the merchant compared by the caller: prepared once and planned
# generically, `merchant_id = $1 AND id = $2` was matched to any index leading with
# merchant_id (one with birthday first was picked), walking the merchant's customers.
_BY_ID = f"SELECT {_CUSTOMER.columns('c')} FROM {Customer._meta.db_table} c WHERE c.id = %s"


def customer_by_id(customer_id: int) -> Customer | None:
    db = hotsql.default_db()
    rows = hotsql.rows(db, _BY_ID, [customer_id])
    return _CUSTOMER.build(db, rows[0]) if rows else None

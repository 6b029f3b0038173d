"""The merchants app's hand-written statements: the register lookup every till request
makes, where the ORM's select_related query cost as much CPU as the rest of a small request."""

from __future__ import annotations

from kopilka import hotsql

from .models import Merchant, Register, Store

_REGISTER = hotsql.Loader(Register)
_MERCHANT = hotsql.Loader(Merchant)
_STORE = hotsql.Loader(Store)
_REGISTER_MERCHANT = Register._meta.get_field("merchant")
_REGISTER_STORE = Register._meta.get_field("store")
_BY_KEY_PREFIX = (
    f"SELECT {_REGISTER.columns('r')}, {_MERCHANT.columns('m')}, {_STORE.columns('s')} "
    f"FROM {Register._meta.db_table} r "
    f"JOIN {Merchant._meta.db_table} m ON m.id = r.merchant_id "
    f"JOIN {Store._meta.db_table} s ON s.id = r.store_id "
    "WHERE r.key_prefix = %s AND r.is_active = %s"
)


def active_registers_by_key_prefix(prefix: str) -> list[Register]:
    """The active registers whose API key starts with `prefix`, each with its merchant and
    store loaded (one statement)."""
    db = hotsql.default_db()
    merchant_at = len(_REGISTER)
    store_at = merchant_at + len(_MERCHANT)
    registers = []
    for row in hotsql.rows(db, _BY_KEY_PREFIX, [prefix, True]):
        register = _REGISTER.build(db, row[:merchant_at])
        merchant = _MERCHANT.build(db, row[merchant_at:store_at])
        _REGISTER_MERCHANT.set_cached_value(register, merchant)
        _REGISTER_STORE.set_cached_value(register, _STORE.build(db, row[store_at:]))
        registers.append(register)
    return registers

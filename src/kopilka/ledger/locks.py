"""Row locks on accounts: the one way into a ledger write.

Accounts are locked in primary-key order so two transactions touching the same accounts always
queue instead of deadlocking. On SQLite, FOR UPDATE is a no-op and the IMMEDIATE transaction
already serialises writers.
"""

from collections.abc import Iterable

from kopilka import hotsql

from . import sql
from .exceptions import AccountNotLocked
from .models import Account


def lock_accounts(ids: Iterable[int]) -> list[Account]:
    """Lock the accounts with these ids for the rest of the transaction, in primary-key order."""
    db = hotsql.default_db()
    if not db.in_atomic_block:
        raise AccountNotLocked("lock_accounts() must run inside transaction.atomic()")
    wanted = sorted(set(ids))
    if not wanted:
        return []
    return [locked(row) for row in sql.lock_account_rows(db, wanted)]


def locked(row: tuple[int, int, int, int]) -> Account:
    """The account of a row the lock statements return, marked as locked."""
    pk, merchant_id, customer_id, program_id = row
    fields = {"merchant_id": merchant_id, "customer_id": customer_id, "program_id": program_id}
    account = hotsql.loaded(Account, {"id": pk, **fields})
    account._kopilka_locked = True
    return account


def require_locked(account: Account) -> None:
    if not getattr(account, "_kopilka_locked", False) or not hotsql.default_db().in_atomic_block:
        raise AccountNotLocked(f"account {account.pk} is not locked; use locks.lock_accounts()")

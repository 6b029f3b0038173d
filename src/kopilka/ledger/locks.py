"""Row locks on accounts: the one way into a ledger write.

Accounts are locked in primary-key order so two transactions touching the same accounts always
queue instead of deadlocking. On SQLite, FOR UPDATE is a no-op and the IMMEDIATE transaction
already serialises writers.
"""

from collections.abc import Iterable

from django.db import connection

from . import sql
from .exceptions import AccountNotLocked
from .models import Account


def lock_accounts(ids: Iterable[int]) -> list[Account]:
    """Lock the accounts with these ids for the rest of the transaction, in primary-key order."""
    if not connection.in_atomic_block:
        raise AccountNotLocked("lock_accounts() must run inside transaction.atomic()")
    wanted = sorted(set(ids))
    if not wanted:
        return []
    accounts = [
        Account.from_db(connection.alias, ["id", "merchant_id", "customer_id", "program_id"], row)
        for row in sql.lock_account_rows(wanted)
    ]
    for account in accounts:
        account._kopilka_locked = True
    return accounts


def require_locked(account: Account) -> None:
    if not connection.in_atomic_block or not getattr(account, "_kopilka_locked", False):
        raise AccountNotLocked(f"account {account.pk} is not locked; use locks.lock_accounts()")

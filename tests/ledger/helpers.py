"""Test helpers: run a ledger write the way production code must (atomic, account locked)."""

from django.db import transaction

from kopilka.ledger import locks


def locked(account, write, **kwargs):
    """Call `write(account=<locked account>, **kwargs)` in its own transaction."""
    with transaction.atomic():
        [fresh] = locks.lock_accounts([account.pk])
        return write(account=fresh, **kwargs)

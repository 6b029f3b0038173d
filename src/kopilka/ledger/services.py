"""Every write to points: open accounts, credit, spend, hold / capture / void, expire, reverse.

Callers lock the accounts first (`locks.lock_accounts`) inside `transaction.atomic()`; each
function here checks that, so no write can race another on the same account. Amounts are
positive integers in minor units; the sign is the entry kind's business.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from kopilka import bounds, hotsql
from kopilka.errors import NotFound, ValidationFailed
from kopilka.merchants.actors import Actor
from kopilka.merchants.models import AuditAction
from kopilka.merchants.services import audit_record

from . import lots, sql
from .exceptions import (
    AccountNotLocked,
    AlreadyReversed,
    HoldNotActive,
    InsufficientBalance,
    InvalidAmount,
    ManualAdjustmentTooLarge,
    MovementTooLarge,
    ReasonRequired,
    ReversalNotPossible,
)
from .locks import lock_accounts, locked, require_locked
from .models import CREDIT_KINDS, Account, Entry, EntryKind, Hold, HoldAllocation, Lot
from .selectors import not_burnt


def _check_amount(amount) -> None:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise InvalidAmount(amount=amount)
    if amount > bounds.MAX_LEDGER_MOVEMENT:
        raise MovementTooLarge(field="amount", maximum=bounds.MAX_LEDGER_MOVEMENT, value=amount)


def _entries(
    account: Account,
    kind: str,
    parts,
    *,
    actor: Actor,
    now: datetime,
    receipt=None,
    reason: str = "",
    hold: Hold | None = None,
    transfer_id: uuid.UUID | None = None,
) -> list[Entry]:
    """One operation's entries, one per (lot id, signed amount), sharing a transfer id."""
    transfer_id = transfer_id or uuid.uuid4()
    return [
        Entry(
            merchant_id=account.merchant_id,
            account=account,
            lot_id=lot_id,
            transfer_id=transfer_id,
            kind=kind,
            amount=amount,
            receipt=receipt,
            hold=hold,
            actor=str(actor),
            reason=reason,
            created_at=now,
        )
        for lot_id, amount in parts
    ]


def _posting(account, kind, *, actor, now, receipt, reason, transfer_id) -> sql.Posting:
    """What the entries of one hot-path write share."""
    return sql.Posting(
        merchant_id=account.merchant_id,
        account_id=account.pk,
        transfer_id=transfer_id or uuid.uuid4(),
        kind=kind,
        receipt_id=None if receipt is None else receipt.pk,
        actor=str(actor),
        reason=reason,
        created_at=now,
    )


def _saved(account, receipt, posting: sql.Posting, rows) -> list[Entry]:
    """The entries the hot path's statements have just written, from their (entry id, lot id,
    amount) rows: what the keyword constructor would build, for a fraction of its cost."""
    shared = {
        "merchant_id": posting.merchant_id,
        "account_id": posting.account_id,
        "transfer_id": posting.transfer_id,
        "kind": posting.kind,
        "receipt_id": posting.receipt_id,
        "hold_id": None,
        "reverses_id": None,
        "actor": posting.actor,
        "reason": posting.reason,
        "created_at": posting.created_at,
    }
    entries = []
    for pk, lot_id, amount in rows:
        entry = hotsql.loaded(Entry, {**shared, "id": pk, "lot_id": lot_id, "amount": amount})
        entry.account = account
        if receipt is not None:
            entry.receipt = receipt
        entries.append(entry)
    return entries


def account_open(*, customer, program, actor: Actor) -> Account:
    """The customer's account in the program, created on first use (race-safe)."""
    if customer.merchant_id != program.merchant_id:
        raise ValidationFailed(customer=customer.pk, program=program.pk)
    account, _created = Account.objects.get_or_create(
        customer=customer, program=program, defaults={"merchant_id": customer.merchant_id}
    )
    return account


def account_open_locked(*, customer, program, actor: Actor) -> Account:
    """`account_open`, then `locks.lock_accounts` on it: one statement when the account is
    there already, as it is for every sale but a customer's first."""
    db = hotsql.default_db()
    if not db.in_atomic_block:
        raise AccountNotLocked("account_open_locked() must run inside transaction.atomic()")
    if customer.merchant_id != program.merchant_id:
        raise ValidationFailed(customer=customer.pk, program=program.pk)
    row = sql.lock_account_row_of(db, customer.pk, program.pk)
    if row is None:
        opened = account_open(customer=customer, program=program, actor=actor)
        [account] = lock_accounts([opened.pk])
        return account
    return locked(row)


def credit(
    *,
    account: Account,
    amount: int,
    actor: Actor,
    kind: str = EntryKind.ACCRUAL,
    receipt=None,
    reason: str = "",
    now: datetime | None = None,
    freeze_days: int = 0,
    lifetime_days: int | None = None,
    lifetime_from_accrual: bool = False,
    available_from: datetime | None = None,
    expires_at: datetime | None = None,
    transfer_id: uuid.UUID | None = None,
) -> Entry:
    """Open a new lot, usable after `freeze_days` and burning `lifetime_days` after the
    accrual or after the freeze (`rules.lot_dates`, the program's choice), unless the caller
    gives the dates themselves (a sale: the engine's). A lot that would burn before it is
    usable is refused."""
    require_locked(account)
    _check_amount(amount)
    if kind not in CREDIT_KINDS or kind == EntryKind.TRANSFER_IN:
        raise ValueError(f"{kind} is not a credit kind (transfer_in lots come from transfer())")
    if kind == EntryKind.MANUAL_CREDIT and not reason.strip():
        raise ReasonRequired()
    now = now or timezone.now()
    available_from, expires_at = lots.opening_dates(
        now,
        freeze_days=freeze_days,
        lifetime_days=lifetime_days,
        lifetime_from_accrual=lifetime_from_accrual,
        available_from=available_from,
        expires_at=expires_at,
    )
    if expires_at is not None and expires_at <= available_from:
        raise ValidationFailed(expires_at=expires_at.isoformat())
    posting = _posting(
        account, kind, actor=actor, now=now, receipt=receipt, reason=reason, transfer_id=transfer_id
    )
    row = sql.credit(posting, amount=amount, available_from=available_from, expires_at=expires_at)
    return _saved(account, receipt, posting, [row])[0]


# Most spends are covered by the first few lots; reading all of an old account's lots on
# every spend would make a spend slower with every purchase.
FIRST_LOTS = 16


def _spendable_lots(account: Account, now: datetime, amount: int | None = None) -> list[lots.Lot]:
    """The account's spendable lots in spend order (`lots.spendable`, read by the database):
    enough of them to cover `amount` (all of them when it is None or when they cannot cover
    it). Lots carry id, remaining and held."""
    found = sql.spendable_lots(account.pk, now, FIRST_LOTS if amount is not None else None)
    if amount is not None and len(found) == FIRST_LOTS and _points(found) < amount:
        found = sql.spendable_lots(account.pk, now, None)
    if any(lot.held for lot in found) and _release_expired_holds(account, now):
        return _spendable_lots(account, now, amount)
    return [lot for lot in found if lot.remaining]


def _points(found: list[lots.Lot]) -> int:
    return sum(lot.remaining for lot in found)


def _covered(found: list[lots.Lot], amount: int) -> None:
    """Refuse a spend or hold of more than the lots hold."""
    available = _points(found)
    if available < amount:
        raise InsufficientBalance(available=available, requested=amount)


def _store(changed: list[lots.Lot], fields: list[str]) -> None:
    """Write the figures of lots that `lots` has moved points in."""
    Lot.objects.bulk_update(
        [Lot(pk=lot.id, remaining=lot.remaining, held=lot.held) for lot in changed], fields
    )


def _debit(*, account, amount, actor, kind, receipt, reason, now, transfer_id) -> list[Entry]:
    require_locked(account)
    _check_amount(amount)
    now = now or timezone.now()
    posting = _posting(
        account, kind, actor=actor, now=now, receipt=receipt, reason=reason, transfer_id=transfer_id
    )
    taken = sql.take(posting, amount=amount, limit=FIRST_LOTS)
    if taken is not None:
        if taken.posted:
            return _saved(account, receipt, posting, taken.posted)
        if taken.complete and not taken.held:
            raise InsufficientBalance(available=taken.available, requested=amount)
    # Held points (a hold may have timed out), more lots than the first few, or SQLite:
    # read the lots, then write.
    found = _spendable_lots(account, now, amount)
    _covered(found, amount)
    rows = sql.debit(posting, [(lot.id, part) for lot, part in lots.take(found, amount)])
    return _saved(account, receipt, posting, rows)


def spend(
    *,
    account: Account,
    amount: int,
    actor: Actor,
    receipt=None,
    reason: str = "",
    now: datetime | None = None,
    transfer_id: uuid.UUID | None = None,
) -> list[Entry]:
    """Pay with available points in spend order (`lots.spend_order`). Raises
    InsufficientBalance."""
    return _debit(
        account=account,
        amount=amount,
        actor=actor,
        kind=EntryKind.SPEND,
        receipt=receipt,
        reason=reason,
        now=now,
        transfer_id=transfer_id,
    )


def manual_adjust(
    *,
    account: Account,
    amount: int,
    actor: Actor,
    reason: str,
    now: datetime | None = None,
    lifetime_days: int | None = None,
) -> list[Entry]:
    """A staff member adds (amount > 0) or takes away (amount < 0) points, with a reason.
    Added points expire after `lifetime_days` (the caller passes the program's bonus
    lifetime, or what the staff member chose); None: they never expire."""
    if not reason or not reason.strip():
        raise ReasonRequired()
    if isinstance(amount, int) and abs(amount) > bounds.MAX_MANUAL_ADJUSTMENT:
        raise ManualAdjustmentTooLarge.of(amount)
    if isinstance(amount, int) and amount < 0:
        entries = _debit(
            account=account,
            amount=-amount,
            actor=actor,
            kind=EntryKind.MANUAL_DEBIT,
            receipt=None,
            reason=reason,
            now=now,
            transfer_id=None,
        )
    else:
        entries = [
            credit(
                account=account,
                amount=amount,
                actor=actor,
                kind=EntryKind.MANUAL_CREDIT,
                reason=reason,
                now=now,
                lifetime_days=lifetime_days,
            )
        ]
    audit_record(
        merchant=account.merchant,
        actor=actor,
        action=AuditAction.LEDGER_MANUAL_ADJUST,
        obj=account,
        reason=reason,
        data={
            "amount": amount,
            "transfer_id": str(entries[0].transfer_id),
            **({"lifetime_days": lifetime_days} if amount > 0 and lifetime_days else {}),
        },
    )
    return entries


def hold(
    *,
    account: Account,
    amount: int,
    actor: Actor,
    receipt=None,
    now: datetime | None = None,
    timeout: timedelta | None = None,
) -> Hold:
    """Reserve points for a receipt still being printed; capture or void it later."""
    require_locked(account)
    _check_amount(amount)
    now = now or timezone.now()
    timeout = timeout or timedelta(seconds=settings.KOPILKA_HOLD_TIMEOUT_SECONDS)
    found = _spendable_lots(account, now, amount)
    _covered(found, amount)
    takes = lots.hold(found, amount)
    _store([lot for lot, _ in takes], ["remaining", "held"])
    new_hold = Hold.objects.create(
        merchant_id=account.merchant_id,
        account=account,
        amount=amount,
        receipt=receipt,
        actor=str(actor),
        created_at=now,
        expires_at=now + timeout,
    )
    HoldAllocation.objects.bulk_create(
        HoldAllocation(hold=new_hold, lot_id=lot.id, amount=part) for lot, part in takes
    )
    return new_hold


def _active_hold(account: Account, hold_id: int, now: datetime) -> Hold:
    found = Hold.objects.filter(account=account, pk=hold_id).first()
    if found is None:
        raise NotFound(hold=hold_id)
    if found.status != Hold.Status.ACTIVE or found.expires_at <= now:
        raise HoldNotActive(hold=hold_id, hold_status=found.status)
    return found


def _close_hold(the_hold: Hold, *, status: str, captured: int, closed_at: datetime):
    """Give back to the lots what the hold does not capture (`lots.release`). Returns
    [(lot, amount captured)]."""
    parts = [
        (lots.Lot(lot_id, remaining, held), amount)
        for lot_id, amount, remaining, held in the_hold.allocations.order_by("id").values_list(
            "lot_id", "amount", "lot__remaining", "lot__held"
        )
    ]
    captured_from = lots.release(parts, captured)
    _store([lot for lot, _ in parts], ["remaining", "held"])
    the_hold.status = status
    the_hold.captured_amount = captured
    the_hold.closed_at = closed_at
    the_hold.save(update_fields=["status", "captured_amount", "closed_at"])
    return captured_from


def capture(
    *,
    account: Account,
    hold_id: int,
    actor: Actor,
    amount: int | None = None,
    receipt=None,
    now: datetime | None = None,
) -> list[Entry]:
    """Turn a hold into a spend of `amount` (default: all of it); the rest goes back."""
    require_locked(account)
    now = now or timezone.now()
    the_hold = _active_hold(account, hold_id, now)
    amount = the_hold.amount if amount is None else amount
    _check_amount(amount)
    if amount > the_hold.amount:
        raise InvalidAmount(amount=amount, held=the_hold.amount)
    captured_from = _close_hold(
        the_hold, status=Hold.Status.CAPTURED, captured=amount, closed_at=now
    )
    return Entry.objects.bulk_create(
        _entries(
            account,
            EntryKind.CAPTURE,
            [(lot.id, -part) for lot, part in captured_from],
            actor=actor,
            now=now,
            receipt=receipt or the_hold.receipt,
            hold=the_hold,
        )
    )


def void(*, account: Account, hold_id: int, actor: Actor, now: datetime | None = None) -> Hold:
    """Release a hold: the points go back to the lots they came from."""
    require_locked(account)
    now = now or timezone.now()
    the_hold = _active_hold(account, hold_id, now)
    _close_hold(the_hold, status=Hold.Status.VOIDED, captured=0, closed_at=now)
    return the_hold


def _release_expired_holds(account: Account, now: datetime) -> int:
    expired = list(
        Hold.objects.filter(account=account, status=Hold.Status.ACTIVE, expires_at__lte=now)
    )
    for the_hold in expired:
        # Closed as of the moment it stopped counting, so history reads the same as if a job
        # had released it right on time.
        _close_hold(the_hold, status=Hold.Status.EXPIRED, captured=0, closed_at=the_hold.expires_at)
    return len(expired)


def expire_holds(*, account: Account, now: datetime | None = None) -> int:
    """Release the account's holds whose time ran out. Idempotent."""
    require_locked(account)
    return _release_expired_holds(account, now or timezone.now())


def expire(*, account: Account, actor: Actor, now: datetime | None = None) -> list[Entry]:
    """Write expiry entries for lots past their expiry. Idempotent: a second run finds nothing.

    Balances never wait for this: selectors already leave expired lots out.
    """
    require_locked(account)
    now = now or timezone.now()
    _release_expired_holds(account, now)  # points a timed-out hold kept can burn too
    due = [
        lots.Lot(pk, remaining, held, expires_at=expires_at)
        for pk, remaining, held, expires_at in Lot.objects.filter(
            account=account, remaining__gt=0, expires_at__lte=now
        )
        .order_by("id")
        .values_list("pk", "remaining", "held", "expires_at")
    ]
    entries = [
        Entry(
            merchant_id=account.merchant_id,
            account=account,
            lot_id=lot.id,
            transfer_id=uuid.uuid4(),
            kind=EntryKind.EXPIRY,
            amount=-lot.remaining,
            actor=str(actor),
            created_at=lot.expires_at,
        )
        for lot in due
    ]
    for lot in due:
        lot.remaining = 0
    _store(due, ["remaining"])
    return Entry.objects.bulk_create(entries)


def reverse(
    *,
    account: Account,
    transfer_id: uuid.UUID,
    actor: Actor,
    reason: str,
    now: datetime | None = None,
) -> list[Entry]:
    """Post the exact opposite of one operation, lot by lot. Possible once per operation."""
    require_locked(account)
    if not reason or not reason.strip():
        raise ReasonRequired()
    now = now or timezone.now()
    _release_expired_holds(account, now)
    originals = list(
        Entry.objects.filter(account=account, transfer_id=transfer_id)
        .select_related("lot")
        .order_by("id")
    )
    if not originals:
        raise NotFound(transfer_id=str(transfer_id))
    if Entry.objects.filter(reverses__in=originals).exists():
        raise AlreadyReversed(transfer_id=str(transfer_id))
    # A transfer spans two accounts: undoing one side would create or destroy points.
    not_reversible = (
        EntryKind.EXPIRY,
        EntryKind.CORRECTION,
        EntryKind.TRANSFER_OUT,
        EntryKind.TRANSFER_IN,
    )
    if any(e.kind in not_reversible for e in originals):
        raise ReversalNotPossible(transfer_id=str(transfer_id))
    for original in originals:
        original.lot.remaining -= original.amount
        if original.lot.remaining < 0:
            raise ReversalNotPossible(transfer_id=str(transfer_id))
    Lot.objects.bulk_update([e.lot for e in originals], ["remaining"])
    reversal_id = uuid.uuid4()
    entries = Entry.objects.bulk_create(
        Entry(
            merchant_id=account.merchant_id,
            account=account,
            lot=original.lot,
            transfer_id=reversal_id,
            kind=EntryKind.CORRECTION,
            amount=-original.amount,
            receipt_id=original.receipt_id,
            reverses=original,
            actor=str(actor),
            reason=reason,
            created_at=now,
        )
        for original in originals
    )
    audit_record(
        merchant=account.merchant,
        actor=actor,
        action=AuditAction.LEDGER_REVERSE,
        obj=account,
        reason=reason,
        data={"transfer_id": str(transfer_id), "reversal_id": str(reversal_id)},
    )
    return entries


def transfer(
    *, source: Account, target: Account, actor: Actor, reason: str, now: datetime | None = None
) -> int:
    """Move the balance of `source` to `target`, another account of the same customer (the
    customer's card changed to a type of another program). Returns the amount moved.

    Lot by lot: each lot of the source with points left that has not expired gets a
    `transfer_out` entry for all its remaining points, and the target gets a lot of that
    amount with the same `available_from` (pending points stay pending until the same moment),
    `expires_at` and creation time (so the spend order is kept), opened by a `transfer_in`
    entry; `moved_from` links it to the source lot. One transfer id covers the whole move.
    A second call finds nothing left and returns 0.

    What stays behind: expired lots (the expiry job writes them off where they are) and
    points held by active holds (the hold is captured or voided against the source account;
    a void gives them back there, to be moved by another transfer). Holds past their timeout
    are released first, so their points move. Reversal is refused for transfers (it would
    undo one account's side only). Both accounts must be locked (`locks.lock_accounts`).
    """
    require_locked(source)
    require_locked(target)
    if (
        source.pk == target.pk
        or source.customer_id != target.customer_id
        or source.merchant_id != target.merchant_id
    ):
        raise ValidationFailed(source=source.pk, target=target.pk)
    if not reason or not reason.strip():
        raise ReasonRequired()
    now = now or timezone.now()
    _release_expired_holds(source, now)
    leaving = list(
        Lot.objects.filter(not_burnt(now), account=source, remaining__gt=0).order_by("id")
    )
    if not leaving:
        return 0
    moved = Lot.objects.bulk_create(
        Lot(
            merchant_id=target.merchant_id,
            account=target,
            kind=EntryKind.TRANSFER_IN,
            amount=lot.remaining,
            remaining=lot.remaining,
            available_from=lot.available_from,
            expires_at=lot.expires_at,
            created_at=lot.created_at,
            moved_from=lot,
        )
        for lot in leaving
    )
    transfer_id = uuid.uuid4()
    out = _entries(
        source,
        EntryKind.TRANSFER_OUT,
        [(lot.pk, -lot.remaining) for lot in leaving],
        actor=actor,
        now=now,
        reason=reason,
        transfer_id=transfer_id,
    )
    into = _entries(
        target,
        EntryKind.TRANSFER_IN,
        [(lot.pk, lot.amount) for lot in moved],
        actor=actor,
        now=now,
        reason=reason,
        transfer_id=transfer_id,
    )
    total = sum(lot.remaining for lot in leaving)
    for lot in leaving:
        lot.remaining = 0
    Lot.objects.bulk_update(leaving, ["remaining"])
    Entry.objects.bulk_create([*out, *into])
    return total


def refund_return(
    *,
    account: Account,
    parts: list[tuple[int, int]],
    actor: Actor,
    receipt=None,
    now: datetime | None = None,
) -> list[Entry]:
    """Give spent points back to the lots they were spent from: parts are (lot id, amount).

    A lot that has expired meanwhile takes them back expired: the customer gets back what the
    points were worth when spent, not a fresh lifetime.
    """
    require_locked(account)
    now = now or timezone.now()
    parts = [(lot_id, amount) for lot_id, amount in parts if amount]
    for _lot_id, amount in parts:
        _check_amount(amount)
    found = {
        lot.pk: lot for lot in Lot.objects.filter(account=account, pk__in=[p for p, _ in parts])
    }
    if len(found) != len({p for p, _ in parts}):
        raise NotFound(lots=[p for p, _ in parts if p not in found])
    for lot_id, amount in parts:
        found[lot_id].remaining += amount
        if found[lot_id].remaining + found[lot_id].held > found[lot_id].amount:
            raise InvalidAmount(lot=lot_id, amount=amount)
    Lot.objects.bulk_update(list(found.values()), ["remaining"])
    return Entry.objects.bulk_create(
        _entries(account, EntryKind.REFUND_RETURN, parts, actor=actor, now=now, receipt=receipt)
    )


def clawback(
    *,
    account: Account,
    amount: int,
    actor: Actor,
    prefer_lot_ids: list[int] = (),
    receipt=None,
    now: datetime | None = None,
) -> list[Entry]:
    """Take back up to `amount` points accrued on a refunded purchase.

    First from the lots that purchase created (even while still frozen), then from whatever
    is spendable (`lots.clawback_order`). Takes what there is: the caller records any
    shortfall, since a balance can never go below zero.
    """
    require_locked(account)
    _check_amount(amount)
    now = now or timezone.now()
    _release_expired_holds(account, now)
    own = [
        lots.Lot(*row)
        for row in Lot.objects.filter(account=account, pk__in=list(prefer_lot_ids)).values_list(
            "pk", "remaining", "held", "available_from", "expires_at", "created_at"
        )
    ]
    takes = lots.take(lots.clawback_order(own, _spendable_lots(account, now), now), amount)
    if not takes:
        return []
    _store([lot for lot, _ in takes], ["remaining"])
    return Entry.objects.bulk_create(
        _entries(
            account,
            EntryKind.REFUND_CLAWBACK,
            [(lot.id, -part) for lot, part in takes],
            actor=actor,
            now=now,
            receipt=receipt,
        )
    )

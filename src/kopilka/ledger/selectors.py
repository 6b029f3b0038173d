"""Reads of points: balances now or at any past moment, lots about to expire, history.

Balances are computed from lots and holds by time, so they are exact whether or not
`kopilka tick` has materialised expiries or released timed-out holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import BigIntegerField, F, Q, Sum
from django.db.models.functions import TruncDate

from . import sql
from .exceptions import AccountNotFound
from .models import Account, Entry, EntryKind, Hold, HoldAllocation, Lot


@dataclass(frozen=True)
class Balance:
    available: int  # spendable now
    pending: int  # frozen: credited, not yet spendable
    held: int  # reserved by active holds
    expired: int  # past expiry but not yet written off by an expiry entry (0 in history)


def not_burnt(at: datetime, prefix: str = "") -> Q:
    """A lot (reached through `prefix`) that has not burnt by `at`, written off or not."""
    return Q(**{f"{prefix}expires_at__isnull": True}) | Q(**{f"{prefix}expires_at__gt": at})


def _availability(prefix: str, at: datetime) -> tuple[Q, Q, Q]:
    """(available, pending, expired) conditions on a lot reached through `prefix`."""
    not_expired = not_burnt(at, prefix)
    available = Q(**{f"{prefix}available_from__lte": at}) & not_expired
    pending = Q(**{f"{prefix}available_from__gt": at}) & not_expired
    expired = Q(**{f"{prefix}expires_at__lte": at})
    return available, pending, expired


def _sums(queryset, field: str, prefix: str, at: datetime, **more) -> dict[str, int]:
    available, pending, expired = _availability(prefix, at)
    return queryset.aggregate(
        available=Sum(field, filter=available, default=0),
        pending=Sum(field, filter=pending, default=0),
        expired=Sum(field, filter=expired, default=0),
        **more,
    )


def account_balance(account: Account, *, now: datetime) -> Balance:
    """The balance at `now` from the lots' current state (the fast path used at the till)."""
    available, pending, expired, held = sql.lot_sums(account.pk, now)
    # Holds whose time ran out count as released even if no job has released them yet.
    released = {"available": 0, "pending": 0, "expired": 0}
    if held:
        released = _sums(
            HoldAllocation.objects.filter(
                hold__account=account, hold__status=Hold.Status.ACTIVE, hold__expires_at__lte=now
            ),
            "amount",
            "lot__",
            now,
        )
    return Balance(
        available=available + released["available"],
        pending=pending + released["pending"],
        held=held - sum(released.values()),
        expired=expired + released["expired"],
    )


def account_balance_at(account: Account, *, at: datetime) -> Balance:
    """The balance as it stood at `at`, replayed from the journal (exact for any past moment)."""
    posted = _sums(Entry.objects.filter(account=account, created_at__lte=at), "amount", "lot__", at)
    holding = HoldAllocation.objects.filter(
        hold__account=account, hold__created_at__lte=at, hold__expires_at__gt=at
    ).filter(Q(hold__closed_at__isnull=True) | Q(hold__closed_at__gt=at))
    held = _sums(holding, "amount", "lot__", at)
    return Balance(
        available=posted["available"] - held["available"],
        pending=posted["pending"] - held["pending"],
        held=held["available"] + held["pending"] + held["expired"],
        expired=0,
    )


def points_of_customers(customer_ids, *, now: datetime) -> dict[int, int]:
    """{customer id: points} over all their accounts at `now`: available, frozen and held
    for a payment, nothing expired (even before the tick writes it off). Customers without
    points are left out. The customer list shows it; its snapshot column is this figure as of
    its last refresh (`customers.stats`)."""
    return dict(
        Lot.objects.filter(account__customer_id__in=list(customer_ids))
        .filter(not_burnt(now))
        .order_by()
        .values("account__customer_id")
        .annotate(total=Sum(F("remaining") + F("held"), output_field=BigIntegerField()))
        .values_list("account__customer_id", "total")
    )


def lots_expiring(*, merchant, now: datetime, within_days: int, account: Account | None = None):
    """Lots with points left that expire in the next `within_days` days, soonest first."""
    lots = Lot.objects.filter(
        merchant=merchant,
        remaining__gt=0,
        expires_at__gt=now,
        expires_at__lte=now + timedelta(days=within_days),
    )
    if account is not None:
        lots = lots.filter(account=account)
    return lots.select_related("account__customer").order_by("expires_at", "id")


def lots_left(*, account: Account, now: datetime):
    """The account's lots with points left that have not burnt, in spend order
    (`lots.spend_order`): what the customer holds, each with its freeze and burn date."""
    return (
        Lot.objects.filter(account=account, remaining__gt=0)
        .filter(not_burnt(now))
        .order_by(*sql.SPEND_ORDER)
    )


def account_entries(account: Account):
    return Entry.objects.filter(account=account).order_by("-created_at", "-id")


def account_get(*, merchant, pk) -> Account:
    """The merchant's account with this id; another merchant's id is simply not found."""
    account = (
        Account.objects.filter(merchant=merchant, pk=pk).first() if str(pk).isdigit() else None
    )
    if account is None:
        raise AccountNotFound(account=pk)
    return account


def accounts_of_customer(customer):
    return Account.objects.filter(merchant_id=customer.merchant_id, customer=customer)


def moved_copies(lot_ids, *, account: Account) -> list[int]:
    """Ids of the lots of `account` that carry points of the given lots on after balance moves
    (`moved_from`, followed through later moves), oldest first."""
    found, frontier = [], list(lot_ids)
    seen = set(frontier)
    while frontier:
        rows = list(Lot.objects.filter(moved_from_id__in=frontier).values_list("pk", "account_id"))
        frontier = [pk for pk, _ in rows if pk not in seen]
        seen.update(frontier)
        found += [pk for pk, owner in rows if owner == account.pk]
    return sorted(found)


def has_moved_out(account: Account) -> bool:
    """Whether a balance move (a card-type change of its customer) ever took points out."""
    return Entry.objects.filter(account=account, kind=EntryKind.TRANSFER_OUT).exists()


def _due(merchant, until: datetime, since: datetime | None, program_id: int | None):
    lots = Lot.objects.filter(merchant=merchant, remaining__gt=0, expires_at__lte=until)
    if since is not None:
        lots = lots.filter(expires_at__gte=since)
    if program_id is not None:
        lots = lots.filter(account__program_id=program_id)
    return lots.order_by()


def expiries_due(
    *,
    merchant,
    until: datetime,
    zone,
    since: datetime | None = None,
    program_id: int | None = None,
) -> dict:
    """{local day: points} left in lots whose expiry passed by `until` (at or after `since`,
    if given) that no expiry entry has written off yet: `kopilka tick` books them, dated at
    their expiry. The figures count them as expired then, so no figure waits for the tick (as
    `Balance.expired`). One grouped query, whatever the number of lots."""
    rows = (
        _due(merchant, until, since, program_id)
        .annotate(day=TruncDate("expires_at", tzinfo=zone))
        .values("day")
        .annotate(points=Sum("remaining"))
        .values_list("day", "points")
    )
    return {day: int(points) for day, points in rows}


def expired_unbooked_before(*, merchant, before: datetime, program_id: int | None = None) -> int:
    """Points in lots that burnt before `before` and are not written off yet (see
    `expiries_due`), summed."""
    lots = _due(merchant, before, None, program_id).filter(expires_at__lt=before)
    return lots.aggregate(points=Sum("remaining", default=0))["points"]

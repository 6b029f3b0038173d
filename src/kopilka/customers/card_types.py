"""Card types (series of cards bound to programs), the plastic series that gives a card its
type, and moving cards, with their customers' balances, from one type to another.

A customer is in the program of their card's type (`programs.selectors.program_of_customer`:
the newest typed card that is not lost decides; no typed card: the merchant's default
program). When a change of cards changes a customer's program, the balance follows: the
ledger moves every lot from the old program's account to the new one, keeping each lot's
freeze and expiry (`ledger.services.transfer`).

A type may name its printed plastic series (`plastic_prefix`, "2950"): a plastic card issued
without a type whose number starts with those digits gets the type (`card_type_for_number`,
used by `services._issue_card`). An explicit type wins over the series. A merchant's series
never overlap: one that starts with another ("29" and "2950") is refused rather than resolved
by a longest-match rule, so adding a series never quietly takes numbers from another type.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from kopilka.errors import ValidationFailed
from kopilka.ledger import locks
from kopilka.ledger import services as ledger
from kopilka.ledger.exceptions import ReasonRequired
from kopilka.ledger.models import Account
from kopilka.merchants.actors import Actor
from kopilka.merchants.models import AuditAction, Merchant
from kopilka.merchants.services import audit_record
from kopilka.programs.exceptions import ProgramNotFound
from kopilka.programs.models import Program
from kopilka.programs.selectors import program_for_receipts, programs_of_customers

from .cards import (
    VIRTUAL_PREFIX,
    VIRTUAL_PREFIX_MAX,
    is_valid_virtual_prefix,
    normalize_card_number,
)
from .exceptions import CardTypeNotFound, CustomerNotFound, DuplicateCardType, InvalidCustomerData
from .models import Card, CardType, Customer

# Customers per transaction of a bulk move: short transactions that tills can slip between.
MOVE_BATCH = 500
PLASTIC_PREFIX_MAX = CardType._meta.get_field("plastic_prefix").max_length


class OverlappingCardSeries(ValidationFailed):
    code = "card_series_overlap"
    default_message = _("The plastic card series overlaps the series of another card type.")

    def __init__(self, *, prefix: str, other: CardType):
        message = format_lazy(
            _(
                'The series {prefix} overlaps the series {other} of the card type "{name}": '
                "a card number would belong to both."
            ),
            prefix=prefix,
            other=other.plastic_prefix,
            name=other.name,
        )
        super().__init__(message, field="plastic_prefix", card_type_id=other.pk)


@dataclass(frozen=True)
class CardsMoved:
    cards: int  # cards whose type changed
    customers: int  # their customers
    balances_moved: int  # customers whose program changed and who had points to move
    amount: int  # points moved between accounts, in minor units


@transaction.atomic
def card_type_create(
    *,
    merchant: Merchant,
    name: str,
    program: Program,
    actor: Actor,
    number_prefix: str = "",
    plastic_prefix: str = "",
) -> CardType:
    """A series of cards bound to a program; its virtual cards get numbers starting with
    `number_prefix` ("29..." digits; empty: the default prefix), and plastic cards numbered
    in `plastic_prefix` (digits; empty: none) get the type when issued without one."""
    name = _clean_name(name)
    if program is None or program.merchant_id != merchant.pk:
        # Another merchant's program is reported like a missing one.
        raise ProgramNotFound(program=getattr(program, "pk", None))
    number_prefix = _clean_prefix(number_prefix)
    plastic_prefix = _clean_series(plastic_prefix)
    if CardType.objects.filter(merchant=merchant, name=name).exists():
        raise DuplicateCardType(name=name)
    if plastic_prefix:
        _ensure_series_free(merchant.pk, plastic_prefix)
    try:
        with transaction.atomic():
            card_type = CardType.objects.create(
                merchant=merchant,
                name=name,
                program=program,
                number_prefix=number_prefix,
                plastic_prefix=plastic_prefix,
            )
    except IntegrityError as exc:
        raise DuplicateCardType(name=name) from exc
    audit_record(
        merchant=merchant,
        actor=actor,
        action=AuditAction.CARD_TYPE_CREATE,
        obj=card_type,
        data={
            "program_id": program.pk,
            "number_prefix": number_prefix,
            "plastic_prefix": plastic_prefix,
        },
    )
    return card_type


@transaction.atomic
def card_type_update(
    *,
    card_type: CardType,
    actor: Actor,
    name: str | None = None,
    number_prefix: str | None = None,
    plastic_prefix: str | None = None,
) -> CardType:
    """Rename a card type, change the prefix of its future virtual cards or its plastic
    series (cards already issued keep their numbers and types). Its program is not changed
    here: holders would change program without their balances; `cards_move_to_type` moves
    cards to a type of the other program."""
    wanted = {
        "name": None if name is None else _clean_name(name),
        "number_prefix": None if number_prefix is None else _clean_prefix(number_prefix),
        "plastic_prefix": None if plastic_prefix is None else _clean_series(plastic_prefix),
    }
    changes = {
        field: value
        for field, value in wanted.items()
        if value is not None and value != getattr(card_type, field)
    }
    if "name" in changes:
        taken = CardType.objects.filter(merchant_id=card_type.merchant_id, name=changes["name"])
        if taken.exclude(pk=card_type.pk).exists():
            raise DuplicateCardType(name=changes["name"])
    if changes.get("plastic_prefix"):
        _ensure_series_free(card_type.merchant_id, changes["plastic_prefix"], own=card_type)
    if not changes:
        return card_type
    before = {field: getattr(card_type, field) for field in changes}
    for field, value in changes.items():
        setattr(card_type, field, value)
    try:
        with transaction.atomic():
            card_type.save(update_fields=list(changes))
    except IntegrityError as exc:
        raise DuplicateCardType(name=card_type.name) from exc
    audit_record(
        merchant=card_type.merchant,
        actor=actor,
        action=AuditAction.CARD_TYPE_UPDATE,
        obj=card_type,
        data={"before": before, "after": changes},
    )
    return card_type


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > CardType._meta.get_field("name").max_length:
        raise InvalidCustomerData(_("Give the card type a name."), field="name")
    return name


def _clean_prefix(number_prefix: str) -> str:
    number_prefix = (number_prefix or "").strip()
    if number_prefix and not is_valid_virtual_prefix(number_prefix):
        raise InvalidCustomerData(
            format_lazy(
                _("The number prefix is {start} followed by digits, at most {n} digits in all."),
                start=VIRTUAL_PREFIX,
                n=VIRTUAL_PREFIX_MAX,
            ),
            field="number_prefix",
        )
    return number_prefix


def _clean_series(plastic_prefix: str) -> str:
    plastic_prefix = normalize_card_number(plastic_prefix)
    if plastic_prefix and not (
        plastic_prefix.isascii()
        and plastic_prefix.isdigit()
        and len(plastic_prefix) <= PLASTIC_PREFIX_MAX
    ):
        raise InvalidCustomerData(
            format_lazy(
                _("The plastic card series is the digits its numbers start with, at most {n}."),
                n=PLASTIC_PREFIX_MAX,
            ),
            field="plastic_prefix",
        )
    return plastic_prefix


def _ensure_series_free(merchant_id: int, prefix: str, *, own: CardType | None = None) -> None:
    """Refuse a series that starts with another type's series or that another one starts
    with. The merchant's row is locked first, so two types cannot take overlapping series
    at the same time (the unique constraint only catches equal ones)."""
    Merchant.objects.select_for_update().filter(pk=merchant_id).first()
    overlapping = (
        CardType.objects.filter(merchant_id=merchant_id)
        .filter(Q(plastic_prefix__in=_heads(prefix)) | Q(plastic_prefix__startswith=prefix))
        .exclude(plastic_prefix="")
        .order_by("plastic_prefix")
    )
    if own is not None:
        overlapping = overlapping.exclude(pk=own.pk)
    other = overlapping.first()
    if other is not None:
        raise OverlappingCardSeries(prefix=prefix, other=other)


def _heads(number: str) -> list[str]:
    """Every prefix of the number a series could be: "2950" -> "2", "29", "295", "2950"."""
    return [number[:n] for n in range(1, min(len(number), PLASTIC_PREFIX_MAX) + 1)]


def card_type_for_number(*, merchant: Merchant | int, number: str) -> CardType | None:
    """The type whose plastic series the card number is in, or None. Series never overlap
    (see _ensure_series_free); should two ever match, the longer series wins. One query on
    the (merchant, plastic_prefix) index."""
    number = normalize_card_number(number)
    if not number:
        return None
    found = CardType.objects.select_related("program").filter(
        merchant=merchant, plastic_prefix__in=_heads(number)
    )
    return max(found, key=lambda card_type: len(card_type.plastic_prefix), default=None)


def series_of(merchant: Merchant):
    """card_type_for_number for many numbers: the merchant's series read once, a function
    from a (normalised) number to its type or None."""
    by_prefix = {
        t.plastic_prefix: t
        for t in CardType.objects.filter(merchant=merchant).exclude(plastic_prefix="")
    }

    def type_of(number: str) -> CardType | None:
        found = [by_prefix[head] for head in _heads(number) if head in by_prefix]
        return max(found, key=lambda t: len(t.plastic_prefix), default=None)

    return type_of


def card_type_get(*, merchant: Merchant, pk) -> CardType:
    """The merchant's card type; another merchant's id is reported exactly like a missing one."""
    card_type = (
        CardType.objects.select_related("program").filter(merchant=merchant, pk=pk).first()
        if str(pk).isdigit()
        else None
    )
    if card_type is None:
        raise CardTypeNotFound(card_type=str(pk))
    return card_type


def cards_move_to_type(
    *,
    merchant: Merchant,
    to_type: CardType | int,
    actor: Actor,
    reason: str,
    from_type: CardType | int | None = None,
    customer_ids: Iterable[int] | None = None,
    now: datetime | None = None,
) -> CardsMoved:
    """Give the cards of `from_type`, or all cards of the given customers (both: the cards
    of `from_type` of those customers), the type `to_type`: the customers move to its
    program, balances included. `customer_ids` is ids (all must be the merchant's) or a
    QuerySet of customers (taken as a subquery, limited to the merchant's).

    For each customer whose program changes, the account in the new program is opened (no
    welcome bonus: it is a move, not a new member) and every lot of the old program's
    account moves there with its own freeze and expiry (`ledger.services.transfer`, which
    also says what stays behind: expired lots and points of holds in flight).

    Customers go in batches of MOVE_BATCH, each batch one transaction (customers locked,
    then all their accounts in id order), so a large move does not stall the tills; a
    failure keeps the batches already done, and running the move again finishes the rest:
    cards already of `to_type` are left alone, so a repeated move changes nothing.
    One audit row per call, with the counts.

    Caveat: a receipt whose customer was resolved before the move commits is booked in the
    old program; its accrual lands in the old account (see the report of the move).
    """
    if not reason or not reason.strip():
        raise ReasonRequired()
    to_type = _own_type(merchant, to_type)
    wanted = None
    cards = Card.objects.filter(merchant=merchant).exclude(card_type=to_type)
    if from_type is not None:
        from_type = _own_type(merchant, from_type)
        cards = cards.filter(card_type=from_type)
    if isinstance(customer_ids, QuerySet):
        # A list as filtered (the back office's customer list): it stays a subquery, however
        # many customers it holds.
        wanted = customer_ids.filter(merchant=merchant).values("pk")
        cards = cards.filter(customer_id__in=wanted)
    elif customer_ids is not None:
        wanted = _own_customers(merchant, customer_ids)
        cards = cards.filter(customer_id__in=wanted)
    elif from_type is None:
        raise InvalidCustomerData(
            _("Say which cards to move: a card type or a selection of customers."),
            field="from_type",
        )
    now = now or timezone.now()
    default = program_for_receipts(merchant=merchant)
    default_id = default.pk if default else None

    totals = {"cards": 0, "customers": 0, "balances_moved": 0, "amount": 0}
    customers = sorted(
        set(cards.filter(customer__isnull=False).values_list("customer_id", flat=True))
    )
    for start in range(0, len(customers), MOVE_BATCH):
        batch = customers[start : start + MOVE_BATCH]
        with transaction.atomic():
            done = _move_batch(
                merchant, cards, batch, to_type, default_id, actor=actor, reason=reason, now=now
            )
        for name, value in done.items():
            totals[name] += value
    # Cards not given to anyone yet: no balance to follow them.
    with transaction.atomic():
        totals["cards"] += cards.filter(customer__isnull=True).update(card_type=to_type)

    result = CardsMoved(**totals)
    audit_record(
        merchant=merchant,
        actor=actor,
        action=AuditAction.CARD_TYPE_MOVE_CARDS,
        obj=to_type,
        reason=reason,
        data={
            "from_type_id": from_type.pk if from_type is not None else None,
            "to_type_id": to_type.pk,
            "customers_selected": _count(wanted),
            **asdict(result),
        },
    )
    return result


def program_id_of(customer: Customer) -> int | None:
    """The id of the customer's program now (see program_of_customer), for follow_program."""
    default = program_for_receipts(merchant=customer.merchant)
    return programs_of_customers(
        merchant=customer.merchant,
        customer_ids=[customer.pk],
        default=default.pk if default else None,
    )[customer.pk]


def follow_program(
    *, customer: Customer, before: int | None, actor: Actor, reason: str, now=None
) -> int:
    """After a change of the (locked) customer's cards: when the program is no longer
    `before` (from program_id_of, read before the change), move the balance to the new one.
    Returns the amount moved. Must run in the transaction that changed the cards."""
    after = program_id_of(customer)
    if after == before or after is None:
        return 0
    _, amount = _move_balances(
        customer.merchant_id,
        [customer],
        {customer.pk: before},
        {customer.pk: after},
        actor=actor,
        reason=reason,
        now=now or timezone.now(),
    )
    return amount


@dataclass(frozen=True)
class BalancesMoved:
    customers: int  # customers whose points moved
    amount: int  # minor units moved


def balances_follow_programs(
    *, merchant: Merchant, from_program: Program, actor: Actor, reason: str, now=None
) -> BalancesMoved:
    """Move the balances left in `from_program` by customers who are now in another program
    (program_of_customer: their card's type, else the default program, which follows the
    programs' periods) to that program, lot by lot with their freeze and expiry, as moving
    cards does. Customers still in `from_program` keep theirs. For when one program follows
    another: the points of the one that ended go where the customers now earn and spend.
    In batches of MOVE_BATCH customers, each its own transaction; one audit row."""
    if not (reason or "").strip():
        raise ReasonRequired()
    if from_program.merchant_id != merchant.pk:
        raise ProgramNotFound(program=from_program.pk)
    now = now or timezone.now()
    default = program_for_receipts(merchant=merchant, now=now)
    default_id = default.pk if default else None
    holders = sorted(
        Account.objects.filter(merchant=merchant, program=from_program)
        .exclude(customer=None)
        .values_list("customer_id", flat=True)
    )
    customers = amount = 0
    for start in range(0, len(holders), MOVE_BATCH):
        batch = holders[start : start + MOVE_BATCH]
        with transaction.atomic():
            locked = list(
                Customer.objects.select_for_update()
                .select_related("merchant")
                .filter(merchant=merchant, pk__in=batch)
                .order_by("pk")
            )
            after = programs_of_customers(merchant=merchant, customer_ids=batch, default=default_id)
            elsewhere = [
                c for c in locked if after[c.pk] is not None and after[c.pk] != from_program.pk
            ]
            moved, total = _move_balances(
                merchant.pk,
                elsewhere,
                dict.fromkeys(batch, from_program.pk),
                after,
                actor=actor,
                reason=reason,
                now=now,
            )
        customers += moved
        amount += total
    result = BalancesMoved(customers=customers, amount=amount)
    audit_record(
        merchant=merchant,
        actor=actor,
        action=AuditAction.PROGRAM_BALANCES_FOLLOW,
        obj=from_program,
        reason=reason,
        data=asdict(result),
    )
    return result


# --- helpers ---------------------------------------------------------------------------------


def _own_type(merchant: Merchant, value: CardType | int) -> CardType:
    return card_type_get(merchant=merchant, pk=value.pk if isinstance(value, CardType) else value)


def _count(wanted) -> int | None:
    if wanted is None:
        return None
    return wanted.count() if isinstance(wanted, QuerySet) else len(wanted)


def _own_customers(merchant: Merchant, customer_ids: Iterable[int]) -> list[int]:
    try:
        wanted = {int(pk) for pk in customer_ids}
    except (TypeError, ValueError) as exc:
        raise CustomerNotFound(customer_ids=[str(pk) for pk in customer_ids]) from exc
    found = set(
        Customer.objects.filter(merchant=merchant, pk__in=wanted).values_list("pk", flat=True)
    )
    if found != wanted:
        # Another merchant's customers are reported exactly like missing ones.
        raise CustomerNotFound(customer_ids=sorted(wanted - found))
    return sorted(found)


def _move_batch(
    merchant, cards, batch: list[int], to_type: CardType, default_id, *, actor, reason, now
) -> dict:
    # Customers first (card_issue locks them too), so concurrent moves of the same customers
    # queue; what to move is read again under the lock.
    locked = list(
        Customer.objects.select_for_update()
        .select_related("merchant")
        .filter(merchant=merchant, pk__in=batch)
        .order_by("pk")
    )
    before = programs_of_customers(merchant=merchant, customer_ids=batch, default=default_id)
    to_move = cards.filter(customer_id__in=batch)
    moved_customers = set(to_move.values_list("customer_id", flat=True))
    moved_cards = to_move.update(card_type=to_type)
    if not moved_cards:
        return {}
    after = programs_of_customers(merchant=merchant, customer_ids=batch, default=default_id)
    changing = [c for c in locked if before[c.pk] != after[c.pk] and after[c.pk] is not None]
    balances, amount = _move_balances(
        merchant.pk, changing, before, after, actor=actor, reason=reason, now=now
    )
    return {
        "cards": moved_cards,
        "customers": len(moved_customers),
        "balances_moved": balances,
        "amount": amount,
    }


def _move_balances(
    merchant_id, customers: list[Customer], before: dict, after: dict, *, actor, reason, now
) -> tuple[int, int]:
    """Open each customer's account in the `after` program and transfer the balance of the
    `before` one there. Returns (customers whose points moved, amount moved)."""
    if not customers:
        return 0, 0
    programs = Program.objects.in_bulk({after[c.pk] for c in customers})
    targets = {
        c.pk: ledger.account_open(customer=c, program=programs[after[c.pk]], actor=actor)
        for c in customers
    }
    sources = {
        account.customer_id: account
        for account in Account.objects.filter(
            merchant_id=merchant_id,
            customer_id__in=[c.pk for c in customers],
            program_id__in={before[c.pk] for c in customers if before[c.pk] is not None},
        )
        if account.program_id == before[account.customer_id]
    }
    # All accounts of the batch in one statement, in id order: no deadlock with the tills or
    # the expiry job, which lock accounts in the same order.
    locked = {
        account.pk: account
        for account in locks.lock_accounts(
            [a.pk for a in targets.values()] + [a.pk for a in sources.values()]
        )
    }
    customers_moved = amount = 0
    for customer in customers:
        source = sources.get(customer.pk)
        if source is None:
            continue
        moved = ledger.transfer(
            source=locked[source.pk],
            target=locked[targets[customer.pk].pk],
            actor=actor,
            reason=reason,
            now=now,
        )
        if moved:
            customers_moved += 1
            amount += moved
    return customers_moved, amount

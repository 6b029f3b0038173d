"""Writes of customers, their cards and groups: registration, profile, status, anonymisation."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from kopilka.merchants.actors import Actor
from kopilka.merchants.models import AuditAction, Merchant
from kopilka.merchants.services import audit_record

from . import card_types
from .cards import (
    VIRTUAL_PREFIX,
    generate_secret,
    generate_virtual_number,
    hash_secret,
    normalize_card_number,
    numbers_from,
)
from .exceptions import (
    CardStatusConflict,
    CardTypeNotFound,
    ContactRequired,
    CustomerAnonymised,
    CustomerStatusConflict,
    DuplicateCard,
    DuplicateCustomer,
    DuplicateGroup,
    GroupNotFound,
    InvalidCardNumber,
    InvalidCustomerData,
    PlanLimitReached,
)
from .models import Card, CardType, Customer, Group
from .normalize import name_search_key, normalize_email, normalize_phone

_TEXT_FIELDS = ("first_name", "last_name", "middle_name", "code_word", "notes")
PROFILE_FIELDS = (*_TEXT_FIELDS, "phone", "email", "birthday", "gender", "marketing_consent")
_NAME_FIELDS = ("last_name", "first_name", "middle_name")
_CARD_NUMBER_MAX = Card._meta.get_field("number").max_length
_SECRET_MAX = 64


# --- customers -------------------------------------------------------------------------------


@transaction.atomic
def customer_register(
    *,
    merchant: Merchant,
    actor: Actor,
    phone: str | None = None,
    email: str | None = None,
    first_name: str = "",
    last_name: str = "",
    middle_name: str = "",
    birthday: datetime.date | None = None,
    gender: str = "",
    code_word: str = "",
    marketing_consent: bool = False,
    status: str = Customer.Status.ACTIVE,
    notes: str = "",
    groups: Iterable[Group | int] = (),
    card_number: str | None = None,
    card_secret: str | None = None,
    virtual_card: bool = False,
    registered_at: datetime.datetime | None = None,
) -> Customer:
    """Register a customer, optionally attaching a plastic card and/or issuing a virtual one.
    `registered_at`: when they joined, for a history brought in from elsewhere (default: now).

    A secret code generated here for a card is not returned: call card_issue() directly, or
    card_regenerate_secret() later, when it has to be shown.
    """
    profile = _clean_profile(
        merchant,
        {
            "phone": phone,
            "email": email,
            "first_name": first_name,
            "last_name": last_name,
            "middle_name": middle_name,
            "birthday": birthday,
            "gender": gender,
            "code_word": code_word,
            "marketing_consent": marketing_consent,
            "notes": notes,
        },
    )
    if not profile["phone"] and not profile["email"]:
        raise ContactRequired()
    if status not in Customer.Status.values:
        raise InvalidCustomerData(_("Unknown customer status."), field="status")

    # The merchant row is the lock that serialises registrations of one merchant, so two
    # tills cannot both see "8 of 9" and both register. (SQLite serialises all writers anyway.)
    merchant = Merchant.objects.select_for_update().get(pk=merchant.pk)
    _ensure_unique_contacts(merchant.pk, phone=profile["phone"], email=profile["email"])
    if merchant.customer_limit is not None:
        used = Customer.objects.filter(merchant=merchant, anonymised_at__isnull=True).count()
        if used >= merchant.customer_limit:
            raise PlanLimitReached(limit=merchant.customer_limit)
    group_ids = _merchant_group_ids(merchant.pk, groups)

    customer = Customer(
        merchant=merchant,
        status=status,
        name_search=name_search_key(*(profile[f] for f in _NAME_FIELDS)),
        **profile,
    )
    if registered_at is not None:
        customer.created_at = registered_at
    _save_customer(customer)
    if group_ids:
        customer.groups.set(group_ids)
    audit_record(
        merchant=merchant,
        actor=actor,
        action=AuditAction.CUSTOMER_REGISTER,
        obj=customer,
        # Field names only: audit rows outlive anonymisation, so no personal data goes here.
        data={"fields": sorted(k for k, v in profile.items() if v), "status": status},
    )
    if card_number:
        card_issue(
            customer=customer,
            kind=Card.Kind.PLASTIC,
            number=card_number,
            secret=card_secret,
            actor=actor,
        )
    if virtual_card:
        card_issue(customer=customer, kind=Card.Kind.VIRTUAL, actor=actor)
    return customer


@transaction.atomic
def customer_update(*, customer: Customer, actor: Actor, **fields) -> Customer:
    """Change profile fields (any of PROFILE_FIELDS); status and groups have their own services."""
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"customer_update() got unexpected fields: {sorted(unknown)}")
    customer = _lock_customer(customer)
    _ensure_not_anonymised(customer)
    clean = _clean_profile(customer.merchant, fields)
    changed = {k: v for k, v in clean.items() if getattr(customer, k) != v}
    if not changed:
        return customer
    phone = changed.get("phone", customer.phone)
    email = changed.get("email", customer.email)
    if not phone and not email:
        raise ContactRequired()
    _ensure_unique_contacts(
        customer.merchant_id,
        phone=changed.get("phone", ""),
        email=changed.get("email", ""),
        exclude_pk=customer.pk,
    )
    for name, value in changed.items():
        setattr(customer, name, value)
    customer.name_search = name_search_key(*(getattr(customer, f) for f in _NAME_FIELDS))
    _save_customer(customer, update_fields=[*changed, "name_search"])
    audit_record(
        merchant=customer.merchant,
        actor=actor,
        action=AuditAction.CUSTOMER_UPDATE,
        obj=customer,
        data={"fields": sorted(changed)},
    )
    return customer


@transaction.atomic
def customer_confirm(*, customer: Customer, actor: Actor) -> Customer:
    """Pending -> active. Confirming an active customer again changes nothing (till retries)."""
    customer = _lock_customer(customer)
    _ensure_not_anonymised(customer)
    if customer.status == Customer.Status.ACTIVE:
        return customer
    if customer.status != Customer.Status.PENDING:
        raise CustomerStatusConflict(_("A blocked customer cannot be confirmed."))
    return _set_status(
        customer, Customer.Status.ACTIVE, actor=actor, action=AuditAction.CUSTOMER_CONFIRM
    )


@transaction.atomic
def customer_block(*, customer: Customer, actor: Actor, reason: str = "") -> Customer:
    customer = _lock_customer(customer)
    if customer.status == Customer.Status.BLOCKED:
        return customer
    return _set_status(
        customer,
        Customer.Status.BLOCKED,
        actor=actor,
        action=AuditAction.CUSTOMER_BLOCK,
        reason=reason,
    )


@transaction.atomic
def customer_unblock(*, customer: Customer, actor: Actor, reason: str = "") -> Customer:
    customer = _lock_customer(customer)
    _ensure_not_anonymised(customer)
    if customer.status != Customer.Status.BLOCKED:
        return customer
    return _set_status(
        customer,
        Customer.Status.ACTIVE,
        actor=actor,
        action=AuditAction.CUSTOMER_UNBLOCK,
        reason=reason,
    )


@transaction.atomic
def customer_anonymise(*, customer: Customer, actor: Actor, reason: str = "") -> Customer:
    """Erase the customer's personal data on request, keeping the row.

    The row stays because ledger accounts, entries and receipts reference it: reports and
    the ledger invariants must still add up. Cards are blocked so nobody can keep using them.
    Doing it twice is harmless.
    """
    customer = _lock_customer(customer)
    if customer.anonymised_at is not None:
        return customer
    for name in (*_TEXT_FIELDS, "phone", "email", "gender", "name_search"):
        setattr(customer, name, "")
    customer.birthday = None
    customer.marketing_consent = False
    customer.status = Customer.Status.BLOCKED
    customer.anonymised_at = timezone.now()
    customer.save()
    # Group membership can itself be sensitive ("diabetics" at a pharmacy).
    customer.groups.clear()
    cards_blocked = (
        Card.objects.filter(merchant_id=customer.merchant_id, customer=customer)
        .exclude(status=Card.Status.LOST)
        .update(status=Card.Status.BLOCKED, secret_hash="")
    )
    audit_record(
        merchant=customer.merchant,
        actor=actor,
        action=AuditAction.CUSTOMER_ANONYMISE,
        obj=customer,
        reason=reason,
        data={"cards_blocked": cards_blocked},
    )
    return customer


# --- cards -----------------------------------------------------------------------------------


@transaction.atomic
def card_issue(
    *,
    customer: Customer,
    kind: str,
    number: str | None = None,
    secret: str | None = None,
    actor: Actor,
    card_type: CardType | None = None,
) -> tuple[Card, str | None]:
    """Attach a card to the customer: a plastic one by its number, or a virtual one.

    Virtual cards get a generated EAN-13 number unless one is given (cards moved from
    another system), starting with the card type's prefix if it has one. A plastic card
    given no type takes the type of its printed series, if any (card_types.
    card_type_for_number). Returns the card and the secret code if one was generated here
    (the only time it is visible); None when the caller supplied it.

    A card of a type bound to another program than the customer's moves the customer there,
    balance included (card_types.follow_program), as moving cards to a type does.
    """
    customer = _lock_customer(customer)
    _ensure_not_anonymised(customer)
    # A plastic card may take a type from its series (_issue_card).
    typed = card_type is not None or kind == Card.Kind.PLASTIC
    before = card_types.program_id_of(customer) if typed else None
    stock = _stock_card(customer.merchant, kind, number)
    if stock is not None:
        card, plain = _assign(stock, customer, secret=secret, card_type=card_type, actor=actor)
        if card.card_type_id is not None:
            card_types.follow_program(
                customer=customer, before=before, actor=actor, reason=f"card.assign {card.number}"
            )
        return card, plain
    card, plain = _issue_card(
        merchant=customer.merchant,
        customer=customer,
        kind=kind,
        number=number,
        secret=secret,
        actor=actor,
        card_type=card_type,
    )
    if card.card_type_id is not None:
        card_types.follow_program(
            customer=customer, before=before, actor=actor, reason=f"card.issue {card.number}"
        )
    return card, plain


STOCK_MAX = 10_000


@transaction.atomic
def cards_stock(
    *, merchant: Merchant, first: str, count: int = 1, actor: Actor, card_type=None
) -> list[Card]:
    """Plastic cards entered into the catalogue ahead, with no owner yet: `count` printed
    numbers from `first` on (cards.numbers_from). A card of a type's printed series gets that
    type unless `card_type` says. No secret code yet: the one printed on the card is given
    when the card gets its owner (card_issue, at the till's registration or on the customer
    card), or one is generated then. A number already in the catalogue refuses the whole
    series."""
    first = normalize_card_number(first)
    if not 1 <= count <= STOCK_MAX:
        raise InvalidCustomerData(
            format_lazy(_("Enter between 1 and {n} cards at once."), n=STOCK_MAX), field="count"
        )
    try:
        numbers = numbers_from(first, count)
    except ValueError:
        raise InvalidCardNumber(number=first) from None
    if len(numbers[-1]) > _CARD_NUMBER_MAX:
        raise InvalidCardNumber(number=numbers[-1])
    _ensure_own_type(merchant.pk, card_type)
    taken = list(
        Card.objects.filter(merchant=merchant, number__in=numbers)
        .order_by("number")
        .values_list("number", flat=True)[:5]
    )
    if taken:
        raise DuplicateCard(numbers=taken)
    series = card_types.series_of(merchant)  # one query, not one per card
    cards = [
        Card(
            merchant=merchant,
            customer=None,
            kind=Card.Kind.PLASTIC,
            number=number,
            card_type=card_type or series(number),
        )
        for number in numbers
    ]
    try:
        with transaction.atomic():
            Card.objects.bulk_create(cards, batch_size=1000)
    except IntegrityError as exc:
        raise DuplicateCard(number=first) from exc
    audit_record(
        merchant=merchant,
        actor=actor,
        action=AuditAction.CARD_STOCK,
        obj=cards[0],
        data={
            "first": numbers[0],
            "last": numbers[-1],
            "count": count,
            "card_type_id": card_type.pk if card_type is not None else None,
        },
    )
    return cards


def _stock_card(merchant: Merchant, kind: str, number: str | None) -> Card | None:
    """The catalogue's ownerless card with this number, locked, if a plastic card with it is
    being issued."""
    if kind != Card.Kind.PLASTIC or not number:
        return None
    return (
        Card.objects.select_for_update()
        .filter(
            merchant=merchant,
            number=normalize_card_number(number),
            customer=None,
            status=Card.Status.ACTIVE,
        )
        .first()
    )


def _assign(
    stock: Card, customer: Customer, *, secret, card_type, actor
) -> tuple[Card, str | None]:
    """Give a catalogue card its owner, with the secret code printed on it (or a new one) and
    the type asked for (else the one it was entered with)."""
    _ensure_own_type(customer.merchant_id, card_type)
    plain = None
    if (secret or "").strip() or not stock.secret_hash:
        stock.secret_hash, plain = _secret_hash(secret)
    stock.customer = customer
    if card_type is not None:
        stock.card_type = card_type
    stock.save(update_fields=["customer", "secret_hash", "card_type"])
    audit_record(
        merchant=customer.merchant,
        actor=actor,
        action=AuditAction.CARD_ASSIGN,
        obj=stock,
        data={
            "number": stock.number,
            "customer_id": customer.pk,
            "card_type_id": stock.card_type_id,
        },
    )
    return stock, plain


@transaction.atomic
def card_block(*, card: Card, actor: Actor, reason: str = "") -> Card:
    card = _lock_card(card)
    if card.status == Card.Status.BLOCKED:
        return card
    _ensure_not_lost(card)
    return _set_card_status(card, Card.Status.BLOCKED, actor=actor, reason=reason)


@transaction.atomic
def card_unblock(*, card: Card, actor: Actor, reason: str = "") -> Card:
    card = _lock_card(card)
    if card.status == Card.Status.ACTIVE:
        return card
    _ensure_not_lost(card)
    if card.customer is not None:
        _ensure_not_anonymised(card.customer)
    return _set_card_status(card, Card.Status.ACTIVE, actor=actor, reason=reason)


@transaction.atomic
def card_regenerate_secret(*, card: Card, actor: Actor) -> str:
    """Replace the card's secret code with a new generated one and return it (shown once)."""
    card = _lock_card(card)
    _ensure_not_lost(card)
    card.secret_hash, plain = _secret_hash(None)
    card.save(update_fields=["secret_hash"])
    audit_record(
        merchant=card.merchant, actor=actor, action=AuditAction.CARD_REGENERATE_SECRET, obj=card
    )
    return plain


@transaction.atomic
def card_reissue(
    *,
    card: Card,
    actor: Actor,
    new_number: str | None = None,
    kind: str | None = None,
    secret: str | None = None,
) -> tuple[Card, str | None]:
    """Replace a lost or damaged card: the old one becomes "lost", a new one takes its place.

    The new card is plastic when `new_number` is given and virtual otherwise, unless `kind`
    says; it is of the old card's type. Its secret code is `secret` (the one printed on a
    new plastic card) or generated. Returns the new card and the secret code if generated
    here, as card_issue() does. Points are not moved here because they never were on the
    card: the balance belongs to the customer's ledger Account per program, so the new card
    reaches the same balance by construction. (Only a customer holding typed cards of
    different programs can change program here, the new card being the newest: then the
    balance follows, as in card_issue.)
    """
    card = _lock_card(card)
    _ensure_not_lost(card)
    before = None
    if card.customer is not None:
        card.customer = _lock_customer(card.customer)
        _ensure_not_anonymised(card.customer)
        before = card_types.program_id_of(card.customer)
    if kind is None:
        kind = Card.Kind.PLASTIC if new_number else Card.Kind.VIRTUAL
    new_card, plain = _issue_card(
        merchant=card.merchant,
        customer=card.customer,
        kind=kind,
        number=new_number,
        secret=secret,
        actor=actor,
        card_type=card.card_type,
    )
    card.status = Card.Status.LOST
    card.replaced_by = new_card
    card.save(update_fields=["status", "replaced_by"])
    if card.customer is not None:
        card_types.follow_program(
            customer=card.customer,
            before=before,
            actor=actor,
            reason=f"card.reissue {card.number} -> {new_card.number}",
        )
    audit_record(
        merchant=card.merchant,
        actor=actor,
        action=AuditAction.CARD_REISSUE,
        obj=card,
        data={"new_card_id": new_card.pk},
    )
    return new_card, plain


# --- groups ----------------------------------------------------------------------------------


@transaction.atomic
def group_create(*, merchant: Merchant, name: str, actor: Actor) -> Group:
    name = (name or "").strip()
    max_length = Group._meta.get_field("name").max_length
    if not name or len(name) > max_length:
        raise InvalidCustomerData(_("Give the group a name."), field="name")
    if Group.objects.filter(merchant=merchant, name=name).exists():
        raise DuplicateGroup(name=name)
    try:
        with transaction.atomic():
            group = Group.objects.create(merchant=merchant, name=name)
    except IntegrityError as exc:
        raise DuplicateGroup(name=name) from exc
    audit_record(merchant=merchant, actor=actor, action=AuditAction.GROUP_CREATE, obj=group)
    return group


@transaction.atomic
def customer_set_groups(
    *, customer: Customer, groups: Iterable[Group | int], actor: Actor
) -> Customer:
    """Make the customer a member of exactly these groups (of the customer's merchant)."""
    customer = _lock_customer(customer)
    _ensure_not_anonymised(customer)
    group_ids = _merchant_group_ids(customer.merchant_id, groups)
    customer.groups.set(group_ids)
    audit_record(
        merchant=customer.merchant,
        actor=actor,
        action=AuditAction.CUSTOMER_SET_GROUPS,
        obj=customer,
        data={"group_ids": group_ids},
    )
    return customer


GROUP_BATCH = 2000


@transaction.atomic
def group_add_customers(*, group: Group, customers, actor: Actor, reason: str = "") -> int:
    """Make many customers members of the group at once: `customers` is a QuerySet (say, the
    back office's list as filtered, which stays a subquery) or ids. Only the group merchant's
    customers who are not anonymised count; members already are left as they are. Returns how
    many joined."""
    merchant = group.merchant
    joining = (
        _merchants_customers(merchant, customers)
        .filter(anonymised_at__isnull=True)
        .exclude(groups=group)
        .values_list("pk", flat=True)
        .order_by("pk")
    )
    membership = Customer.groups.through
    added, last = 0, 0
    # Batches by primary key: a million customers are never one list, and the next batch's
    # query is a fresh one (no cursor open across the inserts).
    while batch := list(joining.filter(pk__gt=last)[:GROUP_BATCH]):
        # ignore_conflicts: a customer added by hand meanwhile is a member already.
        membership.objects.bulk_create(
            [membership(customer_id=pk, group_id=group.pk) for pk in batch], ignore_conflicts=True
        )
        added, last = added + len(batch), batch[-1]
    audit_record(
        merchant=merchant,
        actor=actor,
        action=AuditAction.GROUP_ADD_CUSTOMERS,
        obj=group,
        reason=reason,
        data={"added": added},
    )
    return added


@transaction.atomic
def group_remove_customers(*, group: Group, customers, actor: Actor, reason: str = "") -> int:
    """Take many customers out of the group at once (`customers` as for group_add_customers).
    Returns how many left it."""
    leaving = _merchants_customers(group.merchant, customers).values("pk")
    removed, _per_model = Customer.groups.through.objects.filter(
        group_id=group.pk, customer_id__in=leaving
    ).delete()
    audit_record(
        merchant=group.merchant,
        actor=actor,
        action=AuditAction.GROUP_REMOVE_CUSTOMERS,
        obj=group,
        reason=reason,
        data={"removed": removed},
    )
    return removed


def _merchants_customers(merchant: Merchant, customers):
    """The merchant's customers among `customers` (a QuerySet or ids), as a QuerySet."""
    if isinstance(customers, models.QuerySet):
        wanted = customers.values("pk")
    else:
        wanted = [int(pk) for pk in customers]
    return Customer.objects.filter(merchant=merchant, pk__in=wanted)


# --- helpers ---------------------------------------------------------------------------------


def _clean_profile(merchant: Merchant, fields: dict) -> dict:
    clean = {}
    for name, value in fields.items():
        if name == "phone":
            clean[name] = normalize_phone(value, merchant.phone_region) if value else ""
        elif name == "email":
            clean[name] = normalize_email(value) if value else ""
        elif name in _TEXT_FIELDS:
            value = (value or "").strip()
            max_length = Customer._meta.get_field(name).max_length
            if max_length and len(value) > max_length:
                raise InvalidCustomerData(
                    format_lazy(_("At most {n} characters."), n=max_length), field=name
                )
            clean[name] = value
        elif name == "birthday":
            # datetime is a date subclass, but a time of day in a birthday is a caller's bug.
            if value is not None and (
                not isinstance(value, datetime.date) or isinstance(value, datetime.datetime)
            ):
                raise InvalidCustomerData(_("The birthday must be a date."), field=name)
            clean[name] = value
        elif name == "gender":
            value = value or ""
            if value and value not in Customer.Gender.values:
                raise InvalidCustomerData(_("Unknown gender."), field=name)
            clean[name] = value
        elif name == "marketing_consent":
            clean[name] = bool(value)
    return clean


def _ensure_unique_contacts(
    merchant_id: int, *, phone: str, email: str, exclude_pk: int | None = None
) -> None:
    others = Customer.objects.filter(merchant_id=merchant_id)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    for field, value in (("phone", phone), ("email", email)):
        if value:
            existing = others.filter(**{field: value}).values_list("pk", flat=True).first()
            if existing is not None:
                raise DuplicateCustomer(field=field, customer_id=existing)


def _save_customer(customer: Customer, update_fields=None) -> None:
    # The check in _ensure_unique_contacts races with other transactions; the unique
    # constraints decide, and their violation is reported the same way.
    try:
        with transaction.atomic():
            customer.save(update_fields=update_fields)
    except IntegrityError:
        _ensure_unique_contacts(
            customer.merchant_id,
            phone=customer.phone,
            email=customer.email,
            exclude_pk=customer.pk,
        )
        raise


def _merchant_group_ids(merchant_id: int, groups: Iterable[Group | int]) -> list[int]:
    wanted = {g.pk if isinstance(g, Group) else int(g) for g in groups}
    if not wanted:
        return []
    found = set(
        Group.objects.filter(merchant_id=merchant_id, pk__in=wanted).values_list("pk", flat=True)
    )
    if found != wanted:
        raise GroupNotFound(group_ids=sorted(wanted - found))
    return sorted(found)


def _lock_customer(customer: Customer) -> Customer:
    # Re-read under a row lock (scoped by the object's own merchant) so concurrent changes
    # of one customer apply one after another instead of overwriting each other.
    return (
        Customer.objects.select_for_update(of=("self",))
        .select_related("merchant")
        .get(pk=customer.pk, merchant_id=customer.merchant_id)
    )


def _lock_card(card: Card) -> Card:
    return (
        Card.objects.select_for_update(of=("self",))
        .select_related("merchant", "customer")
        .get(pk=card.pk, merchant_id=card.merchant_id)
    )


def _ensure_not_anonymised(customer: Customer) -> None:
    if customer.anonymised_at is not None:
        raise CustomerAnonymised(customer_id=customer.pk)


def _ensure_not_lost(card: Card) -> None:
    if card.status == Card.Status.LOST:
        raise CardStatusConflict(
            _("This card was reported lost and replaced by another."), card_id=card.pk
        )


def _set_status(
    customer: Customer, status: str, *, actor: Actor, action: AuditAction, reason: str = ""
) -> Customer:
    previous = customer.status
    customer.status = status
    customer.save(update_fields=["status"])
    audit_record(
        merchant=customer.merchant,
        actor=actor,
        action=action,
        obj=customer,
        reason=reason,
        data={"from": previous, "to": status},
    )
    return customer


def _set_card_status(card: Card, status: str, *, actor: Actor, reason: str) -> Card:
    previous = card.status
    card.status = status
    card.save(update_fields=["status"])
    audit_record(
        merchant=card.merchant,
        actor=actor,
        action=AuditAction.CARD_BLOCK
        if status == Card.Status.BLOCKED
        else AuditAction.CARD_UNBLOCK,
        obj=card,
        reason=reason,
        data={"from": previous, "to": status},
    )
    return card


def _ensure_own_type(merchant_id: int, card_type: CardType | None) -> None:
    if card_type is not None and card_type.merchant_id != merchant_id:
        # Another merchant's type is reported exactly like a missing one.
        raise CardTypeNotFound(card_type=str(card_type.pk))


def _secret_hash(secret: str | None) -> tuple[str, str | None]:
    """(hash, plain) of a card's secret code: the one given (as printed on the card), or a
    new one, whose plain text is returned since it is shown once."""
    secret = (secret or "").strip()
    if len(secret) > _SECRET_MAX:
        raise InvalidCustomerData(
            format_lazy(_("The secret code is longer than {n} characters."), n=_SECRET_MAX),
            field="secret",
        )
    if secret:
        return hash_secret(secret), None
    plain = generate_secret()
    return hash_secret(plain), plain


def _issue_card(
    *,
    merchant: Merchant,
    customer: Customer | None,
    kind: str,
    number: str | None,
    secret: str | None,
    actor: Actor,
    card_type: CardType | None = None,
) -> tuple[Card, str | None]:
    if kind not in Card.Kind.values:
        raise InvalidCustomerData(_("Unknown card kind."), field="kind")
    _ensure_own_type(merchant.pk, card_type)
    if number is not None:
        number = normalize_card_number(number)
        if not number or len(number) > _CARD_NUMBER_MAX:
            raise InvalidCardNumber(number=number)
    elif kind == Card.Kind.PLASTIC:
        raise InvalidCardNumber(_("A plastic card needs its printed number."))
    if card_type is None and kind == Card.Kind.PLASTIC:
        # A card of a printed series takes the series' type; a type given explicitly wins.
        card_type = card_types.card_type_for_number(merchant=merchant, number=number)

    secret_hash, plain = _secret_hash(secret)
    card = Card(
        merchant=merchant,
        customer=customer,
        kind=kind,
        card_type=card_type,
        secret_hash=secret_hash,
    )

    if number is not None:
        if Card.objects.filter(merchant=merchant, number=number).exists():
            raise DuplicateCard(number=number)
        card.number = number
        try:
            with transaction.atomic():
                card.save()
        except IntegrityError as exc:
            raise DuplicateCard(number=number) from exc
    else:
        # A generated number can still be taken between the check and the insert; draw again.
        for attempt in range(3):
            card.number = generate_virtual_number(
                merchant, card_type.number_prefix if card_type is not None else VIRTUAL_PREFIX
            )
            try:
                with transaction.atomic():
                    card.save()
                break
            except IntegrityError:
                card.pk = None
                if attempt == 2:
                    raise

    audit_record(
        merchant=merchant,
        actor=actor,
        action=AuditAction.CARD_ISSUE,
        obj=card,
        data={
            "kind": kind,
            "number": card.number,
            "customer_id": card.customer_id,
            "card_type_id": card.card_type_id,
        },
    )
    return card, plain

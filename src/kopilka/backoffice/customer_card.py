"""The customer card page of the back office: details, cards (issue, attach, block, reissue),
accounts (opened with the welcome bonus), level, purchase and ledger history, manual
credit/debit within the role's limit, the customer's status (confirm, block, unblock) and
anonymisation. Actions answer with the part of the page they change (HTMX) or, without HTMX,
redirect back to the page. The changes themselves are services (customers.services,
programs.services: customer_program_account_open, customer_activate, balance_adjust).

An account opened here (button, first manual credit, confirmation, a customer added in the
back office) is an enrolment in the customer's program, as at the till: an active customer
gets the program's welcome bonus once, a pending one when confirmed."""

from __future__ import annotations

import datetime
from functools import partial

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from kopilka import bounds
from kopilka.customers import card_types
from kopilka.customers import services as customers
from kopilka.customers.exceptions import CustomerNotFound
from kopilka.customers.models import Card, CardType, Customer
from kopilka.customers.selectors import customer_get
from kopilka.errors import KopilkaError
from kopilka.ledger.models import Entry, EntryKind
from kopilka.ledger.selectors import (
    account_balance,
    accounts_of_customer,
    lots_expiring,
    lots_left,
)
from kopilka.merchants.models import Role
from kopilka.programs import services as programs
from kopilka.programs.models import Program
from kopilka.programs.selectors import program_of_customer
from kopilka.programs.standing import customer_standing
from kopilka.sales.selectors import receipts_of_customer

from .customer_filters import minor_units
from .formatting import money, points
from .scoping import request_actor, request_merchant, staff_member

EXPIRING_WITHIN_DAYS = 30
PER_PAGE = 20
# The lots listed per account (in spend order), each with its freeze and burn date.
LOTS_SHOWN = 20


# ---- reading the page -----------------------------------------------------------------------


def _customer(request, object_id) -> Customer:
    merchant = request_merchant(request)
    if merchant is None:
        raise Http404
    try:
        return customer_get(merchant=merchant, pk=object_id)
    except CustomerNotFound:
        raise Http404 from None


def _accounts(customer, now):
    rows = []
    for account in accounts_of_customer(customer).select_related("program"):
        expiring = list(
            lots_expiring(
                merchant=customer.merchant,
                now=now,
                within_days=EXPIRING_WITHIN_DAYS,
                account=account,
            )
        )
        level = customer_standing(customer=customer, program=account.program, now=now)
        lots = list(lots_left(account=account, now=now)[: LOTS_SHOWN + 1])
        rows.append(
            {
                "account": account,
                "balance": account_balance(account, now=now),
                "expiring": expiring,
                "expiring_total": sum(lot.remaining for lot in expiring),
                "lots": lots[:LOTS_SHOWN],
                "more_lots": len(lots) > LOTS_SHOWN,
                "level": level,
                "progress": level.next.progress_percent if level.next else None,
            }
        )
    return rows


def _date(value: str):
    try:
        return datetime.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _entries(customer, params):
    entries = Entry.objects.filter(
        merchant_id=customer.merchant_id, account__customer=customer
    ).select_related("account__program", "receipt")
    kind = params.get("kind", "")
    if kind in EntryKind.values:
        entries = entries.filter(kind=kind)
    start, end = _date(params.get("from", "")), _date(params.get("to", ""))
    if start:
        entries = entries.filter(created_at__date__gte=start)
    if end:
        entries = entries.filter(created_at__date__lte=end)
    page = Paginator(entries.order_by("-created_at", "-id"), PER_PAGE).get_page(
        params.get("entries_page")
    )
    return {"page": page, "kind": kind, "from": params.get("from", ""), "to": params.get("to", "")}


def _receipts(customer, params):
    receipts = receipts_of_customer(merchant=customer.merchant, customer=customer)
    return Paginator(receipts.select_related("store"), PER_PAGE).get_page(
        params.get("receipts_page")
    )


def may_choose_card_type(request) -> bool:
    """A card's type decides its holder's program (balance included), so choosing one is for
    the people of card types and card moves (owner, admin), not for marketers."""
    return request.user.has_perm("customers.change_cardtype")


def _context(request, admin, customer, **extra):
    now = timezone.now()
    member = staff_member(request)
    can_change = admin.has_change_permission(request, customer) and customer.anonymised_at is None
    accounts = _accounts(customer, now)
    program = program_of_customer(customer=customer, merchant=customer.merchant)
    has_account = program is not None and any(
        row["account"].program_id == program.pk for row in accounts
    )
    choose_type = can_change and may_choose_card_type(request)
    return {
        **admin.admin_site.each_context(request),
        "opts": Customer._meta,
        "title": str(customer),
        "customer": customer,
        "cards": customer.cards.select_related("card_type").order_by("-issued_at", "-id"),
        "card_types": (
            CardType.objects.filter(merchant_id=customer.merchant_id)
            .select_related("program")
            .order_by("name")
            if choose_type
            else []
        ),
        "accounts": accounts,
        "program": program,
        "program_account_missing": program is not None and not has_account,
        "receipts": _receipts(customer, request.GET),
        "entries": _entries(customer, request.GET),
        "entry_kinds": EntryKind.choices,
        "can_change": can_change,
        "can_adjust": can_change
        and member is not None
        and member.role in (Role.OWNER, Role.ADMIN, Role.MARKETER),
        "adjust_limit": min(programs.adjust_limit(), bounds.MAX_MANUAL_ADJUSTMENT)
        if member and member.role == Role.MARKETER
        else None,
        "adjust_maximum": bounds.MAX_MANUAL_ADJUSTMENT,
        "expiring_days": EXPIRING_WITHIN_DAYS,
        **extra,
    }


def card_page(request, object_id, admin):
    customer = _customer(request, object_id)
    if not admin.has_view_permission(request, customer):
        raise PermissionDenied
    template = "backoffice/customers/card.html"
    if request.headers.get("HX-Request") and request.GET.get("part") == "history":
        template = "backoffice/customers/_history.html"
    return render(request, template, _context(request, admin, customer))


# ---- actions --------------------------------------------------------------------------------


def _answer(request, admin, customer, part: str, **extra):
    """The changed part for HTMX, else back to the page (with the message shown there)."""
    if request.headers.get("HX-Request"):
        return render(
            request,
            f"backoffice/customers/_{part}.html",
            _context(request, admin, customer, **extra),
        )
    for level, text in extra.get("notes", []):
        messages.add_message(request, level, text)
    return redirect(reverse("admin:customers_customer_card", args=[customer.pk]))


def _changeable(request, admin, object_id) -> Customer:
    customer = _customer(request, object_id)
    if not admin.has_change_permission(request, customer):
        raise PermissionDenied
    return customer


def _card_type(customer, post) -> CardType | None:
    value = post.get("card_type", "").strip()
    return card_types.card_type_get(merchant=customer.merchant, pk=value) if value else None


def _issue(customer, post, actor) -> str:
    card, secret = customers.card_issue(
        customer=customer,
        kind=Card.Kind.VIRTUAL,
        actor=actor,
        card_type=_card_type(customer, post),
    )
    return gettext("Virtual card %(number)s issued, secret code %(code)s.") % {
        "number": card.number,
        "code": secret,
    }


def _attach(customer, post, actor) -> str:
    """A plastic card typed or scanned; its secret code as printed, or generated here."""
    card, secret = customers.card_issue(
        customer=customer,
        kind=Card.Kind.PLASTIC,
        number=post.get("number", ""),
        secret=post.get("secret", "") or None,
        actor=actor,
        card_type=_card_type(customer, post),
    )
    if secret is None:
        return gettext("Card %(number)s attached.") % {"number": card.number}
    return gettext("Card %(number)s attached, secret code %(code)s.") % {
        "number": card.number,
        "code": secret,
    }


def _block(card, post, actor) -> None:
    customers.card_block(card=card, actor=actor)


def _unblock(card, post, actor) -> None:
    customers.card_unblock(card=card, actor=actor)


def _reissue(card, post, actor) -> str:
    """Onto a new plastic card when its number is given, else onto a new virtual one."""
    new, secret = customers.card_reissue(
        card=card,
        actor=actor,
        new_number=post.get("number", "").strip() or None,
        secret=post.get("secret", "") or None,
    )
    if secret is None:
        return gettext("Card %(old)s replaced by %(number)s.") % {
            "old": card.number,
            "number": new.number,
        }
    return gettext("Card %(old)s replaced by %(number)s, secret code %(code)s.") % {
        "old": card.number,
        "number": new.number,
        "code": secret,
    }


def _new_secret(card, post, actor) -> str:
    secret = customers.card_regenerate_secret(card=card, actor=actor)
    return gettext("New secret code of card %(number)s: %(code)s.") % {
        "number": card.number,
        "code": secret,
    }


NEW_CARD_ACTIONS = {"issue": _issue, "attach": _attach}
CARD_ACTIONS = {"block": _block, "unblock": _unblock, "reissue": _reissue, "secret": _new_secret}


def _program_note(before: int | None, after: int | None) -> str | None:
    """Said when a card of another program's type moved the customer there."""
    if after is None or after == before:
        return None
    return gettext("The customer is now in the program %(program)s; the balance went along.") % {
        "program": Program.objects.get(pk=after).name
    }


@require_POST
def card_action(request, object_id, admin, action, card_id=None):
    """Issue a virtual card, attach a plastic one, or act on one of the customer's cards; a
    generated secret code is shown once, in the answer."""
    customer = _changeable(request, admin, object_id)
    actor = request_actor(request)
    if action in NEW_CARD_ACTIONS:
        if request.POST.get("card_type") and not may_choose_card_type(request):
            raise PermissionDenied
        run = partial(NEW_CARD_ACTIONS[action], customer, request.POST)
    else:
        card = Card.objects.filter(
            merchant_id=customer.merchant_id, customer=customer, pk=card_id
        ).first()
        if card is None or action not in CARD_ACTIONS:
            raise Http404
        run = partial(CARD_ACTIONS[action], card, request.POST)
    try:
        with transaction.atomic():
            before = card_types.program_id_of(customer)
            done = run(actor)
            moved = _program_note(before, card_types.program_id_of(customer))
    except KopilkaError as error:
        notes = [(messages.ERROR, str(error.message))]
    else:
        notes = [(messages.SUCCESS, text) for text in (done, moved) if text]
    return _answer(request, admin, customer, "cards", notes=notes)


def _enrolment_note(done: programs.Enrolment) -> str:
    program = done.account.program.name
    said = []
    if done.created:
        said.append(gettext("Bonus account opened in %(program)s.") % {"program": program})
    if done.welcome:
        said.append(gettext("Welcome bonus: %(amount)s.") % {"amount": money(done.welcome)})
    if not said:
        return gettext("The customer already has a bonus account in %(program)s.") % {
            "program": program
        }
    return " ".join(said)


@require_POST
def open_account(request, object_id, admin):
    """The customer's account in their program, with the welcome bonus
    (programs.services.customer_program_account_open)."""
    customer = _changeable(request, admin, object_id)
    try:
        done = programs.customer_program_account_open(
            customer=customer, actor=request_actor(request)
        )
    except KopilkaError as error:
        notes = [(messages.ERROR, str(error.message))]
    else:
        notes = [(messages.SUCCESS, _enrolment_note(done))]
    return _answer(request, admin, customer, "accounts", notes=notes)


@require_POST
def adjust(request, object_id, admin):
    """A manual credit or debit; account "new" is the customer's program's account that is
    not there yet (a credit opens it)."""
    customer = _changeable(request, admin, object_id)
    member = staff_member(request)
    chosen = request.POST.get("account", "")
    if chosen == "new":
        target = {"customer": customer}
    else:
        account = accounts_of_customer(customer).filter(pk=chosen if chosen.isdigit() else 0)
        target = {"account": account.first()}
    if None in target.values():
        target = {}
    amount = minor_units(request.POST.get("amount", ""))
    reason = request.POST.get("reason", "").strip()
    sign = -1 if request.POST.get("direction") == "debit" else 1
    notes = []
    if not target:
        notes.append((messages.ERROR, gettext("Choose an account.")))
    elif amount is None or amount <= 0:
        notes.append((messages.ERROR, gettext("Enter a positive amount.")))
    elif amount > bounds.MAX_MANUAL_ADJUSTMENT:
        notes.append(
            (
                messages.ERROR,
                gettext("Enter at most %(maximum)s: a larger change by hand is refused.")
                % {"maximum": money(bounds.MAX_MANUAL_ADJUSTMENT)},
            )
        )
    elif not reason:
        notes.append((messages.ERROR, gettext("A manual change of bonuses needs a reason.")))
    else:
        try:
            programs.balance_adjust(
                amount=sign * amount,
                reason=reason,
                role=member.role if member else "",
                actor=request_actor(request),
                **target,
            )
            notes.append(
                (
                    messages.SUCCESS,
                    gettext("Balance changed by %(amount)s.")
                    % {"amount": points(sign * amount, sign=True)},
                )
            )
        except KopilkaError as error:
            notes.append((messages.ERROR, str(error.message)))
    return _answer(request, admin, customer, "accounts", notes=notes)


@require_POST
def status_action(request, object_id, admin, action):
    """Confirm a pending customer (with the welcome bonus, as the till's confirmation), block
    or unblock one with a reason. Answered by reloading the page: status, accounts and
    history all change."""
    customer = _changeable(request, admin, object_id)
    actor = request_actor(request)
    reason = request.POST.get("reason", "").strip()
    try:
        if action == "confirm":
            done = programs.customer_activate(customer=customer, actor=actor)
            text = gettext("The customer is confirmed.")
            if done is not None:
                text += " " + _enrolment_note(done)
        elif action in ("block", "unblock") and not reason:
            messages.error(request, gettext("Say why the customer's status changes."))
            text = None
        elif action == "block":
            customers.customer_block(customer=customer, actor=actor, reason=reason)
            text = gettext("The customer is blocked: bonuses can neither be earned nor spent.")
        elif action == "unblock":
            customers.customer_unblock(customer=customer, actor=actor, reason=reason)
            text = gettext("The customer is active again.")
        else:
            raise Http404
    except KopilkaError as error:
        messages.error(request, str(error.message))
    else:
        if text:
            messages.success(request, text)
    return redirect(reverse("admin:customers_customer_card", args=[customer.pk]))


def anonymise(request, object_id, admin):
    customer = _changeable(request, admin, object_id)
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        customers.customer_anonymise(
            customer=customer, actor=request_actor(request), reason=request.POST.get("reason", "")
        )
        messages.success(request, gettext("The customer's personal data was erased."))
        return redirect(reverse("admin:customers_customer_card", args=[customer.pk]))
    return render(
        request,
        "backoffice/customers/anonymise.html",
        {
            **admin.admin_site.each_context(request),
            "opts": Customer._meta,
            "title": _("Anonymise customer"),
            "customer": customer,
        },
    )


def urls(admin):
    """URL patterns of the card page, wired under the Customer admin's get_urls."""
    view = admin.admin_site.admin_view

    def bind(func, **fixed):
        return view(lambda request, **kw: func(request, admin=admin, **fixed, **kw))

    return [
        path("<int:object_id>/card/", bind(card_page), name="customers_customer_card"),
        path("<int:object_id>/card/adjust/", bind(adjust), name="customers_customer_adjust"),
        path(
            "<int:object_id>/card/accounts/open/",
            bind(open_account),
            name="customers_customer_account_open",
        ),
        path(
            "<int:object_id>/card/status/<str:action>/",
            bind(status_action),
            name="customers_customer_status",
        ),
        path(
            "<int:object_id>/card/anonymise/", bind(anonymise), name="customers_customer_anonymise"
        ),
        path(
            "<int:object_id>/card/cards/issue/",
            bind(card_action, action="issue"),
            name="customers_customer_card_issue",
        ),
        path(
            "<int:object_id>/card/cards/attach/",
            bind(card_action, action="attach"),
            name="customers_customer_card_attach",
        ),
        path(
            "<int:object_id>/card/cards/<int:card_id>/<str:action>/",
            bind(card_action),
            name="customers_customer_card_action",
        ),
    ]

"""The customer card page of the back office: details, cards, accounts, level, purchase and
ledger history, manual credit/debit within the role's limit, anonymisation. Actions answer
with the part of the page they change (HTMX) or, without HTMX, redirect back to the page."""

from __future__ import annotations

import datetime
from decimal import Decimal
from functools import partial

from django.conf import settings
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

from kopilka.customers import services as customers
from kopilka.customers import stats
from kopilka.customers.exceptions import CustomerNotFound
from kopilka.customers.models import Card, Customer
from kopilka.customers.selectors import customer_get
from kopilka.errors import KopilkaError
from kopilka.ledger import locks
from kopilka.ledger import services as ledger
from kopilka.ledger.models import Entry, EntryKind
from kopilka.ledger.selectors import account_balance, accounts_of_customer, lots_expiring
from kopilka.merchants.models import Role
from kopilka.pos.selectors import customer_activity, receipts_of_customer
from kopilka.programs.selectors import manual_level_id, to_rules
from kopilka.rules.levels import standing

from .customer_filters import minor_units
from .scoping import request_actor, request_merchant, staff_member

EXPIRING_WITHIN_DAYS = 30
PER_PAGE = 20


def adjust_limit() -> int:
    return getattr(settings, "KOPILKA_MARKETER_ADJUST_LIMIT", 100000)


class AdjustNotAllowed(KopilkaError):
    code = "adjust_not_allowed"
    status = 403
    default_message = _("Your role may not change balances by hand.")


class AdjustLimitExceeded(KopilkaError):
    code = "adjust_limit_exceeded"
    status = 403
    default_message = _("The amount is above the limit of your role for one operation.")


@transaction.atomic
def balance_adjust(*, account, amount: int, reason: str, role: str, actor, now=None) -> list:
    """Manual credit (amount > 0) or debit (< 0) by a staff member, within the limit of the
    role: auditors and cashiers none, marketers up to KOPILKA_MARKETER_ADJUST_LIMIT per
    operation. Audited by ledger.manual_adjust; the list's balance snapshot follows."""
    if role not in (Role.OWNER, Role.ADMIN, Role.MARKETER):
        raise AdjustNotAllowed()
    if role == Role.MARKETER and abs(amount) > adjust_limit():
        raise AdjustLimitExceeded(limit=adjust_limit(), amount=amount)
    [locked] = locks.lock_accounts([account.pk])
    entries = ledger.manual_adjust(
        account=locked, amount=amount, actor=actor, reason=reason, now=now
    )
    stats.refresh_customer_balances([account.customer_id], now=now or timezone.now())
    return entries


# ---- reading the page -----------------------------------------------------------------------


def _customer(request, object_id) -> Customer:
    merchant = request_merchant(request)
    if merchant is None:
        raise Http404
    try:
        return customer_get(merchant=merchant, pk=object_id)
    except CustomerNotFound:
        raise Http404 from None


def _level(customer, account, now):
    """Level held now and the distance to the next one, as the till computes it, with the
    share of the next level's spend (or visits) already reached, in percent."""
    levels = to_rules(account.program).levels
    if not levels:
        return None, None
    windows = {level.window_days for level in levels}
    held = standing(
        levels,
        dict(customer_activity(customer=customer, windows=windows, now=now)),
        frozenset(customer.groups.values_list("pk", flat=True)),
        manual_level_id(customer=customer, program=account.program, now=now),
    )
    following = held.next
    if following is None:
        return held, None
    target = next(level for level in levels if level.id == following.level_id)
    shares = []
    if following.spend is not None and target.min_spend:
        shares.append(1 - following.spend / target.min_spend)
    if following.visits is not None and target.min_visits:
        shares.append(1 - following.visits / target.min_visits)
    return held, round(100 * max(shares)) if shares else None


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
        level, progress = _level(customer, account, now)
        rows.append(
            {
                "account": account,
                "balance": account_balance(account, now=now),
                "expiring": expiring,
                "expiring_total": sum(lot.remaining for lot in expiring),
                "level": level,
                "progress": progress,
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


def _context(request, admin, customer, **extra):
    now = timezone.now()
    member = staff_member(request)
    can_change = admin.has_change_permission(request, customer) and customer.anonymised_at is None
    return {
        **admin.admin_site.each_context(request),
        "opts": Customer._meta,
        "title": str(customer),
        "customer": customer,
        "cards": customer.cards.select_related("card_type").order_by("-issued_at", "-id"),
        "accounts": _accounts(customer, now),
        "receipts": _receipts(customer, request.GET),
        "entries": _entries(customer, request.GET),
        "entry_kinds": EntryKind.choices,
        "can_change": can_change,
        "can_adjust": can_change
        and member is not None
        and member.role in (Role.OWNER, Role.ADMIN, Role.MARKETER),
        "adjust_limit": adjust_limit() if member and member.role == Role.MARKETER else None,
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


def _issue(customer, actor) -> str:
    card, secret = customers.card_issue(customer=customer, kind=Card.Kind.VIRTUAL, actor=actor)
    return gettext("Virtual card %(number)s issued, secret code %(code)s.") % {
        "number": card.number,
        "code": secret,
    }


def _block(card, actor) -> None:
    customers.card_block(card=card, actor=actor)


def _unblock(card, actor) -> None:
    customers.card_unblock(card=card, actor=actor)


def _reissue(card, actor) -> str:
    new, secret = customers.card_reissue(card=card, actor=actor)
    return gettext("Card %(old)s replaced by %(number)s, secret code %(code)s.") % {
        "old": card.number,
        "number": new.number,
        "code": secret,
    }


def _new_secret(card, actor) -> str:
    secret = customers.card_regenerate_secret(card=card, actor=actor)
    return gettext("New secret code of card %(number)s: %(code)s.") % {
        "number": card.number,
        "code": secret,
    }


CARD_ACTIONS = {"block": _block, "unblock": _unblock, "reissue": _reissue, "secret": _new_secret}


@require_POST
def card_action(request, object_id, admin, action, card_id=None):
    """Issue a virtual card, or act on one of the customer's cards; a generated secret code
    is shown once, in the answer."""
    customer = _changeable(request, admin, object_id)
    actor = request_actor(request)
    if action == "issue":
        run = partial(_issue, customer)
    else:
        card = Card.objects.filter(
            merchant_id=customer.merchant_id, customer=customer, pk=card_id
        ).first()
        if card is None or action not in CARD_ACTIONS:
            raise Http404
        run = partial(CARD_ACTIONS[action], card)
    try:
        done = run(actor)
    except KopilkaError as error:
        notes = [(messages.ERROR, str(error.message))]
    else:
        notes = [(messages.SUCCESS, done)] if done else []
    return _answer(request, admin, customer, "cards", notes=notes)


@require_POST
def adjust(request, object_id, admin):
    customer = _changeable(request, admin, object_id)
    member = staff_member(request)
    account = accounts_of_customer(customer).filter(pk=request.POST.get("account") or 0).first()
    amount = minor_units(request.POST.get("amount", ""))
    reason = request.POST.get("reason", "").strip()
    sign = -1 if request.POST.get("direction") == "debit" else 1
    notes = []
    if account is None:
        notes.append((messages.ERROR, gettext("Choose an account.")))
    elif amount is None or amount <= 0:
        notes.append((messages.ERROR, gettext("Enter a positive amount.")))
    elif not reason:
        notes.append((messages.ERROR, gettext("A manual change of bonuses needs a reason.")))
    else:
        try:
            balance_adjust(
                account=account,
                amount=sign * amount,
                reason=reason,
                role=member.role if member else "",
                actor=request_actor(request),
            )
            notes.append(
                (
                    messages.SUCCESS,
                    gettext("Balance changed by %(amount)s.")
                    % {"amount": f"{Decimal(sign * amount) / 100:+.2f}"},
                )
            )
        except KopilkaError as error:
            notes.append((messages.ERROR, str(error.message)))
    return _answer(request, admin, customer, "accounts", notes=notes)


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
            "<int:object_id>/card/anonymise/", bind(anonymise), name="customers_customer_anonymise"
        ),
        path(
            "<int:object_id>/card/cards/issue/",
            bind(card_action, action="issue"),
            name="customers_customer_card_issue",
        ),
        path(
            "<int:object_id>/card/cards/<int:card_id>/<str:action>/",
            bind(card_action),
            name="customers_customer_card_action",
        ),
    ]

"""Who may work the till and at which register: the signed-in staff member's role and the
store and register chosen for this browser session.

Cashiers work the till; owners and administrators may too (they cover tills when the shop is
busy). Marketers and auditors may not: they are refused with a page saying so.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.shortcuts import redirect, render
from django.urls import reverse

from kopilka.backoffice.scoping import staff_member
from kopilka.merchants.actors import Actor
from kopilka.merchants.models import Merchant, Register, Role, StaffMember

TILL_ROLES = frozenset({Role.CASHIER, Role.OWNER, Role.ADMIN})
SESSION_REGISTER = "kopilka_cashier_register"


@dataclass(frozen=True)
class Till:
    """The staff member at the till and the register they work."""

    member: StaffMember
    register: Register

    @property
    def merchant(self) -> Merchant:
        return self.member.merchant

    @property
    def actor(self) -> Actor:
        return Actor.user(self.member.user)


def registers_of(merchant: Merchant):
    """The registers a till session may choose: active ones in active stores."""
    return (
        Register.objects.filter(merchant=merchant, is_active=True, store__is_active=True)
        .select_related("store")
        .order_by("store__name", "store_id", "name", "id")
    )


def session_register(request, merchant: Merchant) -> Register | None:
    """The register chosen in this session; a merchant's only register needs no choosing."""
    register_id = request.session.get(SESSION_REGISTER)
    if register_id is not None:
        return registers_of(merchant).filter(pk=register_id).first()
    registers = list(registers_of(merchant)[:2])
    if len(registers) != 1:
        return None
    request.session[SESSION_REGISTER] = registers[0].pk
    return registers[0]


def _redirect(request, url: str):
    """A redirect that also works for HTMX requests (they follow HX-Redirect, not 302)."""
    if request.headers.get("HX-Request"):
        response = redirect(url)
        response.status_code = 204
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def till_member_required(view):
    """Signed in as staff with a till role; others are sent to sign in or refused."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return _redirect(request, f"{reverse('cashier:login')}?next={request.path}")
        member = staff_member(request)
        if member is None or member.role not in TILL_ROLES:
            return render(request, "cashier/refused.html", {"member": member}, status=403)
        request.staff_member = member
        return view(request, *args, **kwargs)

    return wrapped


def till_required(view):
    """As till_member_required, with a register chosen: the view gets `request.till`."""

    @functools.wraps(view)
    @till_member_required
    def wrapped(request, *args, **kwargs):
        register = session_register(request, request.staff_member.merchant)
        if register is None:
            return _redirect(request, reverse("cashier:choose"))
        request.till = Till(member=request.staff_member, register=register)
        return view(request, *args, **kwargs)

    return wrapped

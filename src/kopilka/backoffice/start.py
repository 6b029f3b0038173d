"""The start page of a new merchant: the few things to set up before the first sale, each a
link to the page that does it, ticked once done. An owner whose merchant has no program yet
lands here when signing in."""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.shortcuts import redirect, resolve_url
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from kopilka.merchants.models import Register, Role, StaffMember, Store
from kopilka.programs.models import Program
from kopilka.sales.models import Receipt

from .scoping import staff_member

# Who sets the merchant up (the start page is theirs; others go to the dashboard).
SETTING_UP = (Role.OWNER, Role.ADMIN)


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    what: str
    link: str
    action: str
    done: bool


def start_steps(merchant) -> list[Step]:
    has_program = Program.objects.filter(merchant=merchant).exists()
    return [
        Step(
            "program",
            _("A loyalty program"),
            _("Start from a template: bonuses, levels, steps or a discount, ready to adjust."),
            reverse("admin:programs_program_from_template")
            if not has_program
            else reverse("admin:programs_program_changelist"),
            _("Choose a template") if not has_program else _("Your programs"),
            has_program,
        ),
        Step(
            "stores",
            _("Stores"),
            _("Where you sell: each store's address and whether it takes bonuses as payment."),
            reverse("admin:merchants_store_changelist"),
            _("Stores"),
            Store.objects.filter(merchant=merchant).exists(),
        ),
        Step(
            "registers",
            _("Registers and their keys"),
            _(
                "Each till of a store, with the API key it signs its requests with (issue it "
                "from the list: select the register, then “Issue a new API key”)."
            ),
            reverse("admin:merchants_register_changelist"),
            _("Registers"),
            Register.objects.filter(merchant=merchant).exclude(key_hash="").exists(),
        ),
        Step(
            "cashiers",
            _("Cashiers"),
            _("The people at the tills: each signs in to the cashier screen with their own name."),
            reverse("admin:merchants_staffmember_changelist"),
            _("Staff"),
            StaffMember.objects.filter(merchant=merchant, role=Role.CASHIER).exists(),
        ),
        Step(
            "sale",
            _("Try a sale at the till"),
            _("Find or add a customer on the cashier screen and ring up a receipt."),
            reverse("cashier:till"),
            _("Open the cashier screen"),
            Receipt.objects.filter(merchant=merchant).exists(),
        ),
    ]


def start_page(request):
    from django.contrib import admin

    member = staff_member(request)
    if member is None or member.role not in SETTING_UP:
        return redirect("admin:index")
    steps = start_steps(member.merchant)
    context = {
        **admin.site.each_context(request),
        "title": _("Getting started"),
        "merchant": member.merchant,
        "steps": steps,
        "done": sum(step.done for step in steps),
    }
    return TemplateResponse(request, "backoffice/start.html", context)


def needs_start(request) -> bool:
    """An owner whose merchant has no program yet: the start page, not the dashboard."""
    member = staff_member(request)
    return (
        member is not None
        and member.role == Role.OWNER
        and not Program.objects.filter(merchant=member.merchant).exists()
    )


def login_then_start(login):
    """Wrap the admin site's sign-in view: an owner whose merchant has no program yet, signing
    in for the dashboard, lands on the start page instead (a sign-in for another page goes
    there as asked)."""

    @wraps(login)
    def view(request, extra_context=None):
        response = login(request, extra_context)
        # Without a page asked for, a sign-in goes to LOGIN_REDIRECT_URL ("/", which sends
        # staff to the dashboard), or to the dashboard itself when asked for it.
        front = {reverse("admin:index"), resolve_url(settings.LOGIN_REDIRECT_URL)}
        if request.method == "POST" and response.status_code == 302 and response.url in front:
            request.__dict__.pop("_kopilka_staff", None)  # looked up before the sign-in
            if needs_start(request):
                return redirect("start")
        return response

    return view

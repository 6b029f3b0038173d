"""The cashier screen: sign in, choose the register, and the till, whose every action answers
with HTMX partials (the customer panel, the receipt panel, the message bar).

Views read the posted draft (kopilka.cashier.draft), call the POS services and the customer
desk (kopilka.sales.desk) exactly as the POS API does, and render. A service error becomes a
message in the message bar with the error's status; nothing else on the screen changes.
"""

from __future__ import annotations

import functools
import logging
import uuid
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth import logout as auth_logout
from django.contrib.auth import views as auth_views
from django.core.exceptions import SuspiciousOperation
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from pydantic import ValidationError as SchemaError

from kopilka import bounds
from kopilka.catalog.exceptions import ProductNotFound
from kopilka.catalog.selectors import category_get, product_get
from kopilka.customers.exceptions import CardNotFound
from kopilka.customers.models import Card
from kopilka.customers.selectors import card_get_by_number, customer_get
from kopilka.errors import KopilkaError, ValidationFailed
from kopilka.limits import ratelimit
from kopilka.merchants.sign_in import TillSignInForm
from kopilka.pos.schemas import RefundIn, RefundLineIn
from kopilka.programs.selectors import program_for_receipts, program_of_customer
from kopilka.programs.standing import customer_standing
from kopilka.sales import desk
from kopilka.sales import services as pos
from kopilka.sales.resolve import count_lookup
from kopilka.sales.selectors import receipt_get

from . import selectors
from .draft import FREE_AMOUNT_SKU, Draft, DraftLine, parse_money, parse_qty
from .forms import EditCustomerForm, RegisterCustomerForm
from .templatetags.cashier import money
from .till import SESSION_REGISTER, registers_of, till_member_required, till_required

logger = logging.getLogger(__name__)

SERVER_FAULT = _(
    "The server failed on this request. The receipt is kept: try again, and tell the "
    "administrator if it repeats."
)


class UnknownCode(KopilkaError):
    code = "unknown_code"
    status = 404
    default_message = _("Nothing has this code: it is neither a product barcode nor a card.")


class ReceiptIncomplete(ValidationFailed):
    code = "receipt_incomplete"
    default_message = _("Add at least one line and enter the price of every line.")


class NothingChosen(ValidationFailed):
    code = "nothing_chosen"
    default_message = _("Enter the quantity to refund on at least one line.")


class InvalidDay(ValidationFailed):
    code = "invalid_day"
    default_message = _("Enter the day of the purchase, not later than today.")


class AmbiguousProduct(ValidationFailed):
    code = "ambiguous_product"
    default_message = _("Several products match: choose one from the list.")


# --- rendering -------------------------------------------------------------------------------


def _html(request, template: str, context: dict) -> str:
    return render_to_string(template, context, request=request)


def _answer(request, *parts: str, status: int = 200) -> HttpResponse:
    """Partials for HTMX (each swaps itself out of band, by id), with the message bar
    cleared: the action went through."""
    cleared = _html(request, "cashier/_message.html", {})
    return HttpResponse("".join(parts) + cleared, status=status)


def answers_errors(view):
    """A service error becomes a message in the message bar, with the error's status."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except KopilkaError as error:
            message, status = error.message, error.status
        except SchemaError:
            message, status = ValidationFailed.default_message, ValidationFailed.status
        except SuspiciousOperation:
            raise  # Django's own answer (an oversized post: kopilka.bad_requests' 413)
        except Exception:
            # A fault of ours: logged with its trace, and told to the cashier in words (the
            # screen shows the message bar of a failed answer too), never as "no answer".
            logger.exception("cashier view %s failed", view.__name__)
            message, status = SERVER_FAULT, 500
        return render(request, "cashier/_message.html", {"message": message}, status=status)

    return wrapped


def _customer_panel(request, customer=None, card=None, **extra) -> str:
    context = dict(extra)
    if customer is not None:
        merchant, now = request.till.merchant, timezone.now()
        program = program_of_customer(customer=customer, merchant=merchant, card=card)
        context.update(
            customer=desk.customer_summary(customer, card=card, now=now),
            standing=customer_standing(customer=customer, program=program, now=now),
            program_id=program.pk if program else None,
        )
    return _html(request, "cashier/_customer.html", context)


def _receipt_panel(request, draft: Draft, *, focus: str = "search") -> str:
    """The receipt with its live quote. `focus`: "search" (the product field), "price" (the
    first line still without a price, else the search) or "" (leave the focus alone)."""
    till = request.till
    quote = None
    if draft.priced_lines:
        quote = pos.receipt_quote(register=till.register, data=draft.quote_in())
    outcomes = iter(quote["lines"] if quote else [])
    rows = [
        {
            "index": index,
            "line": line,
            "outcome": next(outcomes) if line.price is not None else None,
            "focus": False,
        }
        for index, line in enumerate(draft.lines)
    ]
    if focus == "price":
        missing = next((row for row in rows if row["line"].price is None), None)
        focus = "" if missing is not None else "search"
        if missing is not None:
            missing["focus"] = True
    spend, spend_error = draft.spend, ""
    if quote is not None:
        totals = quote["totals"]
        if draft.spend_max:
            spend = totals["bonus_spent"]
        elif draft.spend > totals["bonus_spent"]:
            spend_error = _("At most %(max)s can be paid with bonuses on this receipt.") % {
                "max": money(totals["max_spend"])
            }
    return _html(
        request,
        "cashier/_receipt.html",
        {
            "draft": draft,
            "rows": rows,
            "quote": quote,
            "spend": spend,
            "spend_error": spend_error,
            "can_confirm": draft.complete and not spend_error,
            "categories": selectors.categories_for_amounts(merchant=till.merchant),
            "focus": focus,
        },
    )


def _draft(request) -> Draft:
    return Draft.from_post(request.POST)


# --- sign in and the register ----------------------------------------------------------------


class LoginView(auth_views.LoginView):
    template_name = "cashier/login.html"
    authentication_form = TillSignInForm
    redirect_authenticated_user = True
    next_page = "cashier:till"


@require_POST
def logout(request):
    """Sign out; the chosen register goes with the session."""
    auth_logout(request)
    return redirect("cashier:login")


@till_member_required
@require_http_methods(["GET", "POST"])
def choose(request):
    """Choose the store and register this browser works at (kept in the session)."""
    registers = list(registers_of(request.staff_member.merchant))
    error = ""
    if request.method == "POST":
        chosen = next((r for r in registers if str(r.pk) == request.POST.get("register")), None)
        if chosen is not None:
            request.session[SESSION_REGISTER] = chosen.pk
            return redirect("cashier:till")
        error = _("Choose one of your registers.")
    stores: dict = {}
    for register in registers:
        stores.setdefault(register.store, []).append(register)
    current = request.session.get(SESSION_REGISTER)
    return render(
        request,
        "cashier/choose.html",
        {"stores": stores, "error": error, "current": current},
        status=422 if error else 200,
    )


# --- the till --------------------------------------------------------------------------------


@till_required
@require_GET
def till(request):
    draft = Draft.new()
    return render(
        request,
        "cashier/till.html",
        {
            "customer_panel": _customer_panel(request),
            "receipt_panel": _receipt_panel(request, draft),
            "till": request.till,
        },
    )


@till_required
@require_GET
def fresh(request):
    """A new receipt for a new customer (Esc)."""
    return _answer(
        request,
        _customer_panel(request, focus=True),
        _receipt_panel(request, Draft.new(), focus=""),
    )


def _identified(request, draft: Draft, customer, card, **extra) -> HttpResponse:
    draft = draft.with_customer(customer.pk, card.number if card is not None else "")
    return _answer(
        request,
        _customer_panel(request, customer, card, **extra),
        _receipt_panel(request, draft),
    )


def _register_bucket(request) -> str:
    return f"register:{request.till.register.pk}"


@till_required
@require_POST
@answers_errors
def identify(request):
    """By phone in any spelling, card number, e-mail, name or code word."""
    draft = _draft(request)
    count_lookup(request.till.register.pk, query=request.POST.get("q", ""))
    customer, card = desk.customer_identify_typed(request.till.merchant, request.POST.get("q", ""))
    return _identified(request, draft, customer, card)


@till_required
@require_POST
@answers_errors
def customer_clear(request):
    draft = _draft(request).with_customer(None)
    return _answer(
        request, _customer_panel(request, focus=True), _receipt_panel(request, draft, focus="")
    )


@till_required
@require_http_methods(["GET", "POST"])
@answers_errors
def customer_new(request):
    """Register a customer in place; with confirmation required, ask for the code next."""
    # What the merchant's program asks of a new customer (a card type's program is checked
    # again by the service, which knows the card).
    required = desk.details_asked(program_for_receipts(merchant=request.till.merchant))
    if request.method == "GET":
        form = RegisterCustomerForm(required=required)
        return _answer(request, _html(request, "cashier/_register.html", {"form": form}))
    form = RegisterCustomerForm(request.POST, required=required)
    if not form.is_valid():
        return _answer(
            request, _html(request, "cashier/_register.html", {"form": form}), status=422
        )
    ratelimit.hit("register", _register_bucket(request))
    count_lookup(
        request.till.register.pk,
        phone=form.cleaned_data.get("phone"),
        email=form.cleaned_data.get("email"),
    )
    customer, cards, code = desk.customer_register_at_till(
        merchant=request.till.merchant,
        actor=request.till.actor,
        now=timezone.now(),
        **form.cleaned_data,
    )
    # A secret code generated here is told to the customer now: it is stored hashed only.
    issued = [
        {"number": card.number, "secret": secret, "virtual": card.kind == Card.Kind.VIRTUAL}
        for card, secret in cards
    ]
    if code is not None:
        return _answer(request, _code_form(request, customer, code, issued=issued))
    return _identified(
        request, _draft(request), customer, cards[0][0] if cards else None, issued=issued
    )


def _code_form(request, customer, code, **extra) -> str:
    return _html(
        request,
        "cashier/_code.html",
        {
            "customer_id": customer.pk,
            "sent_to": desk.mask_address(customer, code.channel),
            "expires_at": code.expires_at,
            **extra,
        },
    )


def _card_of_draft(request, draft: Draft, customer):
    """The card the receipt's customer was identified by, when the draft names one of theirs:
    it keeps deciding the program after the panel is drawn again."""
    if draft.customer_id != customer.pk or not draft.customer_card:
        return None
    try:
        card = card_get_by_number(merchant=request.till.merchant, number=draft.customer_card)
    except CardNotFound:
        return None
    return card if card.customer_id == customer.pk else None


@till_required
@require_POST
@answers_errors
def customer_code(request, customer_id: int):
    """Check the one-time code the customer received: right after registration, or when a
    customer still awaiting confirmation is found later."""
    ratelimit.hit("code", _register_bucket(request))
    customer = customer_get(merchant=request.till.merchant, pk=customer_id)
    customer = desk.customer_confirm_with_code(
        customer=customer,
        code=request.POST.get("code", ""),
        actor=request.till.actor,
        now=timezone.now(),
    )
    draft = _draft(request)
    return _identified(
        request, draft, customer, _card_of_draft(request, draft, customer), confirmed=True
    )


@till_required
@require_POST
@answers_errors
def customer_code_resend(request, customer_id: int):
    """Send a new one-time code. Asked from the panel of a customer found later
    (`panel=customer`), the panel is drawn again with the code field; right after
    registration, the code form is."""
    ratelimit.hit("code", _register_bucket(request))
    customer = customer_get(merchant=request.till.merchant, pk=customer_id)
    code = desk.confirmation_code_resend(customer=customer, now=timezone.now())
    if request.POST.get("panel") != "customer":
        return _answer(request, _code_form(request, customer, code, resent=True))
    sent = {"sent_to": desk.mask_address(customer, code.channel), "expires_at": code.expires_at}
    card = _card_of_draft(request, _draft(request), customer)
    return _answer(request, _customer_panel(request, customer, card, code_sent=sent))


# Errors of the customers' normalisation that name no field.
_ERROR_FIELDS = {"invalid_phone": "phone", "invalid_email": "email"}


def _edit_form(request, customer, form, error: str = "") -> str:
    return _html(
        request,
        "cashier/_edit.html",
        {
            "form": form,
            "error": error,
            "customer_id": customer.pk,
            "customer": desk.customer_summary(customer),
            "code_word_set": bool(customer.code_word),
        },
    )


@till_required
@require_http_methods(["GET", "POST"])
@answers_errors
def customer_edit(request, customer_id: int):
    """Edit the customer's details in place; the receipt in progress stays as it is. A
    refused change is shown in the form and nothing is saved."""
    customer = customer_get(merchant=request.till.merchant, pk=customer_id)
    if request.method == "GET":
        return _answer(request, _edit_form(request, customer, EditCustomerForm.of(customer)))
    draft = _draft(request)
    card = _card_of_draft(request, draft, customer)
    if request.POST.get("cancel"):
        return _identified(request, draft, customer, card)
    form = EditCustomerForm(request.POST)
    if not form.is_valid():
        return _answer(request, _edit_form(request, customer, form), status=422)
    ratelimit.hit("register", _register_bucket(request))
    try:
        customer = desk.customer_edit_at_till(
            merchant=request.till.merchant,
            customer_id=customer.pk,
            actor=request.till.actor,
            **form.changes(),
        )
    except KopilkaError as error:
        field = error.details.get("field") or _ERROR_FIELDS.get(error.code)
        if field in form.fields:
            form.add_error(field, str(error.message))
            message = ""
        else:
            message = error.message
        return _answer(request, _edit_form(request, customer, form, message), status=error.status)
    return _identified(request, draft, customer, card, edited=True)


@till_required
@require_GET
def products(request):
    """Suggestions for the product search field."""
    found = selectors.products_matching(
        merchant=request.till.merchant, text=request.GET.get("add_query", "")
    )
    prices = selectors.last_prices(
        merchant=request.till.merchant, product_ids=[p.pk for p in found]
    )
    return render(
        request,
        "cashier/_suggestions.html",
        {"products": [(p, prices.get(p.pk)) for p in found]},
    )


def _product_line(request, product) -> DraftLine:
    """One unit of the product at the price it last sold at (None: the cashier types it)."""
    prices = selectors.last_prices(merchant=request.till.merchant, product_ids=[product.pk])
    return DraftLine(
        sku=product.sku, name=product.name, qty=Decimal(1), price=prices.get(product.pk)
    )


@till_required
@require_POST
@answers_errors
def receipt(request):
    """Change the receipt: add a product (chosen, or named by the search field) or a free
    amount, or remove a line; with none of these, quote what was edited."""
    draft = _draft(request)
    merchant = request.till.merchant
    post = request.POST
    if post.get("add_product"):
        product = product_get(merchant=merchant, pk=post["add_product"])
        draft = draft.with_line(_product_line(request, product))
    elif post.get("add_query", "").strip():
        draft = draft.with_line(_product_line(request, _one_product(merchant, post["add_query"])))
    elif post.get("free_category"):
        category = category_get(merchant=merchant, pk=post["free_category"])
        draft = draft.with_line(
            DraftLine(
                sku=f"FREE-{category.pk}",
                name=category.name,
                qty=Decimal(1),
                price=parse_money(post.get("free_amount", ""), bounds.MAX_UNIT_PRICE),
                category=selectors.category_label(category),
            )
        )
    elif "free_amount" in post:
        # A merchant without a catalogue yet (a new one) still sells: an amount of no category.
        draft = draft.with_line(
            DraftLine(
                sku=FREE_AMOUNT_SKU,
                name=str(_("Item at a free price")),
                qty=Decimal(1),
                price=parse_money(post.get("free_amount", ""), bounds.MAX_UNIT_PRICE),
            )
        )
    elif post.get("remove", "").isdigit():
        draft = draft.without_line(int(post["remove"]))
    focused = "" if post.get("requote") else "price"
    return _answer(request, _receipt_panel(request, draft, focus=focused))


def _one_product(merchant, text: str):
    """The product the search field names: its barcode or SKU exactly, else the only match."""
    exact = selectors.product_by_code(merchant=merchant, code=text)
    if exact is not None:
        return exact
    found = selectors.products_matching(merchant=merchant, text=text, limit=2)
    if len(found) > 1:
        raise AmbiguousProduct(query=text)
    if not found:
        raise ProductNotFound(query=text)
    return found[0]


@till_required
@require_POST
@answers_errors
def scan(request):
    """A code from the barcode scanner: a product barcode adds a line, a card number
    identifies the customer."""
    draft = _draft(request)
    code = request.POST.get("code", "").strip()
    product = selectors.product_by_code(merchant=request.till.merchant, code=code)
    if product is not None:
        draft = draft.with_line(_product_line(request, product))
        return _answer(request, _receipt_panel(request, draft, focus="price"))
    count_lookup(request.till.register.pk, card=code)
    try:
        customer, card = desk.customer_identify(request.till.merchant, card=code)
    except KopilkaError as error:
        if error.status != 404:
            raise
        raise UnknownCode(code=code) from None
    return _identified(request, draft, customer, card)


@till_required
@require_POST
@answers_errors
def confirm(request):
    """Book the receipt. The draft's idempotency key makes a double click book once."""
    draft = _draft(request)
    if not draft.complete:
        raise ReceiptIncomplete()
    booked = pos.receipt_confirm(
        register=request.till.register,
        key=draft.key,
        data=draft.confirm_in(cashier=request.user.get_username()),
    )
    customer = None
    if booked["customer_id"] is not None:
        customer = customer_get(merchant=request.till.merchant, pk=booked["customer_id"])
    return _answer(
        request,
        _customer_panel(request, customer),
        _html(request, "cashier/_result.html", {"booked": booked}),
    )


# --- refunds ---------------------------------------------------------------------------------


@till_required
@require_GET
@answers_errors
def refund_start(request):
    """Find the receipt to refund: among the identified customer's latest sales, by its
    number, or by the day and amount on the customer's paper receipt."""
    merchant = request.till.merchant
    customer_id = request.GET.get("customer_id", "")
    receipts = selectors.recent_sales(
        merchant=merchant,
        customer_id=int(customer_id) if customer_id.isdigit() else None,
    )
    number = request.GET.get("number", "").strip()
    day_typed = request.GET.get("day", "").strip()
    amount_typed = request.GET.get("amount", "").strip()
    today = timezone.localdate(timezone=ZoneInfo(merchant.time_zone))
    found, by = None, ""
    if number:
        found, by = selectors.sales_numbered(merchant=merchant, number=number), "number"
        if len(found) == 1:
            return refund_lines(request, found[0].pk)
    elif day_typed or amount_typed:
        day = _refund_day(day_typed, today)
        amount = parse_money(amount_typed, bounds.MAX_RECEIPT_TOTAL) if amount_typed else None
        found, by = selectors.sales_on_day(merchant=merchant, day=day, amount=amount), "day"
    return _answer(
        request,
        _html(
            request,
            "cashier/_refund_find.html",
            {
                "receipts": receipts,
                "found": found,
                "by": by,
                "number": number,
                "day": day_typed or today.isoformat(),
                "today": today.isoformat(),
                "amount": amount_typed,
                "customer_id": customer_id if customer_id.isdigit() else "",
            },
        ),
    )


def _refund_day(typed: str, today) -> date:
    """The day typed in the refund's date field (ISO, as the date input sends it)."""
    if not typed:
        return today
    try:
        day = date.fromisoformat(typed)
    except ValueError:
        raise InvalidDay(field="day", value=typed) from None
    if day > today:
        raise InvalidDay(field="day", value=typed)
    return day


@till_required
@require_GET
@answers_errors
def refund_lines(request, receipt_id: int):
    sale = receipt_get(merchant=request.till.merchant, pk=receipt_id)
    return _answer(
        request,
        _html(
            request,
            "cashier/_refund_lines.html",
            {"sale": sale, "lines": selectors.refundable_lines(sale), "key": str(uuid.uuid4())},
        ),
    )


@till_required
@require_POST
@answers_errors
def refund_book(request, receipt_id: int):
    """Refund everything left, or the quantities entered per line."""
    wanted = None
    if not request.POST.get("everything"):
        wanted = []
        for name, value in request.POST.items():
            if name.startswith("qty_") and name[4:].isdigit() and value.strip() not in ("", "0"):
                wanted.append(RefundLineIn(line_no=int(name[4:]), qty=parse_qty(value)))
        if not wanted:
            raise NothingChosen()
    refunded = pos.receipt_refund(
        register=request.till.register,
        receipt_id=receipt_id,
        key=request.POST.get("key", "")[:128],
        data=RefundIn(lines=sorted(wanted, key=lambda line: line.line_no) if wanted else None),
    )
    result = _html(request, "cashier/_refund_result.html", {"refunded": refunded})
    sale = receipt_get(merchant=request.till.merchant, pk=receipt_id)
    if sale.customer_id is None:
        return _answer(request, result)
    # The customer's panel shows the balance the refund left, as the result does.
    customer = customer_get(merchant=request.till.merchant, pk=sale.customer_id)
    return _answer(request, _customer_panel(request, customer), result)

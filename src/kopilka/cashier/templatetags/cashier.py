"""Template filters of the cashier screen: money in kopecks shown in roubles, quantities,
and the rules engine's reason codes in words."""

from datetime import datetime
from decimal import Decimal

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from kopilka import numfmt
from kopilka.cashier.draft import money_input

register = template.Library()


@register.filter
def money(kopecks) -> str:
    """Kopecks as the active language writes money: "1 234,56"."""
    if kopecks is None or kopecks == "":
        return "—"
    return numfmt.money(int(kopecks))


@register.filter
def money_field(kopecks) -> str:
    """Kopecks as an input's value, as the active language writes it: "1 234,56"."""
    return money_input(kopecks)


@register.filter
def qty(value) -> str:
    """A quantity without trailing zeros, as the active language writes it: "2", "0,35"."""
    if value is None:
        return ""
    return numfmt.number(Decimal(value))


# How the engine's reason codes read to a cashier; `value` is a percent, an amount in kopecks
# (marked *money*) or a count, as docs/pos-api.md lists them.
REASONS = {
    "program_inactive": _("The program is not active: no bonuses on this receipt."),
    "program_not_in_store": _(
        "The program does not work in this store: no bonuses on this receipt."
    ),
    "excluded_no_accrual": _("Earns no bonuses."),
    "excluded_no_discount": _("Takes no discount."),
    "excluded_no_bonus_payment": _("Cannot be paid with bonuses."),
    "program_discount": _("Discount %(value)s."),
    "bonus_cap": _("Up to %(value)s payable with bonuses."),
    "store_refuses_bonus_payment": _("This store does not accept payment with bonuses."),
    "offline_receipt_accrual_only": _("A receipt sent after the fact: bonuses cannot be spent."),
    "customer_cannot_spend": _("The customer cannot spend bonuses (not active)."),
    "spend_capped": _("Asked to spend %(value)s: lowered to what is allowed."),
    "no_accrual_when_paid_with_bonuses": _("No accrual when paying with bonuses."),
    "discounted_line_earns_nothing": _("A discounted item earns no bonuses."),
    "accrual_percent": _("Accrual %(value)s."),
    "bonus_multiplier": _("Campaign: bonuses %(value)s."),
    "extra_percent": _("Campaign: extra %(value)s."),
    "fixed_bonus": _("Campaign bonus %(value)s."),
    "nth_item_free": _("Campaign: every %(value)s-th item free."),
    "gift_item": _("Campaign gift: %(value)s pcs."),
    "accrual_expires": _("The bonuses of this receipt burn on %(value)s."),
}
MONEY_REASONS = {"spend_capped", "fixed_bonus"}
DATE_REASONS = {"accrual_expires"}


@register.filter
def reason_text(reason: dict) -> str:
    code, value = reason.get("code", ""), reason.get("value", "")
    if code in MONEY_REASONS and str(value).isdigit():
        value = money(int(value))
    elif code in DATE_REASONS:
        value = _local_date(value)
    elif isinstance(value, str) and value.endswith("%"):
        value = _local_percent(value)
    text = REASONS.get(code)
    return str(text) % {"value": value} if text is not None else code


def _local_percent(value: str) -> str:
    """The engine's "12.5%" as the active language writes a percent: "12,5 %"."""
    try:
        return numfmt.percent(Decimal(value[:-1]))
    except ArithmeticError:
        return value


def _local_date(value) -> str:
    """An ISO moment as the active language writes a date, in the active time zone."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if timezone.is_aware(moment):
        moment = timezone.localtime(moment)
    return date_format(moment, "SHORT_DATE_FORMAT")

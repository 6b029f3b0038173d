"""Numbers as people write them, in the active language: money, bonus points, percents and
counts. The one place every face (back office, cashier screen, reports, messages) formats a
figure for reading; exports keep raw numbers instead.

    money(123450, "RUB")  -> "1 234,50 ₽"   (ru, uk; "₽1,234.50" in English)
    points(5000, sign=True) -> "+50,00"
    percent(Decimal("30.000")) -> "30 %"   ("30%" in English)
    count(1234) -> "1 234"

Grouping and the decimal mark are Django's formats of the active language (a no-break space,
U+00A0, between groups in Russian and Ukrainian, the same character the browser's Intl uses
there); the place of the percent sign and of the currency symbol is a translated pattern.

Money and points are kept in minor units (kopecks): two decimals on screen. Table cells of
reports are typed (`Money`, `Points`, `Percent`: Decimals, so an export writes them as
numbers) and shown by `cell()`.

The way back is `parse_number`: whatever these functions print ("5 000,00 ₽", "5,000.00")
and what people type ("5000", "89.90", "1 200") read as a Decimal; anything else raises
`NotANumber`. Every money input (the back office's `MoneyField`, the cashier screen, the
customer list's filters, the import of opening balances) reads through it.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal, InvalidOperation

from django.utils.formats import date_format, get_format, number_format
from django.utils.translation import gettext, pgettext

HUNDRED = Decimal(100)
NBSP = "\xa0"

# Currency codes (ISO 4217, as merchants keep them) and their signs; others show the code.
CURRENCY_SIGNS = {
    "RUB": "₽",
    "UAH": "₴",
    "BYN": "Br",
    "KZT": "₸",
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
}


def _decimal(value) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def number(value, decimals: int | None = None) -> str:
    """A number grouped in thousands in the active language; `decimals` fixes the decimals,
    None keeps what the value has (without trailing zeros)."""
    if value is None or value == "":
        return ""
    try:
        amount = _decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
    if decimals is None:
        amount = amount.normalize() if amount != amount.to_integral_value() else amount.quantize(1)
        exponent = amount.as_tuple().exponent
        decimals = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    text = number_format(amount, decimals, force_grouping=True)
    return text


def _signed(text: str, value, sign: bool) -> str:
    return f"+{text}" if sign and value > 0 else text


def units(minor_units) -> Decimal:
    """Minor units (kopecks) as currency units."""
    return Decimal(int(minor_units)) / HUNDRED


def money(minor_units, currency: str | None = None, *, sign: bool = False) -> str:
    """An amount kept in minor units: "1 234,50", or "1 234,50 ₽" with a currency code."""
    if minor_units is None or minor_units == "":
        return ""
    return money_units(units(minor_units), currency, sign=sign)


def money_units(amount, currency: str | None = None, *, sign: bool = False) -> str:
    """An amount already in currency units (a Decimal)."""
    if amount is None or amount == "":
        return ""
    amount = _decimal(amount)
    text = _signed(number(amount, 2), amount, sign)
    if not currency:
        return text
    symbol = CURRENCY_SIGNS.get(currency.upper(), currency.upper())
    # Translators: an amount of money with its currency sign; Russian and Ukrainian put the
    # sign after the number with a no-break space: "%(amount)s %(sign)s".
    pattern = pgettext("money", "%(sign)s%(amount)s")
    if text.startswith(("-", "+")) and pattern.startswith("%(sign)s"):
        return text[0] + pattern % {"sign": symbol, "amount": text[1:]}
    return pattern % {"sign": symbol, "amount": text}


def points(minor_units, *, sign: bool = False) -> str:
    """Bonus points, kept in minor units: "1 234,50"; with sign=True a gain reads "+50,00"."""
    if minor_units is None or minor_units == "":
        return ""
    amount = units(minor_units)
    return _signed(number(amount, 2), amount, sign)


def percent(value, decimals: int = 2) -> str:
    """A percent given in percent units (30 for 30 %): "30 %", "12,5 %"; at most `decimals`
    decimals, trailing zeros dropped."""
    if value is None or value == "":
        return ""
    amount = _decimal(value).quantize(Decimal(1).scaleb(-decimals))
    # Translators: a percent; Russian and Ukrainian put a no-break space before the sign:
    # "%(number)s %%".
    return pgettext("percent", "%(number)s%%") % {"number": number(amount)}


def share(fraction, decimals: int = 2) -> str:
    """A fraction (0.3) as a percent ("30 %")."""
    if fraction is None or fraction == "":
        return ""
    return percent(_decimal(fraction) * HUNDRED, decimals)


def count(value) -> str:
    """A count: "1 234"."""
    if value is None or value == "":
        return ""
    return number(int(value), 0)


class Money(Decimal):
    """A table cell: an amount in currency units, shown as money, exported as a number."""

    __slots__ = ()

    @classmethod
    def of(cls, minor_units) -> Money:
        return cls(units(minor_units or 0))


class Points(Decimal):
    """A table cell: bonus points in currency units (two decimals), exported as a number."""

    __slots__ = ()

    @classmethod
    def of(cls, minor_units) -> Points:
        return cls(units(minor_units or 0))


class Percent(Decimal):
    """A table cell: a percent in percent units (30 for 30 %), exported as a number."""

    __slots__ = ()


def cell(value) -> str:
    """A table cell as it reads: typed figures formatted, counts grouped, moments and days as
    the active language writes them ("01.12.2026 10:00"; exports keep them as real dates),
    text as it is."""
    if isinstance(value, datetime.datetime):
        return date_format(value, "SHORT_DATETIME_FORMAT")
    if isinstance(value, datetime.date):
        return date_format(value, "SHORT_DATE_FORMAT")
    if isinstance(value, Money):
        return money_units(value)
    if isinstance(value, Points):
        return number(value, 2)
    if isinstance(value, Percent):
        return percent(value)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return count(value)
    if isinstance(value, Decimal | float):
        return number(value)
    return value


def is_figure(value) -> bool:
    """Whether a table cell is a number (right-aligned in a table)."""
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


# --- reading numbers back --------------------------------------------------------------------

# Spaces that separate groups of thousands: a plain space (typed), the no-break space our
# formats print (U+00A0), the narrow no-break space some browsers' and systems' formats print
# (U+202F) and the thin space (U+2009).
GROUP_SPACES = " \u00a0\u202f\u2009"
MINUS_SIGNS = "-\u2212"
_SPACES = re.compile(f"[{GROUP_SPACES}]")


class NotANumber(ValueError):
    """The text is not a number as people write one (the caller says so in its own words)."""


def _currency_signs() -> set[str]:
    return {*CURRENCY_SIGNS.values(), *CURRENCY_SIGNS}


def _without_currency(text: str) -> str:
    """The text without one currency sign or code before or after the number ("5 000 ₽",
    "₽5,000", "1 234,56 XYZ")."""
    for sign in sorted(_currency_signs(), key=len, reverse=True):
        if text.startswith(sign):
            return text[len(sign) :].lstrip(GROUP_SPACES)
        if text.endswith(sign):
            return text[: -len(sign)].rstrip(GROUP_SPACES)
    # an unknown currency's code, which money() prints as it is
    code = re.fullmatch(r"(.*?[0-9])[\u00a0\u202f ]?[A-Z]{3}", text) or re.fullmatch(
        r"[A-Z]{3}[\u00a0\u202f ]?([0-9].*)", text
    )
    return code.group(1) if code else text


def _grouped(whole: str, separator: str) -> str | None:
    """The digits of an integer part grouped in thousands by `separator` ("5 000",
    "1,234,567"), or None when the groups are not thousands."""
    parts = whole.split(separator)
    if not parts[0].isdigit() or len(parts[0]) > 3:
        return None
    if len(parts) > 1 and parts[0].startswith("0"):
        return None  # "0,001" is not a thousand
    if any(len(part) != 3 or not part.isdigit() for part in parts[1:]):
        return None
    return "".join(parts)


def parse_number(text) -> Decimal:
    """A number as people write it, in any of our languages: "5 000,00", "5 000,00 ₽",
    "5,000.00", "₽5,000.00", "89.90", "89,9", "-12,5", "1 200". Groups of thousands are
    separated by spaces (plain, U+00A0, U+202F, U+2009) or by the active language's
    separator; the decimal mark is "," or "." (the last of the two when both are there). One
    currency sign or code before or after is ignored. Raises NotANumber for anything else
    ("12a", "1.2.3", "5 00", "1e5", "NaN", "")."""
    value = str(text if text is not None else "").strip(GROUP_SPACES + "\t\r\n")
    sign = ""
    if value[:1] and value[0] in MINUS_SIGNS + "+":
        sign, value = ("-" if value[0] != "+" else ""), value[1:].lstrip(GROUP_SPACES)
    value = _without_currency(value)
    if not sign and value[:1] and value[0] in MINUS_SIGNS + "+":  # "₽-5" is not written
        raise NotANumber(text)
    if not value or not re.fullmatch(r"[0-9., \u00a0\u202f\u2009]+", value):
        raise NotANumber(text)
    marks = [i for i, char in enumerate(value) if char in ",."]
    whole, decimals = value, ""
    if marks:
        last = value[marks[-1]]
        other = "," if last == "." else "."
        if other in value:  # "5,000.00": the last mark is the decimal one, the other groups
            whole, decimals = value[: marks[-1]], value[marks[-1] + 1 :]
            if _grouped(whole, other) is None:
                raise NotANumber(text)
            whole = whole.replace(other, "")
        elif value.count(last) > 1 or (
            get_format("THOUSAND_SEPARATOR") == last
            and _grouped(_SPACES.sub("", value), last) is not None
        ):
            # "1,234,567", or "5,000" where the active language groups with commas
            whole = _grouped(_SPACES.sub("", value), last)
            if whole is None:
                raise NotANumber(text)
        else:
            whole, decimals = value.split(last)
    if _SPACES.search(whole):
        whole = _grouped(_SPACES.sub(" ", whole), " ")
        if whole is None:
            raise NotANumber(text)
    if not whole and decimals:
        whole = "0"  # ",5"
    if not whole.isdigit() or (decimals and not decimals.isdigit()):
        raise NotANumber(text)
    try:
        return Decimal(f"{sign}{whole}.{decimals}" if decimals else f"{sign}{whole}")
    except InvalidOperation:
        raise NotANumber(text) from None


def invalid_amount() -> str:
    """What a person who typed something that is not an amount is told, with an example
    written the way the active language writes money."""
    return gettext("Enter an amount, for example %(example)s.") % {
        "example": money_units(Decimal("1234.50"))
    }

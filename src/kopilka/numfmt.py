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
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.utils.formats import number_format
from django.utils.translation import pgettext

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
    """A table cell as it reads: typed figures formatted, counts grouped, text as it is."""
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

"""Numbers as people write them (kopilka.numfmt), in Russian, Ukrainian and English; the
expected strings are written out by hand. Grouping uses the no-break space U+00A0, as
Django's formats of ru and uk and the browser's Intl do."""

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from kopilka import numfmt

NB = "\u00a0"


@pytest.mark.parametrize(
    ("language", "expected"),
    [("ru", f"1{NB}234,50"), ("uk", f"1{NB}234,50"), ("en", "1,234.50")],
)
def test_money_without_a_currency(language, expected):
    with translation.override(language):
        assert numfmt.money(123450) == expected


@pytest.mark.parametrize(
    ("language", "currency", "expected"),
    [
        ("ru", "RUB", f"1{NB}234,50{NB}₽"),
        ("uk", "UAH", f"2{NB}529{NB}957,00{NB}₴"),
        ("en", "RUB", "₽1,234.50"),
        ("en", "USD", "-$5.00"),
        ("ru", "XYZ", f"0,99{NB}XYZ"),
    ],
)
def test_money_with_a_currency(language, currency, expected):
    amounts = {"RUB": 123450, "UAH": 252995700, "USD": -500, "XYZ": 99}
    with translation.override(language):
        assert numfmt.money(amounts[currency], currency) == expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("ru", ("+50,00", "-50,00", "0,00")),
        ("uk", ("+50,00", "-50,00", "0,00")),
        ("en", ("+50.00", "-50.00", "0.00")),
    ],
)
def test_points_with_a_sign(language, expected):
    with translation.override(language):
        assert (
            numfmt.points(5000, sign=True),
            numfmt.points(-5000, sign=True),
            numfmt.points(0, sign=True),
        ) == expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("ru", (f"30{NB}%", f"5{NB}%", f"12,5{NB}%", f"0{NB}%", f"33,33{NB}%")),
        ("uk", (f"30{NB}%", f"5{NB}%", f"12,5{NB}%", f"0{NB}%", f"33,33{NB}%")),
        ("en", ("30%", "5%", "12.5%", "0%", "33.33%")),
    ],
)
def test_percent(language, expected):
    with translation.override(language):
        assert (
            numfmt.percent(Decimal("30.000")),
            numfmt.percent(5),
            numfmt.percent(Decimal("12.500")),
            numfmt.percent(0.0),
            numfmt.share(Decimal(1) / Decimal(3)),
        ) == expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [("ru", f"2{NB}529{NB}957"), ("uk", f"2{NB}529{NB}957"), ("en", "2,529,957")],
)
def test_count(language, expected):
    with translation.override(language):
        assert numfmt.count(2529957) == expected
        assert numfmt.count(16) == "16"


def test_table_cells_are_shown_by_type_and_stay_numbers():
    with translation.override("ru"):
        assert numfmt.cell(numfmt.Money.of(2599300)) == f"25{NB}993,00"
        assert numfmt.cell(numfmt.Points.of(5000)) == "50,00"
        assert numfmt.cell(numfmt.Percent("30.000")) == f"30{NB}%"
        assert numfmt.cell(16000) == f"16{NB}000"
        assert numfmt.cell("Серебро") == "Серебро"
    assert isinstance(numfmt.Money.of(2599300), Decimal)
    assert numfmt.Money.of(2599300) == Decimal("25993")
    assert numfmt.is_figure(numfmt.Percent(5)) and not numfmt.is_figure("5")


def test_template_filters():
    template = Template(
        "{% load numfmt %}{{ k|money }}|{{ k|money:'RUB' }}|{{ k|points }}|{{ d|signed_points }}"
        "|{{ p|percent }}|{{ f|share }}|{{ n|count }}"
    )
    context = Context({"k": 123450, "d": 5000, "p": Decimal("30.000"), "f": 0.05, "n": 1234})
    with translation.override("ru"):
        assert template.render(context) == (
            f"1{NB}234,50|1{NB}234,50{NB}₽|1{NB}234,50|+50,00|30{NB}%|5{NB}%|1{NB}234"
        )
    with translation.override("en"):
        assert template.render(context) == "1,234.50|₽1,234.50|1,234.50|+50.00|30%|5%|1,234"


def test_empty_values_show_nothing():
    assert numfmt.money(None) == numfmt.points(None) == numfmt.percent(None) == ""
    assert numfmt.count("") == ""


# --- reading numbers back (numfmt.parse_number) ------------------------------------------------

NNB = "\u202f"


@pytest.mark.parametrize(
    ("language", "typed", "expected"),
    [
        ("ru", f"5{NB}000,00{NB}₽", Decimal("5000.00")),
        ("ru", f"5{NNB}000,00 ₽", Decimal("5000.00")),
        ("ru", "5 000,00", Decimal("5000.00")),
        ("ru", "5,000.00", Decimal("5000.00")),
        ("ru", "5,5", Decimal("5.5")),
        ("ru", "5,000", Decimal("5")),  # a comma is the decimal mark in Russian
        ("ru", "-12,5", Decimal("-12.5")),
        ("ru", f"0,99{NB}XYZ", Decimal("0.99")),
        ("uk", f"2{NB}529{NB}957,00{NB}₴", Decimal("2529957.00")),
        ("en", "5,000", Decimal("5000")),  # a comma groups thousands in English
        ("en", "₽1,234.50", Decimal("1234.50")),
        ("en", "-$5.00", Decimal("-5.00")),
        ("en", "89,90", Decimal("89.90")),
        ("en", "1 200", Decimal("1200")),
    ],
)
def test_parse_number_reads_what_people_and_our_formats_write(language, typed, expected):
    with translation.override(language):
        assert numfmt.parse_number(typed) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "",
        " ",
        "₽",
        "12a",
        "1.2.3",
        "5 00",
        "50 00,00",
        "1e5",
        "NaN",
        "Infinity",
        "--5",
        "₽-5",
        "5,0,0",
        "0,001,5",
        "١٢",
    ],
)
@pytest.mark.parametrize("language", ["ru", "en"])
def test_parse_number_refuses_what_is_not_a_number(language, typed):
    with translation.override(language), pytest.raises(numfmt.NotANumber):
        numfmt.parse_number(typed)


@pytest.mark.parametrize("language", ["ru", "uk", "en"])
@pytest.mark.parametrize("kopecks", [0, 99, 123450, 500000, 252995700, -500])
def test_what_money_prints_reads_back_as_the_same_amount(language, kopecks):
    with translation.override(language):
        for currency in (None, "RUB", "UAH", "XYZ"):
            assert numfmt.parse_number(numfmt.money(kopecks, currency)) * 100 == kopecks


@pytest.mark.parametrize(
    ("language", "moment", "day"),
    [
        ("ru", "01.12.2026 09:05", "01.12.2026"),
        ("uk", "01.12.2026 09:05", "01.12.2026"),
        ("en", "12/01/2026 9:05 a.m.", "12/01/2026"),
    ],
)
def test_a_table_cell_of_a_moment_or_a_day_reads_as_the_language_writes_it(language, moment, day):
    import datetime

    with translation.override(language):
        assert numfmt.cell(datetime.datetime(2026, 12, 1, 9, 5)) == moment
        assert numfmt.cell(datetime.date(2026, 12, 1)) == day

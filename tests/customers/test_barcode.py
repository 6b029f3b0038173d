"""Card numbers drawn for scanners: EAN-13 bars that match the standard (vectors from
python-barcode, an independent implementation) and a QR code that reads back the number."""

import re

import pytest

from kopilka.customers.barcode import card_pictures, ean13_modules, ean13_svg, qr_svg, qr_symbol

# Generated with python-barcode 0.16.1: barcode.get("ean13", n[:12]).build()[0]
VECTORS = {
    "4006381333931": (
        "101000110101001110101111011110100010010110011010"
        "10100001010000101000010111010010000101100110101"
    ),
    "2900000000018": (
        "101000101100011010100111010011100011010100111010"
        "10111001011100101110010111001011001101001000101"
    ),
    "5901234123457": (
        "101000101101001110110011001001101111010011101010"
        "10110011011011001000010101110010011101000100101"
    ),
}


@pytest.mark.parametrize(("number", "modules"), VECTORS.items())
def test_ean13_bars_follow_the_standard(number, modules):
    assert ean13_modules(number) == modules


def test_the_svg_draws_every_bar_and_prints_the_number():
    number = "2900000000018"
    svg = ean13_svg(number, module=2)
    widths = [int(w) // 2 for w in re.findall(r'<rect x="\d+" y="0" width="(\d+)"', svg)]
    assert sum(widths) == ean13_modules(number).count("1")
    assert len(widths) == len(re.findall("1+", ean13_modules(number)))
    assert f">{number}</text>" in svg


def test_a_number_that_is_not_ean13_gets_a_qr_code_only():
    with pytest.raises(ValueError):
        ean13_modules("2900000000019")  # wrong check digit
    pictures = card_pictures("CARD-77")
    assert pictures["barcode"] is None and pictures["qr"].startswith("<svg")


def test_the_qr_code_is_a_full_qr_code_of_the_card_number():
    symbol = qr_symbol("2900000000018")
    # Not a Micro QR: most scanners cannot read those.
    assert not symbol.is_micro and symbol.version == 1
    svg = qr_svg("2900000000018")
    assert svg.startswith("<svg") and 'class="card-qr"' in svg

"""A card number as pictures a scanner reads: an EAN-13 barcode (the tills' 1-D scanners) and
a QR code (2-D scanners, phone screens), both as inline SVG. Other numbers than valid EAN-13
(plastic cards of other systems) get the QR code only."""

from __future__ import annotations

import io

import segno

from .cards import is_valid_ean13

# EAN-13 digit patterns (7 modules each, 1 = bar): L and G codes on the left, R on the right;
# the first digit picks which left digits use G.
_L = ("0001101", "0011001", "0010011", "0111101", "0100011",
      "0110001", "0101111", "0111011", "0110111", "0001011")  # fmt: skip
_G = tuple(code.translate(str.maketrans("01", "10"))[::-1] for code in _L)
_R = tuple(code.translate(str.maketrans("01", "10")) for code in _L)
_PARITY = ("LLLLLL", "LLGLGG", "LLGGLG", "LLGGGL", "LGLLGG",
           "LGGLLG", "LGGGLL", "LGLGLG", "LGLGGL", "LGGLGL")  # fmt: skip
_GUARD, _CENTRE = "101", "01010"
QUIET = 11  # modules of blank space either side, as the standard asks


def ean13_modules(number: str) -> str:
    """The 95 modules of an EAN-13 symbol, "1" a bar and "0" a space."""
    if not is_valid_ean13(number):
        raise ValueError(f"{number!r} is not a valid EAN-13 number")
    first, left, right = int(number[0]), number[1:7], number[7:]
    codes = {"L": _L, "G": _G}
    left_part = "".join(codes[p][int(d)] for p, d in zip(_PARITY[first], left, strict=True))
    right_part = "".join(_R[int(d)] for d in right)
    return _GUARD + left_part + _CENTRE + right_part + _GUARD


def ean13_svg(number: str, *, module: int = 2, height: int = 60) -> str:
    """The barcode with its digits underneath, as an SVG element sized in pixels."""
    modules = ean13_modules(number)
    width = (len(modules) + 2 * QUIET) * module
    text_height = 14
    bars = []
    run_start = None
    for i, bit in enumerate(modules + "0"):
        if bit == "1" and run_start is None:
            run_start = i
        elif bit == "0" and run_start is not None:
            x = (QUIET + run_start) * module
            bars.append(
                f'<rect x="{x}" y="0" width="{(i - run_start) * module}" height="{height}"/>'
            )
            run_start = None
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="card-barcode" role="img" '
        f'aria-label="{number}" width="{width}" height="{height + text_height}" '
        f'viewBox="0 0 {width} {height + text_height}">'
        f'<rect width="100%" height="100%" fill="#fff"/><g fill="#000">{"".join(bars)}</g>'
        f'<text x="{width // 2}" y="{height + text_height - 2}" text-anchor="middle" '
        f'font-family="monospace" font-size="13" fill="#000">{number}</text></svg>'
    )


def qr_symbol(text: str):
    # A full QR code, never a Micro QR (segno's choice for short texts), which most phone and
    # till scanners do not read.
    return segno.make_qr(text, error="m")


def qr_svg(text: str, *, scale: int = 4) -> str:
    """A QR code of `text` as an SVG element (no XML declaration: it sits inside a page)."""
    out = io.BytesIO()
    qr_symbol(text).save(
        out, kind="svg", scale=scale, xmldecl=False, svgns=True, svgclass="card-qr", nl=False
    )
    return out.getvalue().decode()


def card_pictures(number: str) -> dict[str, str | None]:
    """{"barcode": SVG or None, "qr": SVG} for a card number."""
    return {
        "barcode": ean13_svg(number) if is_valid_ean13(number) else None,
        "qr": qr_svg(number),
    }

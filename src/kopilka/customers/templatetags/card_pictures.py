"""`{% card_barcode number %}` and `{% card_qr number %}`: a card number drawn for scanners
(customers.barcode), inline in a page."""

from django import template
from django.utils.safestring import mark_safe

from kopilka.customers import barcode

register = template.Library()


@register.simple_tag
def card_barcode(number: str) -> str:
    """The EAN-13 bars of the number, or nothing when it is not an EAN-13 number."""
    pictures = barcode.card_pictures(number)
    # Our own SVG: digits and fixed markup only (the number is checked to be 13 digits).
    return mark_safe(pictures["barcode"] or "")


@register.simple_tag
def card_qr(number: str) -> str:
    # segno escapes nothing it is given into markup: the QR's modules are paths.
    return mark_safe(barcode.qr_svg(number))

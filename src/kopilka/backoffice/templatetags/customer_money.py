"""`{{ kopecks|money }}`: an amount in minor units shown with two decimals."""

from django import template

from kopilka.backoffice.formatting import money as _money

register = template.Library()


@register.filter
def money(value) -> str:
    return _money(int(value or 0))

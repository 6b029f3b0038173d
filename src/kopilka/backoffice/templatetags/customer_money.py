"""`{{ kopecks|money }}`: an amount in minor units shown with two decimals; the same filters
as `{% load numfmt %}` (kopilka.numfmt), kept under this name for the customer card."""

from django import template

from . import numfmt as _numbers

register = template.Library()
register.filters.update(_numbers.register.filters)

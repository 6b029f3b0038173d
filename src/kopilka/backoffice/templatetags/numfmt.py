"""`{% load numfmt %}`: figures as the active language writes them (kopilka.numfmt).

{{ kopecks|money }}             1 234,50
{{ kopecks|money:"RUB" }}       1 234,50 ₽
{{ kopecks|points }}            1 234,50     {{ kopecks|signed_points }}  +50,00
{{ value|percent }}             30 %         (value in percent units)
{{ value|share }}               30 %         (value a fraction: 0.3)
{{ n|count }}                   1 234
{{ cell|cell }}                 a report's table cell, by its type
"""

from django import template

from kopilka import numfmt as numbers

register = template.Library()


@register.filter
def money(value, currency=None) -> str:
    return numbers.money(int(value or 0), currency or None)


@register.filter
def points(value) -> str:
    return numbers.points(int(value or 0))


@register.filter
def signed_points(value) -> str:
    return numbers.points(int(value or 0), sign=True)


@register.filter
def percent(value) -> str:
    return numbers.percent(value)


@register.filter
def share(value) -> str:
    return numbers.share(value)


@register.filter
def count(value) -> str:
    return numbers.count(value)


@register.filter
def cell(value):
    return numbers.cell(value)


@register.filter
def is_figure(value) -> bool:
    return numbers.is_figure(value)

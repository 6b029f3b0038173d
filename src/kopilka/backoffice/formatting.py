"""How the back office shows and takes money, points and percents: integers in minor units
in the database, amounts with two decimals on screen, in the active language's number format.
The formatting itself is `kopilka.numfmt` (shared with the cashier screen and the domain's
messages); the template filters are `{% load numfmt %}` (money, points, percent, count, cell).
"""

from decimal import Decimal

from django import forms
from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from unfold.widgets import UnfoldAdminTextInputWidget

from kopilka.numfmt import (  # noqa: F401  (the back office's one import of the formatters)
    HUNDRED,
    Money,
    NotANumber,
    Percent,
    Points,
    cell,
    count,
    invalid_amount,
    money,
    money_units,
    number,
    parse_number,
    percent,
    points,
    share,
)

# Model fields kept in minor units, with the label the form shows instead of the model's
# "..., kopecks" (the form takes currency units).
MONEY_LABELS = {
    "welcome_bonus": _("welcome bonus"),
    "min_receipt_total": _("from receipt total"),
    "min_purchase_total": _("from purchases total"),
    "min_spend": _("spend threshold"),
    "bonus": _("bonus"),
    "min_amount": _("minimum purchase"),
}


def money_column(field: str, description):
    """A list column showing a minor-units field as an amount."""

    @admin.display(description=description, ordering=field)
    def column(obj):
        return money(getattr(obj, field))

    column.__name__ = f"{field}_money"
    return column


class MoneyField(forms.DecimalField):
    """An amount typed in currency units with at most two decimals ("1 250,50" in Russian),
    cleaned to minor units. It reads what the back office prints ("5 000,00 ₽", with any of
    the spaces between thousands; "5,000.00") through `numfmt.parse_number`, the one reader
    of amounts."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", UnfoldAdminTextInputWidget(attrs={"inputmode": "decimal"}))
        super().__init__(max_digits=17, decimal_places=2, min_value=0, localize=True, **kwargs)

    def to_python(self, value):
        if value in self.empty_values or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, Decimal | int) and not isinstance(value, bool):
            return Decimal(value)
        try:
            return parse_number(value)
        except NotANumber:
            raise forms.ValidationError(invalid_amount(), code="invalid") from None

    def prepare_value(self, value):
        if isinstance(value, int) and not isinstance(value, bool):
            return (Decimal(value) / HUNDRED).quantize(Decimal("0.01"))
        return value

    def clean(self, value):
        amount = super().clean(value)
        return None if amount is None else int(amount * HUNDRED)

    def has_changed(self, initial, data):
        try:
            typed = self.to_python(data)
        except forms.ValidationError:
            return True
        return (None if typed is None else int(typed * HUNDRED)) != initial


def percent_column(field: str, description):
    """A list column showing a percent field as "30 %" rather than "30,000"."""

    @admin.display(description=description, ordering=field)
    def column(obj):
        return percent(getattr(obj, field))

    column.__name__ = f"{field}_percent"
    return column


def is_percent_field(db_field) -> bool:
    return isinstance(db_field, models.DecimalField) and db_field.name.endswith("percent")


class PercentField(forms.DecimalField):
    """A percent typed and shown in the active language, without padding zeros: "30", "12,5"
    (not "30.000")."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", UnfoldAdminTextInputWidget(attrs={"inputmode": "decimal"}))
        kwargs["localize"] = True
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, Decimal):
            return value.normalize() if value != value.to_integral_value() else value.quantize(1)
        return value


class MoneyFieldsMixin:
    """For ModelAdmins and inlines: model fields named in MONEY_LABELS become MoneyFields,
    percent fields PercentFields; in a list, both read as money and percents."""

    def get_list_display(self, request):
        shown = []
        for name in super().get_list_display(request):
            if isinstance(name, str):
                try:
                    db_field = self.model._meta.get_field(name)
                except FieldDoesNotExist:  # a method or a callable's name: left as it is
                    db_field = None
                if db_field is not None and is_percent_field(db_field):
                    name = percent_column(name, db_field.verbose_name)
                elif (
                    db_field is not None
                    and name in MONEY_LABELS
                    and db_field.get_internal_type() == "BigIntegerField"
                ):
                    name = money_column(name, MONEY_LABELS[name])
            shown.append(name)
        return shown

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if is_percent_field(db_field) or (
            isinstance(db_field, models.DecimalField) and db_field.name == "multiplier"
        ):
            field = db_field.formfield(form_class=PercentField, **kwargs)
            return field
        label = MONEY_LABELS.get(db_field.name)
        if label is None or db_field.get_internal_type() != "BigIntegerField":
            return super().formfield_for_dbfield(db_field, request, **kwargs)
        return MoneyField(
            label=capfirst(label),  # as Django writes a model field's label
            required=not db_field.blank,
            initial=db_field.default if db_field.has_default() else None,
            help_text=db_field.help_text,
        )

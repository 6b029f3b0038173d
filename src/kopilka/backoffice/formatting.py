"""How the back office shows and takes money and points: integers in minor units in the
database, amounts with two decimals on screen, in the active language's number format."""

from decimal import Decimal

from django import forms
from django.contrib import admin
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from unfold.widgets import UnfoldAdminTextInputWidget

HUNDRED = Decimal(100)

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


def money(minor_units: int | None) -> str:
    if minor_units is None:
        return ""
    return number_format(Decimal(minor_units) / HUNDRED, 2, force_grouping=True)


def money_column(field: str, description):
    """A list column showing a minor-units field as an amount."""

    @admin.display(description=description, ordering=field)
    def column(obj):
        return money(getattr(obj, field))

    column.__name__ = f"{field}_money"
    return column


class MoneyField(forms.DecimalField):
    """An amount typed in currency units with at most two decimals ("1 250,50" in Russian),
    cleaned to minor units."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", UnfoldAdminTextInputWidget(attrs={"inputmode": "decimal"}))
        super().__init__(max_digits=17, decimal_places=2, min_value=0, localize=True, **kwargs)

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


class MoneyFieldsMixin:
    """For ModelAdmins and inlines: model fields named in MONEY_LABELS become MoneyFields."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        label = MONEY_LABELS.get(db_field.name)
        if label is None or db_field.get_internal_type() != "BigIntegerField":
            return super().formfield_for_dbfield(db_field, request, **kwargs)
        return MoneyField(
            label=label,
            required=not db_field.blank,
            initial=db_field.default if db_field.has_default() else None,
            help_text=db_field.help_text,
        )

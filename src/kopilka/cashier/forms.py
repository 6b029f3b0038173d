"""The forms of a customer registered or edited at the till (the desk service checks the rest)."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def _not_in_the_future(day) -> None:
    if day is not None and day > timezone.localdate():
        raise forms.ValidationError(_("A birthday cannot be in the future."))


class RegisterCustomerForm(forms.Form):
    """Contacts (one at least), the name and birthday (required when the program asks for
    them: `required`, from `sales.desk.details_missing`), cards and consent;
    sales.desk.customer_register_at_till checks the rest."""

    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    email = forms.CharField(label=_("E-mail"), max_length=254, required=False)
    first_name = forms.CharField(label=_("First name"), max_length=100, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=100, required=False)
    birthday = forms.DateField(label=_("Birthday"), required=False, validators=[_not_in_the_future])
    card_number = forms.CharField(
        label=_("Plastic card (scan or type)"), max_length=32, required=False
    )
    virtual_card = forms.BooleanField(label=_("Issue a virtual card"), required=False)
    marketing_consent = forms.BooleanField(label=_("Agrees to receive offers"), required=False)

    def __init__(self, *args, required: list[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        for name in required:
            self.fields[name].required = True

    def clean(self):
        data = super().clean()
        if not data.get("phone") and not data.get("email"):
            raise forms.ValidationError(_("Give at least a phone number or an e-mail address."))
        return data


class EditCustomerForm(forms.Form):
    """The details a cashier may change. The phone, e-mail and code word are not shown (the
    till sees them masked): left empty, they stay as they are."""

    first_name = forms.CharField(label=_("First name"), max_length=100, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=100, required=False)
    phone = forms.CharField(label=_("New phone"), max_length=32, required=False)
    email = forms.CharField(label=_("New e-mail"), max_length=254, required=False)
    birthday = forms.DateField(label=_("Birthday"), required=False, validators=[_not_in_the_future])
    code_word = forms.CharField(label=_("New code word"), max_length=100, required=False)
    marketing_consent = forms.BooleanField(label=_("Agrees to receive offers"), required=False)

    KEPT_WHEN_EMPTY = ("phone", "email", "code_word")

    @classmethod
    def of(cls, customer) -> EditCustomerForm:
        return cls(
            initial={
                "first_name": customer.first_name,
                "last_name": customer.last_name,
                "birthday": customer.birthday,
                "marketing_consent": customer.marketing_consent,
            }
        )

    def changes(self) -> dict:
        """The fields to hand to the desk service."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if not (name in self.KEPT_WHEN_EMPTY and not value.strip())
        }

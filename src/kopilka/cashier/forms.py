"""The form of a customer registered at the till (the desk service checks the rest)."""

from django import forms
from django.utils.translation import gettext_lazy as _


class RegisterCustomerForm(forms.Form):
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    email = forms.CharField(label=_("E-mail"), max_length=254, required=False)
    first_name = forms.CharField(label=_("First name"), max_length=100, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=100, required=False)
    card_number = forms.CharField(
        label=_("Plastic card (scan or type)"), max_length=32, required=False
    )
    virtual_card = forms.BooleanField(label=_("Issue a virtual card"), required=False)
    marketing_consent = forms.BooleanField(label=_("Agrees to receive offers"), required=False)

    def clean(self):
        data = super().clean()
        if not data.get("phone") and not data.get("email"):
            raise forms.ValidationError(_("Give at least a phone number or an e-mail address."))
        return data

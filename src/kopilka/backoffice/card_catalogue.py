"""The catalogue of discount cards: printed plastic cards entered ahead, a single number or a
series, with no owner yet (`customers.services.cards_stock`). They get an owner when a till
registers a customer with one or staff attach it on the customer card."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views import View
from unfold.widgets import (
    UnfoldAdminIntegerFieldWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminTextInputWidget,
)

from kopilka.customers import services as customers
from kopilka.customers.models import CardType
from kopilka.errors import KopilkaError

from .scoping import request_actor, request_merchant


class StockForm(forms.Form):
    first = forms.CharField(
        label=_("First card number"),
        max_length=32,
        widget=UnfoldAdminTextInputWidget(attrs={"autofocus": True, "inputmode": "numeric"}),
        help_text=_("Type or scan it. A series counts on from it as the cards are printed."),
    )
    count = forms.IntegerField(
        label=_("Number of cards"),
        min_value=1,
        max_value=customers.STOCK_MAX,
        initial=1,
        widget=UnfoldAdminIntegerFieldWidget,
    )
    card_type = forms.ModelChoiceField(
        label=_("Card type"),
        queryset=CardType.objects.none(),
        required=False,
        empty_label=_("by the number's series, if any"),
        widget=UnfoldAdminSelectWidget,
    )

    def __init__(self, merchant, *args, **kwargs):
        super().__init__(*args, **kwargs)
        types = CardType.objects.filter(merchant=merchant).order_by("name")
        self.fields["card_type"].queryset = types


class StockView(View):
    admin = None

    def dispatch(self, request, *args, **kwargs):
        self.merchant = request_merchant(request)
        if self.merchant is None or not request.user.has_perm("customers.add_card"):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        return self._show(StockForm(self.merchant))

    def post(self, request):
        form = StockForm(self.merchant, request.POST)
        if not form.is_valid():
            return self._show(form)
        data = form.cleaned_data
        try:
            cards = customers.cards_stock(
                merchant=self.merchant,
                first=data["first"],
                count=data["count"],
                card_type=data["card_type"],
                actor=request_actor(request),
            )
        except KopilkaError as error:
            form.add_error("first", error.message)
            return self._show(form)
        message = ngettext(
            "%(count)d card entered into the catalogue: %(first)s.",
            "%(count)d cards entered into the catalogue: %(first)s to %(last)s.",
            len(cards),
        ) % {"count": len(cards), "first": cards[0].number, "last": cards[-1].number}
        self.admin.message_user(request, message, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:customers_card_changelist"))

    def _show(self, form):
        context = {
            **self.admin.admin_site.each_context(self.request),
            "title": _("Enter cards into the catalogue"),
            "opts": self.admin.model._meta,
            "form": form,
            "back": reverse("admin:customers_card_changelist"),
        }
        return TemplateResponse(self.request, "backoffice/card_stock.html", context)

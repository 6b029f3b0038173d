"""Moving cards to another card type from the back office: a list action on card types, and a
page for the customer list as filtered. Both ask for the new type and a reason, then call
`customers.card_types.cards_move_to_type`; balances follow the customers into the new type's
program. And a list action on programs: the balances left in a program by customers now in
another one follow them there (`card_types.balances_follow_programs`)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.widgets import UnfoldAdminSelectWidget, UnfoldAdminTextInputWidget

from kopilka.customers import card_types
from kopilka.customers.models import CardType

from .customer_filters import ListAsFilteredView
from .formatting import money
from .scoping import request_merchant


class MoveCardsForm(forms.Form):
    to_type = forms.ModelChoiceField(
        queryset=CardType.objects.none(), label=_("New card type"), widget=UnfoldAdminSelectWidget
    )
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=UnfoldAdminTextInputWidget)

    def __init__(self, merchant, *args, **kwargs):
        super().__init__(*args, **kwargs)
        types = CardType.objects.filter(merchant=merchant).select_related("program")
        self.fields["to_type"].queryset = types.order_by("name")
        self.fields["to_type"].label_from_instance = lambda t: f"{t.name} ({t.program})"


def types_action(modeladmin, request, queryset):
    """The card type list's action: the cards of the selected types go to another type."""
    merchant = request_merchant(request)
    if merchant is None:
        modeladmin.message_user(request, _("Only a merchant's staff can move its cards."))
        return None
    types = list(queryset.order_by("name"))
    form = MoveCardsForm(merchant, request.POST if "apply" in request.POST else None)
    if form.is_bound and form.is_valid():
        _apply(modeladmin, request, merchant, form, [{"from_type": t} for t in types])
        return None
    what = ngettext(
        "The cards of the type %(names)s.", "The cards of the types %(names)s.", len(types)
    ) % {"names": ", ".join(t.name for t in types)}
    return _page(
        modeladmin,
        request,
        form,
        what,
        hidden={
            "action": request.POST.get("action", ""),
            "select_across": request.POST.get("select_across", "0"),
            "index": request.POST.get("index", "0"),
        },
        selected=request.POST.getlist(ACTION_CHECKBOX_NAME),
        back=request.get_full_path(),
    )


class CustomersMoveView(ListAsFilteredView):
    """The customer list's "move cards" page: the cards of the customers of the list as
    filtered go to another type."""

    def allowed(self, request) -> bool:
        return self.admin.has_move_cards_permission(request)

    def get(self, request):
        return self._show(MoveCardsForm(self.merchant))

    def post(self, request):
        form = MoveCardsForm(self.merchant, request.POST)
        if not form.is_valid():
            return self._show(form)
        _apply(self.admin, request, self.merchant, form, [{"customer_ids": self.customers}])
        return HttpResponseRedirect(self.back())

    def _show(self, form):
        count = self.customers.count()
        what = ngettext(
            "The cards of the %(count)d customer of the list as filtered.",
            "The cards of the %(count)d customers of the list as filtered.",
            count,
        ) % {"count": count}
        return _page(self.admin, self.request, form, what, back=self.back(), customers=count)


def _page(modeladmin, request, form, what: str, *, back: str, hidden=None, selected=(), **more):
    context = {
        **more,
        "back": back,
        **modeladmin.admin_site.each_context(request),
        "title": _("Move cards to another card type"),
        "opts": modeladmin.model._meta,
        "form": form,
        "what": what,
        "hidden": hidden or {},
        "selected": selected,
    }
    return TemplateResponse(request, "backoffice/move_cards.html", context)


def _apply(modeladmin, request, merchant, form, selections: list[dict]) -> None:
    to_type = form.cleaned_data["to_type"]
    totals = {"cards": 0, "customers": 0, "balances_moved": 0, "amount": 0}
    for selection in selections:
        if selection.get("from_type") == to_type:
            continue  # its cards are of that type already
        result = modeladmin.run_action(
            request,
            card_types.cards_move_to_type,
            merchant=merchant,
            to_type=to_type,
            reason=form.cleaned_data["reason"],
            **selection,
        )
        if result is None:
            return  # refused: the service's message is shown on the list
        for name in totals:
            totals[name] += getattr(result, name)
    modeladmin.message_user(request, _moved_message(to_type, totals), messages.SUCCESS)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=UnfoldAdminTextInputWidget)


def programs_action(modeladmin, request, queryset):
    """The program list's action: balances left in the selected programs by customers who
    are now in another program move there."""
    merchant = request_merchant(request)
    if merchant is None:
        modeladmin.message_user(request, _("Only a merchant's staff can move its balances."))
        return None
    chosen = list(queryset.order_by("pk"))
    form = ReasonForm(request.POST if "apply" in request.POST else None)
    if form.is_bound and form.is_valid():
        customers = amount = 0
        for program in chosen:
            result = modeladmin.run_action(
                request,
                card_types.balances_follow_programs,
                merchant=merchant,
                from_program=program,
                reason=form.cleaned_data["reason"],
            )
            if result is None:
                return None
            customers, amount = customers + result.customers, amount + result.amount
        modeladmin.message_user(
            request,
            ngettext(
                "Balances of %(count)d customer moved to their current programs: %(amount)s.",
                "Balances of %(count)d customers moved to their current programs: %(amount)s.",
                customers,
            )
            % {"count": customers, "amount": money(amount)},
            messages.SUCCESS,
        )
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": _("Move balances to the customers' current programs"),
        "opts": modeladmin.model._meta,
        "form": form,
        "programs": chosen,
        "hidden": {
            "action": request.POST.get("action", ""),
            "select_across": request.POST.get("select_across", "0"),
            "index": request.POST.get("index", "0"),
        },
        "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
        "back": request.get_full_path(),
    }
    return TemplateResponse(request, "backoffice/move_balances.html", context)


def _moved_message(to_type, totals: dict) -> str:
    cards = ngettext(
        "%(count)d card now has the type %(type)s.",
        "%(count)d cards now have the type %(type)s.",
        totals["cards"],
    ) % {"count": totals["cards"], "type": to_type.name}
    balances = ngettext(
        "Balances of %(count)d customer moved to the program %(program)s: %(amount)s.",
        "Balances of %(count)d customers moved to the program %(program)s: %(amount)s.",
        totals["balances_moved"],
    ) % {
        "count": totals["balances_moved"],
        "program": to_type.program,
        "amount": money(totals["amount"]),
    }
    return f"{cards} {balances}"

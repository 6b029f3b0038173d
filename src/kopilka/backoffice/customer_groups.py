"""Putting the customers of the back office's list, as filtered and searched, into a group or
taking them out of it, in one go: the toolbar's "Groups" page, calling
`customers.services.group_add_customers` / `group_remove_customers`."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.widgets import UnfoldAdminSelectWidget, UnfoldAdminTextInputWidget

from kopilka.customers import services as customers
from kopilka.customers.models import Group

from .customer_filters import ListAsFilteredView

ADD, REMOVE = "add", "remove"


class GroupMembersForm(forms.Form):
    group = forms.ModelChoiceField(
        queryset=Group.objects.none(), label=_("Group"), widget=UnfoldAdminSelectWidget
    )
    operation = forms.ChoiceField(
        label=_("Operation"),
        choices=[(ADD, _("Add them to the group")), (REMOVE, _("Take them out of the group"))],
        widget=UnfoldAdminSelectWidget,
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=500, required=False, widget=UnfoldAdminTextInputWidget
    )

    def __init__(self, merchant, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = Group.objects.filter(merchant=merchant).order_by("name")


class CustomersGroupView(ListAsFilteredView):
    """The customer list's "groups" page: the customers of the list as filtered join or
    leave a group."""

    def allowed(self, request) -> bool:
        return self.admin.has_change_permission(request)

    def get(self, request):
        return self._show(GroupMembersForm(self.merchant))

    def post(self, request):
        form = GroupMembersForm(self.merchant, request.POST)
        if not form.is_valid():
            return self._show(form)
        group, operation = form.cleaned_data["group"], form.cleaned_data["operation"]
        service = (
            customers.group_add_customers if operation == ADD else customers.group_remove_customers
        )
        count = self.admin.run_action(
            request,
            service,
            group=group,
            customers=self.customers,
            reason=form.cleaned_data["reason"],
        )
        if count is not None:
            self.admin.message_user(request, _done(operation, count, group), messages.SUCCESS)
        return HttpResponseRedirect(self.back())

    def _show(self, form):
        count = self.customers.count()
        what = ngettext(
            "The %(count)d customer of the list as filtered.",
            "The %(count)d customers of the list as filtered.",
            count,
        ) % {"count": count}
        context = {
            **self.admin.admin_site.each_context(self.request),
            "title": _("Add to a group or take out of it"),
            "opts": self.admin.model._meta,
            "form": form,
            "what": what,
            "customers": count,
            "back": self.back(),
        }
        return TemplateResponse(self.request, "backoffice/customers/groups.html", context)


def _done(operation: str, count: int, group) -> str:
    if operation == ADD:
        message = ngettext(
            "%(count)d customer joined the group %(group)s.",
            "%(count)d customers joined the group %(group)s.",
            count,
        )
    else:
        message = ngettext(
            "%(count)d customer left the group %(group)s.",
            "%(count)d customers left the group %(group)s.",
            count,
        )
    return message % {"count": count, "group": group.name}

"""Back-office pages outside the model admin (the front door for now)."""

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect

from kopilka.merchants.models import Role
from kopilka.merchants.roles import role_allows

from .scoping import WRITTEN_BY_KOPILKA, staff_member


def home(request):
    """Send a signed-in person to their face of Kopilka: cashiers to the till screen, other
    staff to the back office."""
    if not request.user.is_authenticated:
        return redirect_to_login("/admin/", login_url="admin:login")
    member = staff_member(request)
    if member is not None and member.role == Role.CASHIER:
        return redirect("/cashier/")
    return redirect("admin:index")


def permission_denied(request, exception=None):
    """A refusal (403) in the back office is a page in its style saying why and what to do
    instead: a refusal by design says its own reason (`scoping.Refusal`); one by the role
    names the roles that may do it (merchants.roles' matrix, read from the admin page that
    refused). Elsewhere (the API has its own problem documents) Django's page stays."""
    from django.contrib import admin
    from django.template.response import TemplateResponse
    from django.utils.http import url_has_allowed_host_and_scheme
    from django.utils.translation import gettext as _
    from django.views import defaults

    from .scoping import Refusal

    if not request.path.startswith("/admin/") or not getattr(request.user, "is_staff", False):
        return defaults.permission_denied(request, exception)
    member = staff_member(request)
    if isinstance(exception, Refusal):
        why, what_to_do = exception.why, exception.instead or _("Nothing was changed.")
    elif exception is not None and exception.args:
        why, what_to_do = str(exception), _("Nothing was changed.")
    else:
        why, what_to_do = _role_refusal(request, member)
    back = request.META.get("HTTP_REFERER", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = ""
    context = {
        **admin.site.each_context(request),
        "title": _("This cannot be done here"),
        "why": why,
        "what_to_do": what_to_do,
        "back": back,
    }
    return TemplateResponse(request, "backoffice/refused.html", context, status=403)


# What an admin page does, by the end of its URL name ("customers_customer_<suffix>"): the
# action of the role matrix it needs. Other pages of a model change it when posted to.
_PAGE_ACTIONS = {
    "changelist": "view",
    "history": "view",
    "card": "view",
    "export": "view",
    "add": "add",
    "import": "add",
    "delete": "delete",
}


def _role_refusal(request, member) -> tuple[str, str]:
    """Why and what to do for a refusal by the role: the roles whose matrix allows the page's
    action on its model, or, when no role may (rows Kopilka writes itself), that."""
    from django.utils.translation import gettext as _

    role = member.get_role_display() if member is not None else ""
    model, action = _page_action(request)
    if model is None:
        allowed = None
    else:
        allowed = [value for value in Role.values if role_allows(value, model, action)]
    if allowed == []:
        return WRITTEN_BY_KOPILKA
    if allowed and member is not None and member.role not in allowed:
        return (
            _("Your role (%(role)s) does not allow this. It is for: %(roles)s.")
            % {"role": role, "roles": ", ".join(str(Role(value).label) for value in allowed)},
            _(
                "Nothing was changed. Ask one of them to do it, or ask the owner for a role "
                "that may."
            ),
        )
    return (
        _("Your role (%(role)s) does not allow this.") % {"role": role}
        if role
        else _("Your account does not allow this."),
        _("Nothing was changed. If it needs doing, ask the merchant's owner or an admin."),
    )


def _page_action(request) -> tuple[str | None, str]:
    """The model and the matrix action of the admin page requested, if it is one."""
    from django.contrib import admin
    from django.urls import Resolver404, resolve

    try:
        name = resolve(request.path_info).url_name or ""
    except Resolver404:
        return None, ""
    for model in admin.site._registry:
        prefix = f"{model._meta.app_label}_{model._meta.model_name}_"
        if name.startswith(prefix):
            suffix = name[len(prefix) :]
            action = _PAGE_ACTIONS.get(suffix)
            if action is None:
                action = (
                    "view" if request.method in ("GET", "HEAD") and suffix == "change" else "change"
                )
            return model._meta.model_name, action
    return None, ""

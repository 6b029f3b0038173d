"""Back-office pages outside the model admin (the front door for now)."""

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect

from kopilka.merchants.models import Role

from .scoping import staff_member


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
    """A refusal (403) in the back office is a page in its style saying why and what to do;
    elsewhere (the API has its own problem documents) Django's page stays."""
    from django.contrib import admin
    from django.template.response import TemplateResponse
    from django.utils.http import url_has_allowed_host_and_scheme
    from django.utils.translation import gettext as _
    from django.views import defaults

    if not request.path.startswith("/admin/") or not getattr(request.user, "is_staff", False):
        return defaults.permission_denied(request, exception)
    message = str(exception) if exception is not None and exception.args else ""
    member = staff_member(request)
    role = member.get_role_display() if member is not None else ""
    back = request.META.get("HTTP_REFERER", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = ""
    context = {
        **admin.site.each_context(request),
        "title": _("This cannot be done here"),
        "why": message
        or (
            _("Your role (%(role)s) does not allow this.") % {"role": role}
            if role
            else _("Your account does not allow this.")
        ),
        "what_to_do": _(
            "Nothing was changed. If it needs doing, ask the merchant's owner or an admin."
        )
        if not message
        else _("Nothing was changed."),
        "back": back,
    }
    return TemplateResponse(request, "backoffice/refused.html", context, status=403)

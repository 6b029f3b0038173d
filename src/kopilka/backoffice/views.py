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

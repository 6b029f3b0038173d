"""Back-office registrations: one module per area, imported here so Django's admin
autodiscovery finds them. The front page is the dashboard (backoffice.dashboard)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from kopilka.merchants.sign_in import StaffSignInForm

from . import (  # noqa: F401
    admin_catalog,
    admin_customers,
    admin_ledger,
    admin_merchants,
    admin_pos,
    admin_programs,
    safe_operations,
    start,
)

admin.site.index_title = _("Dashboard")
# A new merchant's owner (no program yet) signs in to the start page (backoffice.start).
admin.site.login = start.login_then_start(admin.site.login)
admin.site.login_form = StaffSignInForm  # counts failed sign-ins, refuses past the limit

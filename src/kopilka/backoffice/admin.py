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
)

admin.site.index_title = _("Dashboard")
admin.site.login_form = StaffSignInForm  # counts failed sign-ins, refuses past the limit

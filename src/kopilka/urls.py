"""Top-level URL map."""

from django.contrib import admin
from django.urls import include, path

from kopilka.backoffice import password_reset, reports, safe_operations, start
from kopilka.backoffice.views import home
from kopilka.pos.api import api

urlpatterns = [
    path("", home, name="home"),
    path("admin/reports/", include(reports.urlpatterns)),
    path("admin/start/", admin.site.admin_view(start.start_page), name="start"),
    path(
        "admin/safe-operations/",
        admin.site.admin_view(safe_operations.settings_page),
        name="safe_operations",
    ),
    *password_reset.urlpatterns,
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
    path("cashier/", include("kopilka.cashier.urls")),
]

# A body or form larger than Django accepts: 413, shown the way each face shows errors.
handler400 = "kopilka.bad_requests.bad_request"
handler403 = "kopilka.backoffice.views.permission_denied"
# A missing page: in the back office's style, in the reader's language (bad_requests).
handler404 = "kopilka.bad_requests.page_not_found"

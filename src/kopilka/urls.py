"""Top-level URL map."""

from django.contrib import admin
from django.urls import include, path

from kopilka.backoffice.views import home
from kopilka.pos.api import api

urlpatterns = [
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("cashier/", include("kopilka.cashier.urls")),
]

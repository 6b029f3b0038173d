"""For scale: a trivial django-ninja endpoint (GET /trivial/ping -> {"ok": true}) served by
Kopilka's own settings and middleware, so `confirm_bench.py` can say how far a confirm is
from the cheapest request this stack can answer on the same machine.

Run as the settings module (DJANGO_SETTINGS_MODULE=trivial_ninja, this folder on the path);
it is its own URLconf.
"""

from django.urls import path
from ninja import NinjaAPI

from kopilka.settings import *  # noqa: F403

ROOT_URLCONF = "trivial_ninja"

api = NinjaAPI(urls_namespace="bench-trivial", docs_url=None)


@api.get("/ping")
def ping(request):
    return {"ok": True}


urlpatterns = [path("trivial/", api.urls)]

"""Requests refused before any view runs, answered in the way their face shows errors (a
problem document for the API, the message bar for the cashier screen, a page otherwise):

* Django's handler of 400s (`urls.handler400`): a body or form larger than Django accepts
  (`kopilka.bounds.MAX_REQUEST_BODY`, `MAX_FORM_FIELDS`) is a 413, not a bare "Bad Request";
* `RefuseNulCharacters`: text with a NUL character, which PostgreSQL can neither store nor
  compare, is a 400 before a filter, search or form hands it to the database;
* `DatabaseUnavailable`: a view that cannot reach the database answers 503 with Retry-After,
  so a till sends the same request (same Idempotency-Key) again and a cashier's receipt stays
  on the screen (the API's own handler answers the same, `pos.problems`);
* `page_not_found` (`urls.handler404`) and `csrf_failure` (settings.CSRF_FAILURE_VIEW): a
  missing page, and a form sent from a page that is out of date (its CSRF token no longer
  matches: open too long, or signed in or out in another tab), are pages in the back office's
  style saying what to do, not Django's bare English pages.

The API answers its own oversized bodies with a problem document (`pos.problems`); this
handler sees what is refused before a view runs (the back office's and the cashier screen's
forms, read by the CSRF check), and answers the API the same way should one reach it.
"""

from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.utils.translation import gettext
from django.views import defaults

from kopilka import bounds

logger = logging.getLogger(__name__)
TOO_LARGE = (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)


def too_large_message(exception=None) -> str:
    """What a person or a till is told: the limit that was passed."""
    if isinstance(exception, TooManyFieldsSent | TooManyFilesSent):
        return gettext("The form sent too many fields: at most %(fields)s.") % {
            "fields": bounds.MAX_FORM_FIELDS
        }
    return gettext("The request is too large: at most %(megabytes)s MB.") % {
        "megabytes": bounds.MAX_REQUEST_BODY // (1024 * 1024)
    }


def bad_request(request, exception=None):
    if not isinstance(exception, TOO_LARGE):
        return defaults.bad_request(request, exception)
    if request.path.startswith("/api/"):
        from kopilka.pos.problems import too_large_problem

        return too_large_problem()
    message = too_large_message(exception)
    if request.path.startswith("/cashier/") and request.headers.get("HX-Request"):
        # The till screen swaps its message bar out of any 4xx answer.
        return render(request, "cashier/_message.html", {"message": message}, status=413)
    return render(request, "too_large.html", {"message": message}, status=413)


def _refused(request: HttpRequest, status: int, code: str, title: str, message: str):
    if request.path.startswith("/api/"):
        from kopilka.pos.problems import problem

        return problem(status, code, message)
    if request.path.startswith("/cashier/") and request.headers.get("HX-Request"):
        return render(request, "cashier/_message.html", {"message": message}, status=status)
    return render(request, "refused.html", {"title": title, "message": message}, status=status)


NUL = "\x00"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _carries_nul(request: HttpRequest) -> bool:
    if NUL in request.path or any(
        NUL in key or any(NUL in value for value in values) for key, values in request.GET.lists()
    ):
        return True
    if request.method != "POST" or request.content_type not in FORM_TYPES:
        return False  # the API's JSON bodies are checked by its schemas
    if request.path.startswith("/api/"):
        return False  # the API reads no forms: its parser answers whatever this is
    try:
        fields = request.POST.lists()
    except MultiPartParserError:
        return False  # a broken form: the view's own reading of it answers
    return any(NUL in key or any(NUL in value for value in values) for key, values in fields)


class RefuseNulCharacters:
    """A 400 for a request with a NUL character in its address, query or form fields."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _carries_nul(request):
            message = gettext(
                "The request contains a character that cannot be stored (NUL, code 0). "
                "Nothing was saved: remove it and try again."
            )
            title = gettext("The input cannot be read")
            return _refused(request, 400, "bad_request", title, message)
        return self.get_response(request)


DATABASE_DOWN = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5


def database_unavailable(request: HttpRequest, error: Exception) -> HttpResponse:
    """503 with Retry-After: the database did not answer (down, restarting, unreachable)."""
    logger.warning("database unavailable for %s %s: %s", request.method, request.path, error)
    if request.path.startswith("/api/"):
        message = gettext(
            "The database cannot be reached right now. Send the same request again, with the "
            "same Idempotency-Key, in a few seconds."
        )
    else:
        message = gettext(
            "No connection to the database. Try again in a few seconds: what you entered is "
            "still here."
        )
    title = gettext("No connection to the database")
    response = _refused(request, 503, "service_unavailable", title, message)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailable:
    """A view (or what it calls) that cannot reach the database answers 503, not 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if isinstance(exception, DATABASE_DOWN):
            return database_unavailable(request, exception)
        return None


def _problem_page(
    request: HttpRequest,
    status: int,
    code: str,
    title: str,
    message: str,
    what_to_do: str,
    again: str = "",
) -> HttpResponse:
    """A page in the back office's style: inside the back office for signed-in staff there,
    unfold's signed-out layout elsewhere (the sign-in page, the till's sign-in, any address);
    the API's problem document and the till's message bar as `_refused` answers."""
    if request.path.startswith("/api/") or (
        request.path.startswith("/cashier/") and request.headers.get("HX-Request")
    ):
        return _refused(request, status, code, title, f"{message} {what_to_do}")
    from django.contrib import admin

    try:  # the page reads the signed-in user and the back office's menu from the database
        user = getattr(request, "user", None)
        inside = request.path.startswith("/admin/") and getattr(user, "is_staff", False)
        context = {
            **admin.site.each_context(request),
            "title": title,
            "message": message,
            "what_to_do": what_to_do,
            "again": again,
        }
        template = "backoffice/problem.html" if inside else "problem.html"
        return TemplateResponse(request, template, context, status=status).render()
    except DATABASE_DOWN as error:
        return database_unavailable(request, error)


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    """404: no such page (a mistyped or old address, a link to something removed)."""
    return _problem_page(
        request,
        404,
        "not_found",
        gettext("Page not found"),
        gettext("There is no such page, or it has moved."),
        gettext("Check the address, or start again from the home page."),
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """403 from Django's CSRF check: the form came from a page that is out of date (open too
    long, signed in or out since in another tab) or without the site's cookie."""
    return _problem_page(
        request,
        403,
        "page_out_of_date",
        gettext("The page is out of date"),
        gettext(
            "The form was sent from a page that was open too long, or from before you signed "
            "in or out in another tab. Nothing was saved."
        ),
        gettext(
            "Reload the page, enter the data again and send it. If this happens every time, "
            "allow this site to keep cookies in the browser."
        ),
        again=request.get_full_path(),
    )

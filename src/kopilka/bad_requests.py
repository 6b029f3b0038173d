"""Django's handler of 400s (`urls.handler400`): a request whose body or form is larger than
Django accepts (`kopilka.bounds.MAX_REQUEST_BODY`, `MAX_FORM_FIELDS`) is answered 413 in
the way its face shows errors, instead of a bare "Bad Request" page.

The API answers its own oversized bodies with a problem document (`pos.problems`); this
handler sees what is refused before a view runs (the back office's and the cashier screen's
forms, read by the CSRF check), and answers the API the same way should one reach it.
"""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.shortcuts import render
from django.utils.translation import gettext
from django.views import defaults

from kopilka import bounds

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

"""Everything under /api/ answers errors as problem documents, even the ones Django itself
produces before our endpoints run (unknown URL, wrong method, a crash)."""

from http import HTTPStatus

from django.utils.translation import gettext as _

from .problems import CONTENT_TYPE, problem

CODES = {404: "not_found", 405: "method_not_allowed", 400: "bad_request", 413: "too_large"}


class ApiProblemsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code >= 400
            and response.get("Content-Type", "") != CONTENT_TYPE
        ):
            status = response.status_code
            code = CODES.get(status, "internal_error" if status >= 500 else "error")
            detail = (
                _("Something went wrong on our side.")
                if status >= 500
                else HTTPStatus(status).phrase
            )
            converted = problem(status, code, detail)
            for header in ("Allow", "Retry-After"):
                if header in response:
                    converted[header] = response[header]
            return converted
        return response

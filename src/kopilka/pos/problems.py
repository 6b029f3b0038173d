"""Errors as RFC 9457 problem documents: one mapping for every endpoint of the API.

Every error has a stable machine `code` and a `detail` in the merchant's language; nothing a
client sends may turn into a 500.
"""

from __future__ import annotations

import logging

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from kopilka import bounds
from kopilka.bad_requests import database_unavailable
from kopilka.errors import KopilkaError
from kopilka.limits.ratelimit import RateLimited

logger = logging.getLogger(__name__)
CONTENT_TYPE = "application/problem+json"


RESERVED = {"type", "title", "status", "code", "detail", "instance"}


def problem(status: int, code: str, detail, extra: dict | None = None) -> JsonResponse:
    """A problem document; `extra` adds members (details of the error) but never replaces
    the standard ones."""
    body = {k: v for k, v in (extra or {}).items() if k not in RESERVED}
    body.update(
        type=f"https://kopilka.dev/problems/{code}",
        title=code.replace("_", " "),
        status=status,
        code=code,
        detail=str(detail),
    )
    return JsonResponse(body, status=status, content_type=CONTENT_TYPE)


def too_large_problem() -> JsonResponse:
    """413: the body is larger than kopilka.bounds.MAX_REQUEST_BODY."""
    return problem(
        413,
        "too_large",
        _("The request body is larger than %(bytes)s bytes.") % {"bytes": bounds.MAX_REQUEST_BODY},
        {"max_bytes": bounds.MAX_REQUEST_BODY},
    )


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return str(value)


def install(api) -> None:
    @api.exception_handler(KopilkaError)
    def domain_error(request: HttpRequest, error: KopilkaError):
        response = problem(error.status, error.code, error.message, _jsonable(error.details))
        if isinstance(error, RateLimited):
            response["Retry-After"] = str(error.retry_after)
        return response

    @api.exception_handler(NinjaValidationError)
    def validation_error(request: HttpRequest, error: NinjaValidationError):
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))}
            for e in error.errors
        ]
        return problem(
            422, "validation_error", _("The request is not valid."), {"errors": _jsonable(errors)}
        )

    @api.exception_handler(AuthenticationError)
    def authentication_error(request: HttpRequest, error: AuthenticationError):
        return problem(
            401, "invalid_api_key", _("The register API key is missing, wrong or revoked.")
        )

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, error: Http404):
        return problem(404, "not_found", _("Not found."))

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, error: HttpError):
        code = {400: "bad_request", 405: "method_not_allowed"}.get(error.status_code, "error")
        return problem(error.status_code, code, str(error))

    @api.exception_handler(RequestDataTooBig)
    def too_large(request: HttpRequest, error: RequestDataTooBig):
        return too_large_problem()

    @api.exception_handler(OperationalError)
    @api.exception_handler(InterfaceError)
    def database_down(request: HttpRequest, error: Exception):
        return database_unavailable(request, error)

    @api.exception_handler(Exception)
    def unexpected(request: HttpRequest, error: Exception):
        logger.exception("unexpected error in %s %s", request.method, request.path)
        return problem(500, "internal_error", _("Something went wrong on our side."))

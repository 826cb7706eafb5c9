"""Errors on /api/v1: every answer that is not a success is ``{"error", "code"[, "field", "retryAfter"]}`` with the
code GraphQL would give (``protocol.errors.ErrorCode``) and the matching HTTP status. Domain errors are mapped by
``api/http_errors.py`` (the one mapping plain HTTP routes share); this adds what only a typed REST route meets:
parameters and bodies Litestar itself refuses, and values the database cannot hold."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec

from api.db_errors import is_bad_data
from api.errors import AppError, BadInputError
from api.http_errors import HTTP_ERROR_HANDLERS

log = logging.getLogger("meetmesh.api")
_MISSING = re.compile(r"Object missing required field `([^`]+)`")


@dataclass
class ErrorBody:
    """The body of every error answer."""

    error: str
    """What went wrong, for a person."""
    code: str
    """For programs: BAD_INPUT, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, CONFLICT, MEETING_ENDED, RATE_LIMITED, ..."""
    field: str | None = None
    """The input the error is about, when there is one."""
    retryAfter: float | None = None
    """Seconds to wait (RATE_LIMITED; also in the Retry-After header)."""


def _app_error(request: Request[Any, Any, Any], exc: AppError) -> Response[Any]:
    handler = HTTP_ERROR_HANDLERS[AppError]
    return handler(request, exc)  # type: ignore[no-any-return]


def _validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    # Litestar's message names the parameter or body field; its ``extra`` lists them, each with msgspec's reason.
    # A missing body field is reported against the whole body ("data"): the reason names the field.
    field, reason = None, None
    if isinstance(exc.extra, list) and exc.extra and isinstance(exc.extra[0], dict):
        key, reason = exc.extra[0].get("key"), exc.extra[0].get("message")
        field = str(key) if key is not None else None
        missing = _MISSING.fullmatch(str(reason or ""))
        if field == "data" and missing:
            field = missing.group(1)
    message = exc.detail if not field else f"{exc.detail}: {field}"
    if reason:
        message = f"{message} ({reason})"
    return _app_error(request, BadInputError(field or "request", message))


def _other(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if is_bad_data(exc):  # e.g. text with NUL on PostgreSQL: the caller's value, not our bug
        return _app_error(request, BadInputError("request", "a value in this request is not valid here"))
    if isinstance(exc, HTTPException) and exc.status_code < 500:
        code = {
            401: "UNAUTHENTICATED",
            403: "FORBIDDEN",
            404: "NOT_FOUND",
            413: "PAYLOAD_TOO_LARGE",
            429: "RATE_LIMITED",
        }.get(exc.status_code, "BAD_INPUT")
        return Response({"error": exc.detail, "code": code}, status_code=exc.status_code)
    log.exception("unhandled error on %s", request.url.path)
    return Response({"error": "Internal error; it has been logged", "code": "INTERNAL"}, status_code=500)


EXCEPTION_HANDLERS: Any = {AppError: _app_error, ValidationException: _validation, Exception: _other}


def _spec(text: str) -> ResponseSpec:
    return ResponseSpec(data_container=ErrorBody, description=text, generate_examples=False)


# Statuses every handler may answer (documented so clients, and schemathesis, know every answer's shape).
COMMON = {
    400: _spec("BAD_INPUT: a parameter or body field is invalid (see field)"),
    401: _spec("UNAUTHENTICATED: no, an invalid or a revoked bearer token or API key"),
    403: _spec("FORBIDDEN: the key lacks the scope, or the account may not do this"),
    404: _spec("NOT_FOUND"),
    429: _spec("RATE_LIMITED: over the key's rate; wait Retry-After seconds"),
}
BODY = {413: _spec("PAYLOAD_TOO_LARGE: the body is over 64 KiB")}
CONFLICT = {409: _spec("CONFLICT or MEETING_ENDED: the object's state does not allow this now")}

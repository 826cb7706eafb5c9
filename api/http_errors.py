"""Domain errors on plain HTTP routes (files, recordings): JSON ``{"error", "code"}`` with the matching status,
mapped here once. GraphQL maps the same errors in `api/graphql/errors.py`."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response

from api.errors import AppError
from protocol.errors import ErrorCode

_STATUS = {
    ErrorCode.BAD_INPUT: 400,
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.CONFLICT: 409,
    ErrorCode.MEETING_ENDED: 409,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.RATE_LIMITED: 429,
}


def _error(request: Request[Any, Any, Any], exc: AppError) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {"error": exc.message, "code": exc.code.value}
    headers: dict[str, str] = {}
    if exc.field:
        body["field"] = exc.field
    if exc.retry_after_s is not None:
        body["retryAfter"] = exc.retry_after_s
        headers["retry-after"] = str(max(1, round(exc.retry_after_s)))
    if exc.code is ErrorCode.UNAUTHENTICATED:
        headers["www-authenticate"] = "Bearer"
    return Response(body, status_code=_STATUS.get(exc.code, 400), headers=headers)


HTTP_ERROR_HANDLERS: Any = {AppError: _error}

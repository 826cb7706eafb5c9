"""The one place where errors become GraphQL errors with ``extensions.code``.

Domain errors keep their message and code; GraphQL's own parse/validation/coercion errors become BAD_INPUT;
anything else is logged with its traceback and replaced by a generic INTERNAL error (no stack trace leaves).
"""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError

from api.db_errors import is_bad_data
from api.errors import AppError
from protocol.errors import ErrorCode

log = logging.getLogger("meetmesh.api")


def map_error(error: GraphQLError) -> None:
    original = error.original_error
    if isinstance(original, AppError):
        ext: dict[str, Any] = {"code": original.code.value}
        if original.field:
            ext["field"] = original.field
        if original.retry_after_s is not None:
            ext["retryAfter"] = original.retry_after_s
        error.message = original.message
        error.extensions = ext
    elif original is None or isinstance(original, GraphQLError):
        # Parse, validation and variable-coercion errors: the client sent something the schema rejects.
        if not (error.extensions and "code" in error.extensions):
            error.extensions = {"code": ErrorCode.BAD_INPUT.value}
    elif is_bad_data(original):
        # A value the database cannot hold (text with NUL on PostgreSQL): the caller's input, not our bug.
        error.message = "a value in this request is not valid here (text must not contain NUL characters)"
        error.original_error = None
        error.extensions = {"code": ErrorCode.BAD_INPUT.value}
    else:
        log.error("unexpected error in %s", ".".join(map(str, error.path or [])) or "operation", exc_info=original)
        error.message = "Internal error; it has been logged"
        error.original_error = None
        error.extensions = {"code": ErrorCode.INTERNAL.value}

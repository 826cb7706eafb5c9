"""Errors the API answers, as typed exceptions carrying its machine-readable codes (docs/api.md, "Errors")."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any


@dataclass
class MeetmeshError(Exception):
    """An error the API answered. ``code`` is its ``extensions.code`` (``FORBIDDEN``, ``BAD_INPUT``...)."""

    code: str
    message: str
    field: str | None = None
    """The input field at fault, for input errors."""
    retry_after: float | None = None
    """Seconds to wait, for ``RATE_LIMITED``."""
    errors: list[dict[str, Any]] = dc_field(default_factory=list)
    """Every error of the answer, as the server sent them."""

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class BadInputError(MeetmeshError):
    pass


class UnauthenticatedError(MeetmeshError):
    pass


class ForbiddenError(MeetmeshError):
    pass


class NotFoundError(MeetmeshError):
    pass


class ConflictError(MeetmeshError):
    pass


class RateLimitedError(MeetmeshError):
    pass


class BadPasscodeError(MeetmeshError):
    pass


class MeetingLockedError(MeetmeshError):
    pass


class MeetingFullError(MeetmeshError):
    pass


class MeetingEndedError(MeetmeshError):
    pass


class ResyncRequiredError(MeetmeshError):
    """The resume point is older than the server's retained event log: fetch state again."""


class PayloadTooLargeError(MeetmeshError):
    pass


class TransportError(MeetmeshError):
    """The server could not be reached or answered something that is not a GraphQL response."""


_BY_CODE: dict[str, type[MeetmeshError]] = {
    "BAD_INPUT": BadInputError,
    "UNAUTHENTICATED": UnauthenticatedError,
    "FORBIDDEN": ForbiddenError,
    "NOT_FOUND": NotFoundError,
    "CONFLICT": ConflictError,
    "RATE_LIMITED": RateLimitedError,
    "BAD_PASSCODE": BadPasscodeError,
    "MEETING_LOCKED": MeetingLockedError,
    "MEETING_FULL": MeetingFullError,
    "MEETING_ENDED": MeetingEndedError,
    "RESYNC_REQUIRED": ResyncRequiredError,
    "PAYLOAD_TOO_LARGE": PayloadTooLargeError,
}


def error_from(errors: list[dict[str, Any]]) -> MeetmeshError:
    """The typed exception for a GraphQL ``errors`` list (the first error decides the class)."""
    first: dict[str, Any] = errors[0] if errors else {"message": "empty error list"}
    ext: dict[str, Any] = first.get("extensions") or {}
    code = str(ext.get("code") or "INTERNAL")
    retry = ext.get("retryAfter")
    cls = _BY_CODE.get(code, MeetmeshError)
    return cls(
        code=code,
        message=str(first.get("message", "")),
        field=ext.get("field"),
        retry_after=float(retry) if retry is not None else None,
        errors=errors,
    )

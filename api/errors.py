"""Domain errors. Inner code raises these; `api/graphql/errors.py` maps them to GraphQL errors once."""

from __future__ import annotations

from protocol.errors import ErrorCode


class AppError(Exception):
    code: ErrorCode = ErrorCode.INTERNAL

    def __init__(self, message: str, *, field: str | None = None, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.retry_after_s = retry_after_s


class BadInputError(AppError):
    code = ErrorCode.BAD_INPUT

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field=field)


class UnauthenticatedError(AppError):
    code = ErrorCode.UNAUTHENTICATED


class ForbiddenError(AppError):
    code = ErrorCode.FORBIDDEN


class NotFoundError(AppError):
    code = ErrorCode.NOT_FOUND


class ConflictError(AppError):
    code = ErrorCode.CONFLICT


class RateLimitedError(AppError):
    code = ErrorCode.RATE_LIMITED


class BadPasscodeError(AppError):
    code = ErrorCode.BAD_PASSCODE


class MeetingLockedError(AppError):
    code = ErrorCode.MEETING_LOCKED


class MeetingFullError(AppError):
    code = ErrorCode.MEETING_FULL


class MeetingEndedError(AppError):
    code = ErrorCode.MEETING_ENDED


class ResyncRequiredError(AppError):
    code = ErrorCode.RESYNC_REQUIRED


class PayloadTooLargeError(AppError):
    code = ErrorCode.PAYLOAD_TOO_LARGE

"""Machine-readable error codes, the same on every boundary (GraphQL `extensions.code`, edge close reasons)."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    BAD_INPUT = "BAD_INPUT"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    RATE_LIMITED = "RATE_LIMITED"
    BAD_PASSCODE = "BAD_PASSCODE"
    MEETING_LOCKED = "MEETING_LOCKED"
    MEETING_FULL = "MEETING_FULL"
    MEETING_ENDED = "MEETING_ENDED"
    RESYNC_REQUIRED = "RESYNC_REQUIRED"
    """A subscriber asked to resume from a point the event log no longer holds: refetch state, then
    subscribe from the fresh ``eventSeq``."""
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    INTERNAL = "INTERNAL"

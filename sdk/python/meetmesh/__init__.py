"""meetmesh: typed Python client (async and sync) for the meetmesh GraphQL API. See docs/sdk.md."""

from meetmesh.client import AsyncClient
from meetmesh.errors import (
    BadInputError,
    BadPasscodeError,
    ConflictError,
    ForbiddenError,
    MeetingEndedError,
    MeetingFullError,
    MeetingLockedError,
    MeetmeshError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitedError,
    ResyncRequiredError,
    TransportError,
    UnauthenticatedError,
)
from meetmesh.events import EventStream
from meetmesh.sync import Client, SyncEventStream
from meetmesh.types import (
    ChatMessage,
    JoinResult,
    JoinToken,
    Meeting,
    MeetingEvent,
    Participant,
    Poll,
    Recording,
    Session,
    User,
)

__all__ = [
    "AsyncClient",
    "BadInputError",
    "BadPasscodeError",
    "ChatMessage",
    "Client",
    "ConflictError",
    "EventStream",
    "ForbiddenError",
    "JoinResult",
    "JoinToken",
    "Meeting",
    "MeetingEndedError",
    "MeetingEvent",
    "MeetingFullError",
    "MeetingLockedError",
    "MeetmeshError",
    "NotFoundError",
    "Participant",
    "PayloadTooLargeError",
    "Poll",
    "RateLimitedError",
    "Recording",
    "ResyncRequiredError",
    "Session",
    "SyncEventStream",
    "TransportError",
    "UnauthenticatedError",
    "User",
]

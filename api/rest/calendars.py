"""/api/v1/me/calendar: your connected calendar (CalDAV), thin over api/calendars/connections.py (the same rules
as the GraphQL ``connectCalendar``, ``disconnectCalendar`` and ``calendarConnection``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from litestar import Controller, Request, delete, get, put

from api.calendars import connections
from api.errors import NotFoundError
from api.rest.auth import caller, services
from api.rest.errors import BODY, COMMON


@dataclass
class CalendarConnectionIn:
    url: str
    """The CalDAV calendar collection, e.g. https://dav.example.com/alice/work/."""
    username: str
    password: str
    """Password or app password: stored encrypted, never returned."""


@dataclass
class CalendarConnectionOut:
    id: str
    provider: str
    url: str
    username: str
    created_at: datetime
    last_synced_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    pending: int
    failed: int

    @classmethod
    def of(cls, v: connections.ConnectionView) -> CalendarConnectionOut:
        return cls(
            id=v.id,
            provider=v.provider,
            url=v.url,
            username=v.username,
            created_at=v.created_at,
            last_synced_at=v.last_synced_at,
            last_error=v.last_error,
            last_error_at=v.last_error_at,
            pending=v.pending,
            failed=v.failed,
        )


class CalendarConnectionController(Controller):
    path = "/me/calendar"
    tags = ["calendar"]

    @get("/", summary="Your connected calendar and its sync state", responses=COMMON, operation_id="getCalendar")
    async def get_calendar(self, request: Request[Any, Any, Any]) -> CalendarConnectionOut:
        principal = await caller(request, "users:read")
        v = await connections.connection(services(request), principal)
        if v is None:
            raise NotFoundError("no calendar is connected")
        return CalendarConnectionOut.of(v)

    @put(
        "/",
        summary="Connect a CalDAV calendar (checked now; an account session, not an API key)",
        responses={**COMMON, **BODY},
        operation_id="connectCalendar",
    )
    async def connect_calendar(
        self, request: Request[Any, Any, Any], data: CalendarConnectionIn
    ) -> CalendarConnectionOut:
        principal = await caller(request, "users:read")
        v = await connections.connect(services(request), principal, data.url, data.username, data.password)
        return CalendarConnectionOut.of(v)

    @delete(
        "/",
        summary="Disconnect your calendar (entries written there stay)",
        responses=COMMON,
        operation_id="disconnectCalendar",
    )
    async def disconnect_calendar(self, request: Request[Any, Any, Any]) -> None:
        principal = await caller(request, "users:read")
        await connections.disconnect(services(request), principal)

"""Calendars on /api/v1, thin over api/calendars (the rules GraphQL's calendar fields use):

- ``/me/calendar``: your connected calendar (CalDAV), over connections.py (``connectCalendar``,
  ``disconnectCalendar``, ``calendarConnection``);
- ``/me/calendar-feed``: your secret feed, over service.py (``rotateCalendarFeed``, ``revokeCalendarFeed``,
  ``calendarFeed``; an account's own session only, as on GraphQL);
- ``/meetings/{id}/calendar-links``: a meeting's .ics URL and "add to" links, over ``service.view`` (what
  ``Meeting.calendarLinks`` answers). A route of its own rather than fields of ``MeetingOut``: building them
  reads the meeting's calendar state and its organizer, two more reads per meeting that every meeting list
  would pay for links few callers want."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from litestar import Controller, Request, delete, get, post, put

from api.calendars import connections
from api.calendars import service as calendars
from api.errors import NotFoundError
from api.meetings import service as meetings
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


@dataclass
class CalendarLinksOut:
    ics: str
    """The meeting's iCalendar file (GET it with Authorization: Bearer, as whoever may see the meeting)."""
    google: str
    """"Add to Google Calendar" (recurrence included)."""
    outlook: str
    """"Add to Outlook.com" (one occurrence: the form takes no rule; the .ics carries the series)."""
    office365: str
    """"Add to Outlook" for Microsoft 365 accounts (one occurrence)."""
    sequence: int
    """RFC 5545 SEQUENCE: grows when time, title, text or recurrence change."""
    includes_passcode: bool
    """Whether calendar entries and invitations carry the passcode (the host decides)."""
    skipped_occurrences: list[datetime]
    """Starts of occurrences left out (EXDATE)."""

    @classmethod
    def of(cls, v: calendars.MeetingCalendarView) -> CalendarLinksOut:
        return cls(
            ics=v.ics_url,
            google=v.links.google,
            outlook=v.links.outlook,
            office365=v.links.office365,
            sequence=v.sequence,
            includes_passcode=v.include_passcode,
            skipped_occurrences=v.exdates,
        )


class MeetingCalendarLinksController(Controller):
    path = "/meetings/{meeting_id:str}/calendar-links"
    tags = ["calendar"]

    @get(
        "/",
        summary='A meeting as a calendar entry: its .ics URL and "add to Google Calendar / Outlook" links',
        responses=COMMON,
        operation_id="getMeetingCalendarLinks",
    )
    async def calendar_links(self, request: Request[Any, Any, Any], meeting_id: str) -> CalendarLinksOut:
        principal = await caller(request, "meetings:read")
        svc = services(request)
        a = await meetings.access(svc, principal, meeting_id)  # whoever may read the meeting, as meeting(id)
        return CalendarLinksOut.of(await calendars.view(svc, a.meeting))


@dataclass
class CalendarFeedOut:
    created_at: datetime
    """When the current URL was made (the URL itself is shown only when made)."""


@dataclass
class CreatedCalendarFeedOut:
    created_at: datetime
    url: str
    """The feed: anyone holding it sees your meetings. Shown only in this answer."""
    webcal_url: str
    """The same as webcal:// (Apple Calendar and Outlook subscribe to it)."""
    google_subscribe_url: str
    """Opens Google Calendar's subscribe page for it."""


class CalendarFeedController(Controller):
    path = "/me/calendar-feed"
    tags = ["calendar"]

    @get(
        "/",
        summary="Whether you have a calendar feed (404 when none)",
        responses=COMMON,
        operation_id="getCalendarFeed",
    )
    async def get_feed(self, request: Request[Any, Any, Any]) -> CalendarFeedOut:
        principal = await caller(request, "users:read")
        row = await calendars.feed(services(request), principal)
        if row is None:
            raise NotFoundError("you have no calendar feed")
        return CalendarFeedOut(created_at=row.created_at)

    @post(
        "/",
        summary="Create your secret calendar feed, or give it a new URL (the old one stops working at once)",
        description="An account's own session only: API keys get 403.",
        responses=COMMON,
        status_code=201,
        operation_id="rotateCalendarFeed",
    )
    async def rotate_feed(self, request: Request[Any, Any, Any]) -> CreatedCalendarFeedOut:
        principal = await caller(request, "users:read")
        row, url = await calendars.rotate_feed(services(request), principal)
        urls = calendars.feed_urls(url)
        return CreatedCalendarFeedOut(
            created_at=row.created_at, url=urls.url, webcal_url=urls.webcal, google_subscribe_url=urls.google_subscribe
        )

    @delete(
        "/",
        summary="Delete your calendar feed: its URL answers 404 from now on (404 when there is none)",
        responses=COMMON,
        operation_id="revokeCalendarFeed",
    )
    async def revoke_feed(self, request: Request[Any, Any, Any]) -> None:
        principal = await caller(request, "users:read")
        if not await calendars.revoke_feed(services(request), principal):
            raise NotFoundError("you have no calendar feed")

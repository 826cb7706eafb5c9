"""GraphQL types of api/calendars."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.calendars.connections import ConnectionView
from api.calendars.service import MeetingCalendarView


@strawberry.type(description="A meeting as a calendar entry: its .ics and pre-filled forms of calendar services.")
class CalendarLinks:
    ics: str = strawberry.field(
        description="The meeting's iCalendar file (GET with `Authorization: Bearer`, for whoever may see it)."
    )
    google: str = strawberry.field(description='"Add to Google Calendar" (recurrence included).')
    outlook: str = strawberry.field(description='"Add to Outlook.com" (one occurrence: the form takes no rule).')
    office365: str = strawberry.field(description='"Add to Outlook" for Microsoft 365 accounts (one occurrence).')
    sequence: int = strawberry.field(description="RFC 5545 SEQUENCE: grows when time, title or recurrence change.")
    includes_passcode: bool = strawberry.field(
        description="Whether calendar entries and invitations carry the passcode (the host decides)."
    )
    skipped_occurrences: list[datetime] = strawberry.field(description="Starts of occurrences left out (EXDATE).")

    @classmethod
    def of(cls, v: MeetingCalendarView) -> CalendarLinks:
        return cls(
            ics=v.ics_url,
            google=v.links.google,
            outlook=v.links.outlook,
            office365=v.links.office365,
            sequence=v.sequence,
            includes_passcode=v.include_passcode,
            skipped_occurrences=v.exdates,
        )


@strawberry.type(description="Your secret calendar feed (its URL is shown only when created or rotated).")
class CalendarFeed:
    created_at: datetime


@strawberry.type(description="A new feed URL: subscribe to it from Google Calendar, Outlook or Apple Calendar.")
class CreatedCalendarFeed:
    created_at: datetime
    url: str = strawberry.field(description="https URL of the feed: anyone holding it sees your meetings.")
    webcal_url: str = strawberry.field(description="The same as webcal:// (Apple Calendar and Outlook subscribe).")
    google_subscribe_url: str = strawberry.field(description="Opens Google Calendar's subscribe page for it.")


@strawberry.type(description="Your connected calendar (CalDAV): your meetings are written there. Never the password.")
class CalendarConnection:
    id: strawberry.ID
    provider: str = strawberry.field(description='"caldav".')
    url: str = strawberry.field(description="The calendar collection's URL.")
    username: str
    created_at: datetime
    last_synced_at: datetime | None = strawberry.field(description="When an entry was last written there.")
    last_error: str | None = strawberry.field(description="Why the last write failed (cleared by a success).")
    last_error_at: datetime | None
    pending: int = strawberry.field(description="Entries still to write, including those waiting to be retried.")
    failed: int = strawberry.field(
        description="Entries given up after every retry (written again when the meeting changes or on reconnect)."
    )

    @classmethod
    def of(cls, v: ConnectionView) -> CalendarConnection:
        return cls(
            id=strawberry.ID(v.id),
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


@strawberry.input(description="A CalDAV calendar collection and the credentials that write to it.")
class ConnectCalendarInput:
    url: str = strawberry.field(description="The calendar collection (e.g. https://dav.example.com/alice/work/).")
    username: str
    password: str = strawberry.field(description="Password or app password; stored encrypted, never shown again.")

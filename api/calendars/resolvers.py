"""GraphQL entry points of api/calendars (thin over ``service``)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.calendars import connections, service
from api.calendars.types import (
    CalendarConnection,
    CalendarFeed,
    CalendarLinks,
    ConnectCalendarInput,
    CreatedCalendarFeed,
)
from api.graphql.context import ctx
from api.meetings import store as meetings_store


async def _links(info: strawberry.Info, meeting_id: str) -> CalendarLinks:
    async with ctx(info).services.db.read() as session:
        m = await meetings_store.by_id(session, meeting_id)
    assert m is not None  # the service just changed it under the same caller's rights
    return CalendarLinks.of(await service.view(ctx(info).services, m))


@strawberry.type
class CalendarQuery:
    @strawberry.field(description="Your secret calendar feed, if you made one (never its URL).")
    async def calendar_feed(self, info: strawberry.Info) -> CalendarFeed | None:
        row = await service.feed(ctx(info).services, ctx(info).principal)
        return CalendarFeed(created_at=row.created_at) if row is not None else None

    @strawberry.field(description="Who was invited to a meeting by e-mail (host and co-hosts).")
    async def meeting_invitees(self, info: strawberry.Info, meeting_id: strawberry.ID) -> list[str]:
        return await service.invitees(ctx(info).services, ctx(info).principal, meeting_id)

    @strawberry.field(description="Your connected calendar and how its sync is going, if you connected one.")
    async def calendar_connection(self, info: strawberry.Info) -> CalendarConnection | None:
        v = await connections.connection(ctx(info).services, ctx(info).principal)
        return CalendarConnection.of(v) if v is not None else None


@strawberry.type
class CalendarMutation:
    @strawberry.mutation(
        description="Create your calendar feed, or give it a new secret URL (the old one stops working)."
    )
    async def rotate_calendar_feed(self, info: strawberry.Info) -> CreatedCalendarFeed:
        row, url = await service.rotate_feed(ctx(info).services, ctx(info).principal)
        urls = service.feed_urls(url)
        return CreatedCalendarFeed(
            created_at=row.created_at, url=urls.url, webcal_url=urls.webcal, google_subscribe_url=urls.google_subscribe
        )

    @strawberry.mutation(description="Delete your calendar feed: its URL answers 404 from now on.")
    async def revoke_calendar_feed(self, info: strawberry.Info) -> bool:
        return await service.revoke_feed(ctx(info).services, ctx(info).principal)

    @strawberry.mutation(description="Whether the meeting's calendar entries carry its passcode (host decides).")
    async def set_meeting_calendar_options(
        self, info: strawberry.Info, meeting_id: strawberry.ID, include_passcode: bool
    ) -> CalendarLinks:
        await service.set_options(
            ctx(info).services, ctx(info).principal, meeting_id, include_passcode=include_passcode
        )
        return await _links(info, meeting_id)

    @strawberry.mutation(description="Leave one occurrence of a recurring meeting out (EXDATE); invitees are updated.")
    async def skip_meeting_occurrence(
        self, info: strawberry.Info, meeting_id: strawberry.ID, starts_at: datetime
    ) -> CalendarLinks:
        await service.skip_occurrence(ctx(info).services, ctx(info).principal, meeting_id, starts_at)
        return await _links(info, meeting_id)

    @strawberry.mutation(description="Invite people by e-mail (iCalendar invitations); returns all invitees.")
    async def invite_to_meeting(self, info: strawberry.Info, meeting_id: strawberry.ID, emails: list[str]) -> list[str]:
        return await service.invite(ctx(info).services, ctx(info).principal, meeting_id, emails)

    @strawberry.mutation(description="Withdraw invitations (they get a cancellation); returns the remaining invitees.")
    async def uninvite_from_meeting(
        self, info: strawberry.Info, meeting_id: strawberry.ID, emails: list[str]
    ) -> list[str]:
        return await service.uninvite(ctx(info).services, ctx(info).principal, meeting_id, emails)

    @strawberry.mutation(
        description="Connect a CalDAV calendar (checked now); your scheduled meetings are written there and kept "
        "in step. Replaces a calendar connected before."
    )
    async def connect_calendar(self, info: strawberry.Info, input: ConnectCalendarInput) -> CalendarConnection:
        v = await connections.connect(
            ctx(info).services, ctx(info).principal, input.url, input.username, input.password
        )
        return CalendarConnection.of(v)

    @strawberry.mutation(description="Disconnect your calendar (entries already written there stay).")
    async def disconnect_calendar(self, info: strawberry.Info) -> bool:
        await connections.disconnect(ctx(info).services, ctx(info).principal)
        return True


QUERIES: tuple[type, ...] = (CalendarQuery,)
MUTATIONS: tuple[type, ...] = (CalendarMutation,)
SUBSCRIPTIONS: tuple[type, ...] = ()

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from api.events import stream
from api.events.types import MeetingEvent, to_graphql
from api.graphql.context import ctx


@strawberry.type
class EventSubscription:
    @strawberry.subscription(
        description="Everything visible to you in a meeting, in order. Pass afterSeq (from Meeting.eventSeq or "
        "the last event you saw) to receive what you missed first. Admitted participants only; waiting-room "
        "events go to the host and co-hosts."
    )
    async def meeting_events(
        self, info: strawberry.Info, meeting_id: strawberry.ID, after_seq: int | None = None
    ) -> AsyncGenerator[MeetingEvent, None]:
        c = ctx(info)
        async for ev in stream.events(c.services, c.principal, meeting_id, after_seq=after_seq, personal=False):
            yield to_graphql(ev)

    @strawberry.subscription(
        description="Events about you in a meeting: admission or denial while waiting, requests from the host, "
        "removal, the meeting's end."
    )
    async def my_events(
        self, info: strawberry.Info, meeting_id: strawberry.ID, after_seq: int | None = None
    ) -> AsyncGenerator[MeetingEvent, None]:
        c = ctx(info)
        async for ev in stream.events(c.services, c.principal, meeting_id, after_seq=after_seq, personal=True):
            yield to_graphql(ev)

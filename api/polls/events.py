"""GraphQL event types of polls, registered with the meeting event stream at import."""

from __future__ import annotations

import strawberry

from api.events.types import Common, MeetingEvent, register
from api.polls.types import PollResults, PollState
from protocol.events import EventType
from protocol.events import MeetingEvent as BusEvent


@strawberry.type(
    description="A poll was created, edited or deleted (drafts: hosts only), launched or ended; `poll` is its "
    "state after the change (before it, for a deletion)."
)
class PollEvent(MeetingEvent):
    poll: PollState


@strawberry.type(
    description="Poll counts. POLL_VOTES_UPDATED: live, host and co-hosts only, after every vote and once more, "
    "final, when the poll ends. POLL_RESULTS_SHARED: the final counts, for everyone."
)
class PollResultsEvent(MeetingEvent):
    results: PollResults


def _poll_event(ev: BusEvent, c: Common) -> PollEvent:
    return PollEvent(
        **c,
        poll=PollState.from_snapshot(ev.data["poll"]),
    )


def _results_event(ev: BusEvent, c: Common) -> PollResultsEvent:
    return PollResultsEvent(
        **c,
        results=PollResults.from_snapshot(ev.data["results"]),
    )


register(
    [PollEvent, PollResultsEvent],
    {
        EventType.POLL_CREATED: _poll_event,
        EventType.POLL_UPDATED: _poll_event,
        EventType.POLL_DELETED: _poll_event,
        EventType.POLL_LAUNCHED: _poll_event,
        EventType.POLL_ENDED: _poll_event,
        EventType.POLL_VOTES_UPDATED: _results_event,
        EventType.POLL_RESULTS_SHARED: _results_event,
    },
)

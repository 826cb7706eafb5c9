"""Shared execution of subscription events: one execution per (event, operation, inner variables)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing

import strawberry

from api.events.types import MeetingEvent, ParticipantEvent, to_graphql
from api.graphql import shared_events
from api.graphql.shared_events import SharedEventExecutionContext
from protocol.events import Audience, EventType
from protocol.events import MeetingEvent as BusEvent


def _event(seq: int) -> BusEvent:
    snap = {
        "id": "p1",
        "meetingId": "m1",
        "userId": None,
        "displayName": "Ann",
        "role": "guest",
        "state": "admitted",
        "waitingReason": None,
        "audioMuted": True,
        "mutedByHost": False,
        "videoOn": False,
        "sharing": False,
        "handRaisedAt": None,
        "joinedAt": 0.0,
    }
    return BusEvent(
        meeting_id="m1",
        seq=seq,
        type=EventType.PARTICIPANT_UPDATED,
        audience=Audience.ALL,
        at=0.0,
        subject_id="p1",
        participant=snap,
    )


@strawberry.type
class Query:
    ok: bool = True


def test_to_graphql_builds_each_event_once() -> None:
    ev = _event(1)
    assert to_graphql(ev) is to_graphql(ev)
    assert to_graphql(_event(2)) is not to_graphql(ev)


OPERATION = (
    "subscription($a: Int, $u: Boolean!) { events(after: $a) { seq ... on ParticipantEvent "
    "{ participant { displayName @include(if: $u) id } } } }"
)


async def test_identical_subscriptions_execute_an_event_once_and_variables_inside_count() -> None:
    @strawberry.type
    class Subscription:
        @strawberry.subscription
        async def events(self, after: int = 0) -> AsyncGenerator[MeetingEvent, None]:
            yield to_graphql(_event(100 + after))

    schema = strawberry.Schema(
        query=Query,
        subscription=Subscription,
        types=[ParticipantEvent],
        execution_context_class=SharedEventExecutionContext,
    )
    shared_events._results.clear()
    results = []
    for variables in ({"a": 1, "u": True}, {"a": 1, "u": True}, {"a": 1, "u": False}):
        gen = await schema.subscribe(OPERATION, variable_values=variables)
        async with aclosing(gen):  # type: ignore[type-var]
            async for r in gen:  # type: ignore[union-attr]
                assert not r.errors, r.errors
                results.append(r.data)
                break
    assert results[0] == results[1] == {"events": {"seq": 101, "participant": {"displayName": "Ann", "id": "p1"}}}
    assert results[2] == {"events": {"seq": 101, "participant": {"id": "p1"}}}
    # Two distinct inner-variable sets, so two cached executions; the repeat was served from the cache.
    assert len(shared_events._results) == 2

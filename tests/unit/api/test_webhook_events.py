"""Which meeting events become which webhooks (api/webhooks/events.py). Every webhook event type the API sends
has a case here that fails if its mapping is removed."""

from __future__ import annotations

import json

import pytest

from api.webhooks.events import PER_EVENT, WEBHOOK_TYPES, meeting_created, translate, wants
from protocol.events import Audience, EventType, MeetingEvent
from protocol.webhooks import SUBSCRIBABLE, WebhookEvent

EXPECTED: dict[EventType, tuple[WebhookEvent, ...]] = {
    EventType.MEETING_STARTED: (WebhookEvent.MEETING_STARTED,),
    EventType.MEETING_ENDED: (WebhookEvent.MEETING_ENDED,),
    EventType.PARTICIPANT_ADMITTED: (WebhookEvent.PARTICIPANT_JOINED,),
    EventType.PARTICIPANT_WAITING: (WebhookEvent.PARTICIPANT_WAITING,),
    EventType.PARTICIPANT_LEFT: (WebhookEvent.PARTICIPANT_LEFT,),
    EventType.PARTICIPANT_REMOVED: (WebhookEvent.PARTICIPANT_LEFT,),
    EventType.RECORDING_STARTED: (WebhookEvent.RECORDING_STARTED,),
    EventType.RECORDING_STOPPED: (WebhookEvent.RECORDING_STOPPED,),
    EventType.RECORDING_READY: (WebhookEvent.RECORDING_READY, WebhookEvent.TRANSCRIPT_READY),
    EventType.RECORDING_FAILED: (WebhookEvent.RECORDING_FAILED,),
    EventType.CHAT_MESSAGE_SENT: (WebhookEvent.CHAT_MESSAGE,),
    EventType.POLL_ENDED: (WebhookEvent.POLL_ENDED,),
    EventType.BREAKOUT_ROOMS_OPENED: (WebhookEvent.BREAKOUT_ROOMS_OPENED,),
    EventType.BREAKOUT_ROOMS_CLOSED: (WebhookEvent.BREAKOUT_ROOMS_CLOSED,),
}
"""Written out on purpose (not read from the module under test): the issue's list of events."""

NOT_FROM_MEETING_EVENTS = {WebhookEvent.MEETING_CREATED, WebhookEvent.ENDPOINT_DISABLED}
"""Sent by their own code paths: meeting creation emits no meeting event (``meeting_created``), and
``endpoint.disabled`` comes from the dispatcher (tests/integration/test_webhook_disable.py)."""


def _ev(type: EventType, seq: int = 3, **kw: object) -> MeetingEvent:
    return MeetingEvent(meeting_id="m1", seq=seq, type=type, audience=Audience.ALL, at=1_765_000_000.5, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("event", list(EXPECTED), ids=lambda e: e.value)
def test_each_meeting_event_maps_to_its_webhooks(event: EventType) -> None:
    outs = translate(_ev(event, subject_id="s1", actor_id="a1", data={"k": "v"}))
    assert tuple(o.type for o in outs) == EXPECTED[event]
    assert event in WEBHOOK_TYPES  # the outbox only looks up endpoints for these
    for o in outs:
        body = json.loads(o.body)
        assert body["type"] == o.type.value and body["timestamp"] == "2025-12-06T05:46:40.500000Z"
        assert body["data"]["meetingEvent"] == event.value and body["data"]["seq"] == 3
        assert (body["data"]["subjectId"], body["data"]["actorId"], body["data"]["details"]) == ("s1", "a1", {"k": "v"})


def test_meeting_created_has_its_own_builder() -> None:
    out = meeting_created("m1", 1_765_000_000.5, {"id": "m1", "title": "Standup"})
    assert out.type is WebhookEvent.MEETING_CREATED and out.position == 0
    body = json.loads(out.body)
    assert body["type"] == "meeting.created"
    assert body["data"] == {"meetingId": "m1", "seq": 0, "meeting": {"id": "m1", "title": "Standup"}}


def test_every_subscribable_type_is_covered_above() -> None:
    """A new webhook event type without a case in EXPECTED (or a producer outside meeting events) fails here."""
    mapped = {t for types in EXPECTED.values() for t in types}
    assert mapped | NOT_FROM_MEETING_EVENTS == set(SUBSCRIBABLE)
    # And nothing else leaves: every other meeting event maps to no webhook.
    for event in EventType:
        if event not in EXPECTED:
            assert translate(_ev(event)) == [], event
    assert WEBHOOK_TYPES == set(EXPECTED)


def test_mapping_and_body() -> None:
    [out] = translate(_ev(EventType.PARTICIPANT_ADMITTED, subject_id="p1"))
    assert out.type is WebhookEvent.PARTICIPANT_JOINED and out.position == 3 * PER_EVENT
    body = json.loads(out.body)
    assert body["type"] == "participant.joined" and body["timestamp"].endswith("Z")
    assert body["data"]["meetingId"] == "m1" and body["data"]["seq"] == 3 and body["data"]["subjectId"] == "p1"
    assert [o.type for o in translate(_ev(EventType.PARTICIPANT_REMOVED))] == [WebhookEvent.PARTICIPANT_LEFT]


def test_recording_ready_also_means_transcript_ready_in_order() -> None:
    outs = translate(_ev(EventType.RECORDING_READY))
    assert [o.type for o in outs] == [WebhookEvent.RECORDING_READY, WebhookEvent.TRANSCRIPT_READY]
    assert outs[0].position < outs[1].position < translate(_ev(EventType.RECORDING_READY, seq=4))[0].position


def test_high_rate_and_private_events_never_leave() -> None:
    assert translate(_ev(EventType.PARTICIPANT_UPDATED)) == []
    assert translate(_ev(EventType.CAPTION)) == []
    assert translate(_ev(EventType.CHAT_MESSAGE_SENT, recipients=("a", "b"))) == []
    assert translate(_ev(EventType.CHAT_MESSAGE_SENT, room_id="r1")) == []
    assert [o.type for o in translate(_ev(EventType.CHAT_MESSAGE_SENT))] == [WebhookEvent.CHAT_MESSAGE]


def test_chat_is_opt_in() -> None:
    assert not wants([], WebhookEvent.CHAT_MESSAGE)
    assert wants(["chat.message"], WebhookEvent.CHAT_MESSAGE)
    assert wants([], WebhookEvent.POLL_ENDED)
    assert not wants(["poll.ended"], WebhookEvent.MEETING_STARTED)
    assert wants(["poll.ended"], WebhookEvent.ENDPOINT_VERIFICATION)

"""Which meeting events become which webhooks (api/webhooks/events.py)."""

from __future__ import annotations

import json

from api.webhooks.events import PER_EVENT, translate, wants
from protocol.events import Audience, EventType, MeetingEvent
from protocol.webhooks import WebhookEvent


def _ev(type: EventType, seq: int = 3, **kw: object) -> MeetingEvent:
    return MeetingEvent(meeting_id="m1", seq=seq, type=type, audience=Audience.ALL, at=1_765_000_000.5, **kw)  # type: ignore[arg-type]


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

"""Which meeting events leave as webhooks, under which name, with which body.

A pure mapping (no I/O): ``translate`` turns one ``MeetingEvent`` into zero or more webhook events. The body
follows the Standard Webhooks payload shape (``type``, ``timestamp``, ``data``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from protocol.events import EventType, MeetingEvent
from protocol.webhooks import WebhookEvent

_SIMPLE: dict[EventType, tuple[WebhookEvent, ...]] = {
    EventType.MEETING_STARTED: (WebhookEvent.MEETING_STARTED,),
    EventType.MEETING_ENDED: (WebhookEvent.MEETING_ENDED,),
    EventType.PARTICIPANT_ADMITTED: (WebhookEvent.PARTICIPANT_JOINED,),
    EventType.PARTICIPANT_WAITING: (WebhookEvent.PARTICIPANT_WAITING,),
    EventType.PARTICIPANT_LEFT: (WebhookEvent.PARTICIPANT_LEFT,),
    EventType.PARTICIPANT_REMOVED: (WebhookEvent.PARTICIPANT_LEFT,),
    EventType.RECORDING_STARTED: (WebhookEvent.RECORDING_STARTED,),
    EventType.RECORDING_STOPPED: (WebhookEvent.RECORDING_STOPPED,),
    # Processing stores the transcript in the transaction before the one that marks the recording ready
    # (api/recordings/processing.py), so READY is when both exist.
    EventType.RECORDING_READY: (WebhookEvent.RECORDING_READY, WebhookEvent.TRANSCRIPT_READY),
    EventType.RECORDING_FAILED: (WebhookEvent.RECORDING_FAILED,),
    EventType.CHAT_MESSAGE_SENT: (WebhookEvent.CHAT_MESSAGE,),
    EventType.POLL_ENDED: (WebhookEvent.POLL_ENDED,),
    EventType.BREAKOUT_ROOMS_OPENED: (WebhookEvent.BREAKOUT_ROOMS_OPENED,),
    EventType.BREAKOUT_ROOMS_CLOSED: (WebhookEvent.BREAKOUT_ROOMS_CLOSED,),
}

WEBHOOK_TYPES: frozenset[EventType] = frozenset(_SIMPLE)
"""Meeting events that may produce a webhook: the outbox looks up endpoints only for these."""

PER_EVENT = 8
"""Ordering positions reserved per meeting event: ``position = seq * PER_EVENT + index`` keeps the webhooks of
one event (recording.ready, transcript.ready) in order after the events before it."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    type: WebhookEvent
    position: int
    body: str


def body(type: WebhookEvent, at: float, data: dict[str, Any]) -> str:
    stamp = datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z")
    return json.dumps({"type": type.value, "timestamp": stamp, "data": data}, separators=(",", ":"), default=str)


def translate(ev: MeetingEvent) -> list[Outgoing]:
    types = _SIMPLE.get(ev.type, ())
    if not types:
        return []
    # Private chat (recipients) and breakout-room-only traffic stay inside the meeting: they were never meant
    # for everyone in it, let alone a third-party server.
    if ev.type is EventType.CHAT_MESSAGE_SENT and (ev.recipients is not None or ev.room_id is not None):
        return []
    data: dict[str, Any] = {
        "meetingId": ev.meeting_id,
        "seq": ev.seq,
        "meetingEvent": ev.type.value,
        "subjectId": ev.subject_id,
        "actorId": ev.actor_id,
        "participant": ev.participant,
        "meeting": ev.meeting,
        "details": ev.data,
    }
    return [Outgoing(t, ev.seq * PER_EVENT + i, body(t, ev.at, data)) for i, t in enumerate(types)]


def meeting_created(meeting_id: str, at: float, meeting: dict[str, Any]) -> Outgoing:
    """Meeting creation emits no meeting event (nobody subscribes to a meeting that does not exist yet)."""
    data = {"meetingId": meeting_id, "seq": 0, "meeting": meeting}
    return Outgoing(WebhookEvent.MEETING_CREATED, 0, body(WebhookEvent.MEETING_CREATED, at, data))


def wants(subscribed: list[str], type: WebhookEvent) -> bool:
    """An empty subscription means every event that is not opt-in."""
    if type is WebhookEvent.ENDPOINT_VERIFICATION:
        return True
    if not subscribed:
        return type not in {WebhookEvent.CHAT_MESSAGE}
    return type.value in subscribed

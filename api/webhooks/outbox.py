"""The transactional outbox: webhook deliveries written in the transaction of the change they report.

Registered as an emit hook (``api.db.emit_hooks``), so every domain that emits meeting events is covered
without calling us, and a delivery commits or rolls back with its change: an API process killed after the
commit still leaves the delivery in the table for whichever dispatcher runs next. Meeting creation emits no
event and calls ``meeting_created`` itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from api.db import Changes, Tx, emit_hooks, emit_returning
from api.webhooks import events, store
from dbschema.models import Meeting, utcnow
from dbschema.webhooks import WebhookDelivery, WebhookEndpoint
from protocol.events import MeetingEvent
from protocol.ids import new_id

_wakers: set[Callable[[], None]] = set()
"""Dispatchers running in this process (one per app); woken after a commit that queued deliveries. Other
processes find the rows on their next poll."""


def on_commit_wake(callback: Callable[[], None]) -> Callable[[], None]:
    """Register a dispatcher's wake-up; returns the function that unregisters it."""
    _wakers.add(callback)
    return lambda: _wakers.discard(callback)


def _wake_all() -> None:
    for wake in list(_wakers):
        wake()


def new_delivery_id() -> str:
    return f"msg_{new_id()}"


def add(tx: Tx, endpoint: WebhookEndpoint, meeting_id: str, out: events.Outgoing) -> WebhookDelivery:
    now = utcnow()
    row = WebhookDelivery(
        id=new_delivery_id(),
        endpoint_id=endpoint.id,
        meeting_id=meeting_id,
        seq=out.position,
        event_type=out.type.value,
        payload=out.body,
        created_at=now,
        status="pending",
        attempts=0,
        next_attempt_at=now,
    )
    tx.session.add(row)
    if _wake_all not in tx.after_commit:
        tx.after_commit.append(_wake_all)
    return row


async def _endpoints(tx: Tx, meeting_id: str) -> list[WebhookEndpoint]:
    if not tx.notes.get(("emit", _ANY_ENDPOINT)):
        return []  # the owner has no enabled endpoint (returned by the event's own UPDATE): no query
    key = ("webhooks:endpoints", meeting_id)
    if key not in tx.notes:  # once per transaction and meeting, whatever the number of events
        tx.notes[key] = await store.endpoints_of_meeting_owner(tx.session, meeting_id)
    found: list[WebhookEndpoint] = tx.notes[key]
    return found


async def on_emit(tx: Tx, ev: MeetingEvent, _changes: Changes) -> None:
    if ev.type not in events.WEBHOOK_TYPES:
        return  # no query at all for the high-rate events (media state, captions, reactions)
    outgoing = events.translate(ev)
    if not outgoing:
        return
    for endpoint in await _endpoints(tx, ev.meeting_id):
        for out in outgoing:
            if events.wants(endpoint.event_types, out.type):
                add(tx, endpoint, ev.meeting_id, out)


async def meeting_created(tx: Tx, m: Meeting) -> None:
    """Queue ``meeting.created`` in the creating transaction (``m`` is added to the session, not yet flushed)."""
    endpoints = await store.endpoints_of_owner(tx.session, m.host_user_id)
    if not endpoints:
        return
    snapshot: dict[str, Any] = {
        "id": m.id,
        "number": m.number,
        "title": m.title,
        "kind": m.kind,
        "startsAt": m.starts_at.isoformat(),
        "durationMinutes": m.duration_minutes,
        "timezone": m.timezone,
    }
    out = events.meeting_created(m.id, utcnow().timestamp(), snapshot)
    for endpoint in endpoints:
        if events.wants(endpoint.event_types, out.type):
            add(tx, endpoint, m.id, out)


_ANY_ENDPOINT = "webhooks:any-endpoint"
emit_hooks.append(on_emit)
emit_returning[_ANY_ENDPOINT] = (
    select(WebhookEndpoint.id)
    .where(WebhookEndpoint.owner_id == Meeting.host_user_id, WebhookEndpoint.enabled.is_(True))
    .limit(1)
    .scalar_subquery()
)

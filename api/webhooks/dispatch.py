"""Delivering the outbox: claim due deliveries, have a ``Sender`` make the signed request, record the result.

Every API process runs one dispatcher (a background task). It claims up to ``webhook_concurrency`` deliveries
with a conditional UPDATE that sets a lease, so several processes never attempt the same delivery at once; a
process that dies mid-attempt loses its claim when the lease runs out and another (or its successor) attempts
again - receivers deduplicate by ``webhook-id``, which stays the same.

Ordering: only the first pending delivery of an (endpoint, meeting) queue is due (``store.due_heads``), so an
endpoint sees each meeting's events in sequence order even across failures and retries; meetings do not wait for
each other.

Retries follow ``webhook_retry_schedule_s`` (by default ~27.6 hours in all); after the last attempt fails the
delivery is ``failed``, its endpoint is disabled (its other deliveries wait, pending, until it is enabled again)
and the owner is told by an ``endpoint.disabled`` webhook to their other endpoints and an e-mail.

The HTTP request is the ``Sender``'s (``API_WEBHOOK_SENDER``): the worker's job function in this process or an
arq job, chosen by import path so ``api`` never imports ``workers``.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select, update

from api.db import Tx
from api.mail import Mail, Mailer, mailer_for
from api.services import Services
from api.webhooks import events, outbox, store
from dbschema.models import User, utcnow
from dbschema.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from protocol.webhooks import SendRequest, SendResult, WebhookEvent, headers

log = logging.getLogger("meetmesh.webhooks")

LEASE_S = 60.0
"""Longer than one attempt can take (connect + read timeouts, bounded by the settings' checks)."""


class Sender(Protocol):
    async def send(self, req: SendRequest) -> SendResult: ...

    async def aclose(self) -> None: ...


def load_sender(spec: str) -> Sender:
    module, _, name = spec.partition(":")
    try:
        factory = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise RuntimeError(f"API_WEBHOOK_SENDER={spec!r} cannot be loaded: {exc}") from exc
    sender: Sender = factory()
    return sender


@dataclass(frozen=True, slots=True)
class Claimed:
    delivery_id: str
    request: SendRequest
    challenge: str | None
    """For a verification delivery: what the endpoint must echo."""


def live_secrets(endpoint: WebhookEndpoint, now: datetime) -> tuple[str, ...]:
    if endpoint.previous_secret and endpoint.previous_secret_until and endpoint.previous_secret_until > now:
        return (endpoint.secret, endpoint.previous_secret)
    return (endpoint.secret,)


def challenge_answered(result: SendResult, challenge: str) -> bool:
    try:
        answer = json.loads(result.body)
    except ValueError:
        return False
    return isinstance(answer, dict) and answer.get("challenge") == challenge


class Dispatcher:
    def __init__(self, svc: Services, sender: Sender, mailer: Mailer | None = None) -> None:
        self.svc = svc
        self.sender = sender
        self.mailer = mailer or mailer_for(svc.settings)
        self._wake = asyncio.Event()
        self._mail_tasks: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        self._wake.set()

    async def run_forever(self) -> None:
        unregister = outbox.on_commit_wake(self.wake)
        try:
            while True:
                self._wake.clear()
                try:
                    busy = await self.dispatch_once()
                except Exception:
                    log.exception("webhook dispatcher failed; retrying")
                    busy = 0
                if busy:
                    continue  # more may be due (the next in each queue just became its head)
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self.svc.settings.webhook_poll_s)
                except TimeoutError:
                    pass
        finally:
            unregister()
            for task in list(self._mail_tasks):
                task.cancel()
            await self.sender.aclose()

    async def dispatch_once(self) -> int:
        """Attempt every due delivery (up to the concurrency); returns how many were attempted."""
        claimed = await self._claim(self.svc.settings.webhook_concurrency)
        if claimed:
            # Named after this task, so tools that tell background work from requests (the SQL statement budget
            # tests) see the attempts as part of it.
            task = asyncio.current_task()
            name = task.get_name() if task is not None else "webhooks"
            await asyncio.gather(*(asyncio.create_task(self._attempt(c), name=f"{name}:attempt") for c in claimed))
        return len(claimed)

    async def _claim(self, limit: int) -> list[Claimed]:
        s = self.svc.settings
        now = utcnow()
        # Look with a read first: an idle poll then costs no write transaction (on SQLite, no write lock taken
        # every poll_s). The claim below re-checks what it takes, so two dispatchers never take the same row.
        async with self.svc.db.read() as session:
            ids = await store.due_heads(session, now, limit)
        if not ids:
            return []
        async with self.svc.db.write() as tx:
            taken = (
                await tx.session.scalars(
                    update(WebhookDelivery)
                    .where(
                        WebhookDelivery.id.in_(ids),
                        WebhookDelivery.status == "pending",
                        (WebhookDelivery.lease_until.is_(None)) | (WebhookDelivery.lease_until < now),
                    )
                    .values(lease_until=now + timedelta(seconds=LEASE_S))
                    .returning(WebhookDelivery.id)
                    .execution_options(synchronize_session=False)
                )
            ).all()
            if not taken:
                return []
            rows = (
                await tx.session.execute(
                    select(WebhookDelivery, WebhookEndpoint)
                    .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                    .where(WebhookDelivery.id.in_(taken))
                )
            ).all()
        stamp = int(time.time())
        out = []
        for d, e in rows:
            verification = d.event_type == WebhookEvent.ENDPOINT_VERIFICATION.value
            req = SendRequest(
                url=e.url,
                headers=headers(live_secrets(e, now), d.id, stamp, d.payload),
                body=d.payload,
                allowed_networks=s.webhook_allowed_networks,
                connect_timeout_s=s.webhook_connect_timeout_s,
                read_timeout_s=s.webhook_read_timeout_s,
                max_response_bytes=s.webhook_max_response_bytes,
            )
            out.append(Claimed(d.id, req, e.challenge if verification else None))
        return out

    async def _attempt(self, c: Claimed) -> None:
        try:
            result = await self.sender.send(c.request)
        except Exception as exc:  # a broken sender (arq down): an attempt failed, not a crashed dispatcher
            log.warning("webhook sender failed for %s: %s", c.delivery_id, exc)
            result = SendResult(None, 0.0, error=f"sender failed: {type(exc).__name__}: {exc}"[:300])
        ok = result.ok and (c.challenge is None or challenge_answered(result, c.challenge))
        if result.ok and not ok:
            result = SendResult(result.status_code, result.latency_ms, error="the challenge was not echoed")
        await self._record(c.delivery_id, result, ok)

    async def _record(self, delivery_id: str, result: SendResult, ok: bool) -> None:
        schedule = self.svc.settings.webhook_retry_schedule_s
        notice: Mail | None = None
        async with self.svc.db.write() as tx:
            d = await tx.session.get(WebhookDelivery, delivery_id)
            if d is None or d.status != "pending":
                return  # deleted with its endpoint meanwhile, or delivered by another claim
            now = utcnow()
            tx.session.add(
                WebhookAttempt(
                    delivery_id=d.id,
                    at=now,
                    status_code=result.status_code,
                    latency_ms=result.latency_ms,
                    error=result.error,
                )
            )
            d.attempts += 1
            d.last_status_code = result.status_code
            d.last_latency_ms = result.latency_ms
            d.last_error = result.error
            d.lease_until = None
            if ok:
                d.status = "delivered"
                d.delivered_at = now
                if d.event_type == WebhookEvent.ENDPOINT_VERIFICATION.value:
                    e = await tx.session.get(WebhookEndpoint, d.endpoint_id)
                    if e is not None and e.verified_at is None:
                        e.verified_at = now
                return
            if d.attempts <= len(schedule):
                d.next_attempt_at = now + timedelta(seconds=schedule[d.attempts - 1])
                return
            d.status = "failed"
            notice = await disable_endpoint(tx, d.endpoint_id, d, result)
        if notice is not None:
            task = asyncio.create_task(self._mail(notice))
            self._mail_tasks.add(task)
            task.add_done_callback(self._mail_tasks.discard)

    async def _mail(self, mail: Mail) -> None:
        try:
            await self.mailer.send(mail)
        except Exception as exc:  # the event went out; a mail server down is logged, not retried forever
            log.warning("could not e-mail %s about a disabled webhook endpoint: %s", mail.to, exc)


async def disable_endpoint(tx: Tx, endpoint_id: str, d: WebhookDelivery, result: SendResult) -> Mail | None:
    """Disable an endpoint whose delivery failed for the whole schedule; queue ``endpoint.disabled`` to the
    owner's other endpoints; return the e-mail to send after commit (None if it was disabled already)."""
    e = await tx.session.get(WebhookEndpoint, endpoint_id)
    if e is None or not e.enabled:
        return None
    last = result.error or f"HTTP {result.status_code}"
    e.enabled = False
    e.disabled_reason = (
        f"delivery {d.id} failed {d.attempts} attempts since {d.created_at:%Y-%m-%d %H:%M} UTC ({last})"[:300]
    )
    now = utcnow()
    data = {"endpointId": e.id, "url": e.url, "reason": e.disabled_reason}
    out = events.Outgoing(
        WebhookEvent.ENDPOINT_DISABLED,
        int(now.timestamp() * 1000),
        events.body(WebhookEvent.ENDPOINT_DISABLED, now.timestamp(), data),
    )
    for other in await store.endpoints_of_owner(tx.session, e.owner_id):
        if other.id != e.id and events.wants(other.event_types, out.type):
            outbox.add(tx, other, "", out)
    owner = await tx.session.get(User, e.owner_id)
    if owner is None:
        return None
    return Mail(
        to=owner.email,
        subject="meetmesh: a webhook endpoint was disabled",
        text=(
            f"Your webhook endpoint {e.url} (id {e.id}) kept failing and has been disabled.\n\n"
            f"{e.disabled_reason}\n\n"
            "Events for it are no longer queued. Fix the receiver, enable the endpoint again "
            "(updateWebhookEndpoint with enabled: true) and replay what it missed (replayWebhooks).\n"
        ),
    )

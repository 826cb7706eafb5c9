"""Webhook endpoints of an account: the one place their rules live (GraphQL and the REST façade, api/rest/webhooks.py,
call here).

Only the account that owns an endpoint sees or changes it (anyone else gets NOT_FOUND: ids are not confirmed to
strangers). Endpoint URLs are checked when set - http(s), no credentials in them, and every address the host
resolves to must be public unless ``API_WEBHOOK_ALLOWED_NETWORKS`` lists it - and again at every attempt (the
sending job resolves the name once more, so a record changed since is caught).
"""

from __future__ import annotations

import asyncio
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import delete, select, update

from api import validation
from api.db import Tx
from api.errors import BadInputError, NotFoundError, UnauthenticatedError
from api.security import Principal, UserPrincipal
from api.services import Services
from api.webhooks import events, outbox, store
from dbschema.models import utcnow
from dbschema.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from protocol.ids import new_id
from protocol.webhooks import SUBSCRIBABLE, WebhookEvent, new_secret, refused_address

MAX_URL = 2048
MAX_OVERLAP_S = 7 * 24 * 3600
DEFAULT_OVERLAP_S = 24 * 3600
MAX_PAGE = 200


@dataclass(frozen=True, slots=True)
class DeliveryView:
    delivery: WebhookDelivery
    attempts: list[WebhookAttempt]


CHANGES_PER_MINUTE = 30
"""Endpoint changes (each may resolve a host name and queue deliveries) per account per minute."""


def _owner(principal: Principal | None) -> str:
    if not isinstance(principal, UserPrincipal):
        raise UnauthenticatedError("log in to manage webhooks")
    return principal.user_id


async def _changer(svc: Services, principal: Principal | None) -> str:
    owner = _owner(principal)
    await svc.limit("webhook-changes", owner, limit=CHANGES_PER_MINUTE, window_s=60)
    return owner


async def check_url(
    svc: Services,
    url: str,
    *,
    what: str = "webhooks",
    credentials_hint: str = "receivers check the webhook-signature instead",
) -> str:
    """The address guard webhooks and connected calendars share (SSRF): http(s), no credentials in the URL, and
    every address the host resolves to public unless ``API_WEBHOOK_ALLOWED_NETWORKS`` allows it."""
    url = url.strip()
    if not url or len(url) > MAX_URL:
        raise BadInputError("url", f"url must be 1..{MAX_URL} characters (got {len(url)})")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BadInputError("url", f"url is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadInputError("url", "url must be an http:// or https:// URL with a host")
    if parts.username is not None or parts.password is not None:
        raise BadInputError("url", f"url must not carry credentials: {credentials_hint}")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.wait_for(
            asyncio.get_running_loop().getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM), timeout=5.0
        )
    except (OSError, TimeoutError):
        raise BadInputError("url", f"url's host {parts.hostname} does not resolve") from None
    for info in infos:
        why = refused_address(str(info[4][0]), svc.settings.webhook_allowed_networks)
        if why is not None:
            raise BadInputError(
                "url",
                f"url's host {parts.hostname} resolves to {why}; {what} go to public addresses only "
                "(an operator may allow networks with API_WEBHOOK_ALLOWED_NETWORKS)",
            )
    return url


def check_event_types(types: list[str]) -> list[str]:
    known = {e.value for e in SUBSCRIBABLE}
    unknown = [t for t in types if t not in known]
    if unknown:
        raise BadInputError("eventTypes", f"unknown event types {unknown[:5]}; known: {', '.join(sorted(known))}")
    if len(types) > len(known):
        raise BadInputError("eventTypes", f"at most {len(known)} event types (got {len(types)})")
    return sorted(set(types))


def _queue_verification(tx: Tx, e: WebhookEndpoint) -> None:
    e.challenge = secrets.token_urlsafe(24)
    e.verified_at = None
    now = utcnow()
    data = {"endpointId": e.id, "challenge": e.challenge}
    body = events.body(WebhookEvent.ENDPOINT_VERIFICATION, now.timestamp(), data)
    outbox.add(tx, e, "", events.Outgoing(WebhookEvent.ENDPOINT_VERIFICATION, 0, body))


def _visible(e: WebhookEndpoint | None, owner_id: str, endpoint_id: str) -> WebhookEndpoint:
    """Only the owner sees an endpoint; to anyone else it does not exist (its id is not confirmed)."""
    if e is None or e.owner_id != owner_id:
        raise NotFoundError(f"webhook endpoint {endpoint_id} does not exist")
    return e


async def _own(tx: Tx, owner_id: str, endpoint_id: str) -> WebhookEndpoint:
    return _visible(await tx.session.get(WebhookEndpoint, endpoint_id, with_for_update=True), owner_id, endpoint_id)


async def create_endpoint(
    svc: Services, principal: Principal | None, url: str, event_types: list[str], description: str = ""
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it with its secret (shown once). Events for it are queued from now on and
    sent once it has answered the verification challenge."""
    owner = await _changer(svc, principal)
    url = await check_url(svc, url)
    types = check_event_types(event_types)
    description = validation.text("description", description, min_len=0, max_len=200)
    async with svc.db.write() as tx:
        count = await store.count_of_owner(tx.session, owner)
        if count >= svc.settings.webhook_max_endpoints:
            raise BadInputError(
                "url", f"an account may have at most {svc.settings.webhook_max_endpoints} webhook endpoints"
            )
        secret = new_secret()
        e = WebhookEndpoint(
            id=new_id(),
            owner_id=owner,
            url=url,
            description=description,
            event_types=types,
            secret=secret,
            enabled=True,
            challenge="",
            created_at=utcnow(),
        )
        tx.session.add(e)
        await tx.session.flush()  # the endpoint row before its first delivery (no ORM relationship orders them)
        _queue_verification(tx, e)
    return e, secret


async def update_endpoint(
    svc: Services,
    principal: Principal | None,
    endpoint_id: str,
    *,
    url: str | None = None,
    event_types: list[str] | None = None,
    description: str | None = None,
    enabled: bool | None = None,
) -> WebhookEndpoint:
    owner = await _changer(svc, principal)
    checked_url = await check_url(svc, url) if url is not None else None
    types = check_event_types(event_types) if event_types is not None else None
    async with svc.db.write() as tx:
        e = await _own(tx, owner, endpoint_id)
        if types is not None:
            e.event_types = types
        if description is not None:
            e.description = validation.text("description", description, min_len=0, max_len=200)
        if enabled is not None:
            e.enabled = enabled
            e.disabled_reason = None if enabled else "disabled by its owner"
        if checked_url is not None and checked_url != e.url:
            e.url = checked_url
            _queue_verification(tx, e)  # a new receiver proves it wants these events
        if enabled:
            tx.after_commit.append(outbox._wake_all)  # held deliveries may go now
    return e


async def delete_endpoint(svc: Services, principal: Principal | None, endpoint_id: str) -> None:
    owner = await _changer(svc, principal)
    async with svc.db.write() as tx:
        e = await _own(tx, owner, endpoint_id)
        ids = (await tx.session.scalars(select(WebhookDelivery.id).where(WebhookDelivery.endpoint_id == e.id))).all()
        # Attempts, then deliveries, then the endpoint: explicit, so SQLite without cascades behaves the same.
        if ids:
            await tx.session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(ids)))
        await tx.session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == e.id))
        await tx.session.delete(e)


async def rotate_secret(
    svc: Services, principal: Principal | None, endpoint_id: str, overlap_s: int = DEFAULT_OVERLAP_S
) -> tuple[WebhookEndpoint, str]:
    """A new secret at once; the old one keeps signing too (a second signature) for ``overlap_s``, so receivers
    can switch without losing a request."""
    owner = await _changer(svc, principal)
    validation.int_range("overlapSeconds", overlap_s, 0, MAX_OVERLAP_S)
    async with svc.db.write() as tx:
        e = await _own(tx, owner, endpoint_id)
        e.previous_secret = e.secret if overlap_s > 0 else None
        e.previous_secret_until = utcnow() + timedelta(seconds=overlap_s) if overlap_s > 0 else None
        e.secret = new_secret()
    return e, e.secret


async def verify_endpoint(svc: Services, principal: Principal | None, endpoint_id: str) -> WebhookEndpoint:
    """Send a new challenge (the last one failed, or the receiver was fixed)."""
    owner = await _changer(svc, principal)
    async with svc.db.write() as tx:
        e = await _own(tx, owner, endpoint_id)
        await tx.session.execute(
            delete(WebhookDelivery).where(
                WebhookDelivery.endpoint_id == e.id,
                WebhookDelivery.event_type == WebhookEvent.ENDPOINT_VERIFICATION.value,
                WebhookDelivery.status != "delivered",
            )
        )
        _queue_verification(tx, e)
    return e


def _requeue() -> dict[str, object]:
    return {
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": utcnow(),
        "lease_until": None,
        "delivered_at": None,
    }


async def redeliver(svc: Services, principal: Principal | None, delivery_id: str) -> WebhookDelivery:
    """Queue a delivery again, with the same ``webhook-id`` (receivers that already have it drop it)."""
    owner = await _changer(svc, principal)
    async with svc.db.write() as tx:
        d = await tx.session.get(WebhookDelivery, delivery_id, with_for_update=True)
        e = await tx.session.get(WebhookEndpoint, d.endpoint_id) if d is not None else None
        if d is None or e is None or e.owner_id != owner:
            raise NotFoundError(f"webhook delivery {delivery_id} does not exist")
        if d.status != "pending":
            for k, v in _requeue().items():
                setattr(d, k, v)
        tx.after_commit.append(outbox._wake_all)
    return d


async def replay(svc: Services, principal: Principal | None, endpoint_id: str, since: datetime) -> int:
    """Queue again every delivery of the endpoint created at or after ``since``; returns how many."""
    owner = await _changer(svc, principal)
    if since.tzinfo is None:
        raise BadInputError("since", "since needs a time zone (e.g. 2026-12-07T10:00:00Z)")
    async with svc.db.write() as tx:
        e = await _own(tx, owner, endpoint_id)
        res = await tx.session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.endpoint_id == e.id,
                WebhookDelivery.created_at >= since,
                WebhookDelivery.status != "pending",
                WebhookDelivery.event_type != WebhookEvent.ENDPOINT_VERIFICATION.value,
            )
            .values(**_requeue())
            .execution_options(synchronize_session=False)
        )
        tx.after_commit.append(outbox._wake_all)
        return int(res.rowcount)  # type: ignore[attr-defined]


async def endpoints(svc: Services, principal: Principal | None) -> list[WebhookEndpoint]:
    owner = _owner(principal)
    async with svc.db.read() as session:
        return await store.endpoints_of_owner(session, owner, enabled_only=False)


async def endpoint(svc: Services, principal: Principal | None, endpoint_id: str) -> WebhookEndpoint:
    """One endpoint of the caller's (NOT_FOUND for anyone else's, as for every change)."""
    owner = _owner(principal)
    async with svc.db.read() as session:
        return _visible(await session.get(WebhookEndpoint, endpoint_id), owner, endpoint_id)


async def deliveries(
    svc: Services,
    principal: Principal | None,
    endpoint_id: str,
    *,
    first: int = 50,
    status: str | None = None,
    before: datetime | None = None,
    after: str | None = None,
) -> list[DeliveryView]:
    """The delivery log, newest first, each with its attempts. ``after`` (a delivery id of this endpoint) starts
    the page after that delivery in this order (a cursor: unlike ``before``, deliveries created in the same
    instant are neither skipped nor repeated); BAD_INPUT when it is not one of the endpoint's deliveries."""
    owner = _owner(principal)
    validation.int_range("first", first, 1, MAX_PAGE)
    if status is not None and status not in ("pending", "delivered", "failed"):
        raise BadInputError("status", f"status must be pending, delivered or failed (got {status[:20]!r})")
    async with svc.db.read() as session:
        _visible(await session.get(WebhookEndpoint, endpoint_id), owner, endpoint_id)
        last = await session.get(WebhookDelivery, after) if after is not None else None
        if after is not None and (last is None or last.endpoint_id != endpoint_id):
            raise BadInputError("after", "after is not a delivery of this endpoint (or it was pruned)")
        rows = await store.deliveries(session, endpoint_id, first=first, status=status, before=before, after=last)
        attempts = await store.attempts_of(session, [r.id for r in rows])
    return [DeliveryView(r, attempts[r.id]) for r in rows]

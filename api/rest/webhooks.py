"""/api/v1/webhooks: your webhook endpoints and their delivery logs, thin over api/webhooks/service.py (the same
functions GraphQL's ``createWebhookEndpoint`` … ``replayWebhooks`` call: who may see an endpoint, URL and event
type checks, the endpoint limit, the 30 changes a minute are decided there, once).

Scopes: ``webhooks:read`` for the lists and reads, ``webhooks:write`` for every change. Another account's
endpoint or delivery is NOT_FOUND (ids are not confirmed to strangers), as on GraphQL."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import Parameter

from api.errors import BadInputError
from api.rest import idempotency
from api.rest.auth import caller, owner, services
from api.rest.errors import BODY, COMMON, CONFLICT
from api.rest.meetings import IDEMPOTENCY_KEY
from api.rest.models import page
from api.webhooks import service
from dbschema.webhooks import WebhookAttempt as AttemptRow
from dbschema.webhooks import WebhookEndpoint as EndpointRow
from protocol.webhooks import SUBSCRIBABLE

DeliveryStatus = Literal["pending", "delivered", "failed"]
_TYPES = ", ".join(e.value for e in SUBSCRIBABLE)

# -- bodies ------------------------------------------------------------------------------------------------------


@dataclass
class WebhookEndpointOut:
    id: str
    url: str
    description: str
    event_types: list[str]
    """Subscribed events; empty: every event but the opt-in chat.message."""
    enabled: bool
    disabled_reason: str | None
    """Why it is disabled (by its owner, or after failing for the whole retry schedule)."""
    verified: bool
    """It answered the challenge sent when it was added or its URL changed (events wait until it has)."""
    previous_secret_valid_until: datetime | None
    """After a rotation, the old secret also signs (a second signature) until then."""
    created_at: datetime

    @classmethod
    def of(cls, e: EndpointRow) -> WebhookEndpointOut:
        return cls(
            id=e.id,
            url=e.url,
            description=e.description,
            event_types=list(e.event_types or []),
            enabled=e.enabled,
            disabled_reason=e.disabled_reason,
            verified=e.verified_at is not None,
            previous_secret_valid_until=e.previous_secret_until if e.previous_secret else None,
            created_at=e.created_at,
        )


@dataclass
class WebhookEndpointWithSecret:
    endpoint: WebhookEndpointOut
    secret: str
    """``whsec_…``: verify ``webhook-signature`` with it. Shown only in this answer (and a replay of it)."""


@dataclass
class WebhookEndpointPage:
    items: list[WebhookEndpointOut]
    next_cursor: str | None = None


@dataclass
class WebhookEndpointCreate:
    url: str
    """http(s) URL of a public address (an operator may allow private networks), at most 2048 characters."""
    event_types: list[str] = field(default_factory=list)
    """Empty: every event but the opt-in chat.message."""
    description: str = ""
    """At most 200 characters."""


@dataclass
class WebhookEndpointUpdate:
    """Fields left out keep their value."""

    url: str | None = None
    """A new URL is sent a new challenge."""
    event_types: list[str] | None = None
    description: str | None = None
    enabled: bool | None = None
    """true re-enables a disabled endpoint: held deliveries go out again."""


@dataclass
class SecretRotation:
    overlap_seconds: int = service.DEFAULT_OVERLAP_S
    """0..604800: how long the old secret keeps signing beside the new one."""


@dataclass
class Replay:
    since: datetime
    """With a UTC offset: every delivery created at or after it is sent again."""


@dataclass
class ReplayOut:
    queued: int
    """How many deliveries were queued again."""


@dataclass
class WebhookAttemptOut:
    at: datetime
    status_code: int | None
    """null: no response (refused, connection error, timeout)."""
    latency_ms: float
    error: str | None

    @classmethod
    def of(cls, a: AttemptRow) -> WebhookAttemptOut:
        return cls(at=a.at, status_code=a.status_code, latency_ms=a.latency_ms, error=a.error)


@dataclass
class WebhookDeliveryOut:
    id: str
    """The ``webhook-id`` header: the same on every attempt, redelivery and replay."""
    event_type: str
    meeting_id: str | None
    status: DeliveryStatus
    attempts: int
    """Attempts since it was last queued."""
    last_status_code: int | None
    last_latency_ms: float | None
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    payload: str
    """The JSON body, exactly as signed."""
    attempt_log: list[WebhookAttemptOut]
    """Every attempt, oldest first (empty in a redelivery's answer)."""

    @classmethod
    def of(cls, v: service.DeliveryView) -> WebhookDeliveryOut:
        d = v.delivery
        return cls(
            id=d.id,
            event_type=d.event_type,
            meeting_id=d.meeting_id or None,
            status=d.status,  # type: ignore[arg-type]
            attempts=d.attempts,
            last_status_code=d.last_status_code,
            last_latency_ms=d.last_latency_ms,
            last_error=d.last_error,
            created_at=d.created_at,
            next_attempt_at=d.next_attempt_at if d.status == "pending" else None,
            delivered_at=d.delivered_at,
            payload=d.payload,
            attempt_log=[WebhookAttemptOut.of(a) for a in v.attempts],
        )


@dataclass
class WebhookDeliveryPage:
    items: list[WebhookDeliveryOut]
    next_cursor: str | None = None
    """Pass as ``after`` for older deliveries; null on the last page."""


def _cursor(delivery_id: str) -> str:
    return base64.urlsafe_b64encode(delivery_id.encode()).decode()


def _uncursor(after: str) -> str:
    try:
        return base64.urlsafe_b64decode(after.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raise BadInputError("after", "after is not a cursor returned by this API") from None


# -- routes ------------------------------------------------------------------------------------------------------

ENDPOINT = "/endpoints/{endpoint_id:str}"


class WebhooksController(Controller):
    path = "/webhooks"
    tags = ["webhooks"]

    @get(
        "/endpoints",
        summary="Your webhook endpoints, oldest first",
        responses=COMMON,
        operation_id="listWebhookEndpoints",
    )
    async def list_endpoints(
        self,
        request: Request[Any, Any, Any],
        first: int = Parameter(default=50, ge=1, le=100),
        after: str | None = Parameter(default=None, max_length=200, description="next_cursor of the previous page"),
    ) -> WebhookEndpointPage:
        principal = await caller(request, "webhooks:read")
        rows = await service.endpoints(services(request), principal)
        chunk, cursor = page(rows, lambda e: e.id, first, after)
        return WebhookEndpointPage(items=[WebhookEndpointOut.of(e) for e in chunk], next_cursor=cursor)

    @post(
        "/endpoints",
        summary="Register an endpoint; answers its signing secret (only here). It is sent a challenge first.",
        description="The endpoint must answer the `endpoint.verification` challenge with "
        '`{"challenge": "<the same>"}` before events go to it; they are queued meanwhile. '
        f"Event types: {_TYPES}.",
        responses={**COMMON, **CONFLICT, **BODY},
        status_code=201,
        operation_id="createWebhookEndpoint",
    )
    async def create_endpoint(
        self,
        request: Request[Any, Any, Any],
        data: WebhookEndpointCreate,
        idempotency_key: str | None = IDEMPOTENCY_KEY,
    ) -> Response[WebhookEndpointWithSecret]:
        principal = await caller(request, "webhooks:write")
        svc = services(request)

        async def create() -> tuple[int, WebhookEndpointWithSecret]:
            e, secret = await service.create_endpoint(svc, principal, data.url, data.event_types, data.description)
            return 201, WebhookEndpointWithSecret(endpoint=WebhookEndpointOut.of(e), secret=secret)

        body = {"webhook_endpoint": await request.json()}  # not the key space of another create's bodies
        return await idempotency.once(svc, owner(principal), idempotency_key, body, create)

    @get(ENDPOINT, summary="One of your webhook endpoints", responses=COMMON, operation_id="getWebhookEndpoint")
    async def get_endpoint(self, request: Request[Any, Any, Any], endpoint_id: str) -> WebhookEndpointOut:
        principal = await caller(request, "webhooks:read")
        return WebhookEndpointOut.of(await service.endpoint(services(request), principal, endpoint_id))

    @patch(
        ENDPOINT,
        summary="Change an endpoint (fields left out keep their value; a new URL is challenged again)",
        responses={**COMMON, **BODY},
        operation_id="updateWebhookEndpoint",
    )
    async def update_endpoint(
        self, request: Request[Any, Any, Any], endpoint_id: str, data: WebhookEndpointUpdate
    ) -> WebhookEndpointOut:
        principal = await caller(request, "webhooks:write")
        e = await service.update_endpoint(
            services(request),
            principal,
            endpoint_id,
            url=data.url,
            event_types=data.event_types,
            description=data.description,
            enabled=data.enabled,
        )
        return WebhookEndpointOut.of(e)

    @delete(
        ENDPOINT,
        summary="Delete an endpoint with its delivery log",
        responses=COMMON,
        status_code=204,
        operation_id="deleteWebhookEndpoint",
    )
    async def delete_endpoint(self, request: Request[Any, Any, Any], endpoint_id: str) -> None:
        principal = await caller(request, "webhooks:write")
        await service.delete_endpoint(services(request), principal, endpoint_id)

    @post(
        f"{ENDPOINT}/rotate-secret",
        summary="A new signing secret now; the old one keeps signing beside it for overlap_seconds",
        responses={**COMMON, **BODY},
        status_code=200,
        operation_id="rotateWebhookSecret",
    )
    async def rotate_secret(
        self, request: Request[Any, Any, Any], endpoint_id: str, data: SecretRotation
    ) -> WebhookEndpointWithSecret:
        principal = await caller(request, "webhooks:write")
        e, secret = await service.rotate_secret(services(request), principal, endpoint_id, data.overlap_seconds)
        return WebhookEndpointWithSecret(endpoint=WebhookEndpointOut.of(e), secret=secret)

    @post(
        f"{ENDPOINT}/verify",
        summary="Send the endpoint a new verification challenge",
        responses=COMMON,
        status_code=200,
        operation_id="verifyWebhookEndpoint",
    )
    async def verify_endpoint(self, request: Request[Any, Any, Any], endpoint_id: str) -> WebhookEndpointOut:
        principal = await caller(request, "webhooks:write")
        return WebhookEndpointOut.of(await service.verify_endpoint(services(request), principal, endpoint_id))

    @get(
        f"{ENDPOINT}/deliveries",
        summary="The endpoint's delivery log, newest first, each delivery with its attempts",
        responses=COMMON,
        operation_id="listWebhookDeliveries",
    )
    async def list_deliveries(
        self,
        request: Request[Any, Any, Any],
        endpoint_id: str,
        status: DeliveryStatus | None = Parameter(default=None, description="only deliveries in this state"),
        first: int = Parameter(default=50, ge=1, le=100),
        after: str | None = Parameter(default=None, max_length=200, description="next_cursor of the previous page"),
    ) -> WebhookDeliveryPage:
        principal = await caller(request, "webhooks:read")
        last = _uncursor(after) if after else None
        # One more than asked says whether there is a next page.
        views = await service.deliveries(
            services(request), principal, endpoint_id, first=first + 1, status=status, after=last
        )
        chunk = views[:first]
        cursor = _cursor(chunk[-1].delivery.id) if len(views) > first else None
        return WebhookDeliveryPage(items=[WebhookDeliveryOut.of(v) for v in chunk], next_cursor=cursor)

    @post(
        f"{ENDPOINT}/replay",
        summary="Queue again every delivery of the endpoint created since a time (same webhook-ids)",
        responses={**COMMON, **BODY},
        status_code=200,
        operation_id="replayWebhooks",
    )
    async def replay(self, request: Request[Any, Any, Any], endpoint_id: str, data: Replay) -> ReplayOut:
        principal = await caller(request, "webhooks:write")
        return ReplayOut(queued=await service.replay(services(request), principal, endpoint_id, data.since))

    @post(
        "/deliveries/{delivery_id:str}/redeliver",
        summary="Queue one delivery again (same webhook-id)",
        responses=COMMON,
        status_code=200,
        operation_id="redeliverWebhook",
    )
    async def redeliver(self, request: Request[Any, Any, Any], delivery_id: str) -> WebhookDeliveryOut:
        principal = await caller(request, "webhooks:write")
        d = await service.redeliver(services(request), principal, delivery_id)
        return WebhookDeliveryOut.of(service.DeliveryView(d, []))

"""GraphQL types of api/webhooks."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.webhooks.service import DeliveryView
from dbschema.webhooks import WebhookAttempt as AttemptRow
from dbschema.webhooks import WebhookEndpoint as EndpointRow
from protocol.webhooks import SUBSCRIBABLE

_TYPES = ", ".join(e.value for e in SUBSCRIBABLE)


@strawberry.type(description="A URL that receives your meetings' events, signed per the Standard Webhooks spec.")
class WebhookEndpoint:
    id: strawberry.ID
    url: str
    description: str
    event_types: list[str] = strawberry.field(
        description=f"Subscribed events; empty: all but the opt-in chat.message. Known: {_TYPES}."
    )
    enabled: bool
    disabled_reason: str | None = strawberry.field(
        description="Why it is disabled (by its owner, or after failing for the whole retry schedule)."
    )
    verified: bool = strawberry.field(
        description="It answered the challenge sent when it was added (events wait until it has)."
    )
    previous_secret_valid_until: datetime | None = strawberry.field(
        description="After a rotation, the old secret also signs (a second signature) until then."
    )
    created_at: datetime

    @classmethod
    def of(cls, e: EndpointRow) -> WebhookEndpoint:
        return cls(
            id=strawberry.ID(e.id),
            url=e.url,
            description=e.description,
            event_types=list(e.event_types or []),
            enabled=e.enabled,
            disabled_reason=e.disabled_reason,
            verified=e.verified_at is not None,
            previous_secret_valid_until=e.previous_secret_until if e.previous_secret else None,
            created_at=e.created_at,
        )


@strawberry.type(description="An endpoint with its signing secret (shown only when created or rotated).")
class WebhookEndpointWithSecret:
    endpoint: WebhookEndpoint
    secret: str = strawberry.field(description="`whsec_…`: verify `webhook-signature` with it.")


@strawberry.type(description="One HTTP attempt of a delivery.")
class WebhookAttempt:
    at: datetime
    status_code: int | None = strawberry.field(description="None: no response (refused, connection error, timeout).")
    latency_ms: float
    error: str | None

    @classmethod
    def of(cls, a: AttemptRow) -> WebhookAttempt:
        return cls(at=a.at, status_code=a.status_code, latency_ms=a.latency_ms, error=a.error)


@strawberry.type(description="One event for one endpoint: the delivery log.")
class WebhookDelivery:
    id: strawberry.ID = strawberry.field(description="The `webhook-id` header, the same on every attempt.")
    event_type: str
    meeting_id: strawberry.ID | None
    status: str = strawberry.field(description="pending | delivered | failed")
    attempts: int = strawberry.field(description="Attempts since it was last queued.")
    last_status_code: int | None
    last_latency_ms: float | None
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    payload: str = strawberry.field(description="The JSON body, exactly as signed.")
    attempt_log: list[WebhookAttempt]

    @classmethod
    def of(cls, v: DeliveryView) -> WebhookDelivery:
        d = v.delivery
        return cls(
            id=strawberry.ID(d.id),
            event_type=d.event_type,
            meeting_id=strawberry.ID(d.meeting_id) if d.meeting_id else None,
            status=d.status,
            attempts=d.attempts,
            last_status_code=d.last_status_code,
            last_latency_ms=d.last_latency_ms,
            last_error=d.last_error,
            created_at=d.created_at,
            next_attempt_at=d.next_attempt_at if d.status == "pending" else None,
            delivered_at=d.delivered_at,
            payload=d.payload,
            attempt_log=[WebhookAttempt.of(a) for a in v.attempts],
        )


@strawberry.input
class CreateWebhookEndpointInput:
    url: str = strawberry.field(description="http(s) URL of a public address, at most 2048 characters.")
    event_types: list[str] = strawberry.field(default_factory=list, description="Empty: all but opt-in ones.")
    description: str = ""


@strawberry.input(description="Changes to an endpoint; omitted fields stay as they are.")
class UpdateWebhookEndpointInput:
    id: strawberry.ID
    url: str | None = strawberry.field(default=None, description="A new URL is challenged again.")
    event_types: list[str] | None = None
    description: str | None = None
    enabled: bool | None = strawberry.field(
        default=None, description="true re-enables a disabled endpoint: held deliveries go out again."
    )

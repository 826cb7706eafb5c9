"""GraphQL entry points of api/webhooks (thin over ``service``)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.graphql.context import ctx
from api.webhooks import service
from api.webhooks.types import (
    CreateWebhookEndpointInput,
    UpdateWebhookEndpointInput,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEndpointWithSecret,
)


@strawberry.type
class WebhookQuery:
    @strawberry.field(description="Your account's webhook endpoints.")
    async def webhook_endpoints(self, info: strawberry.Info) -> list[WebhookEndpoint]:
        c = ctx(info)
        return [WebhookEndpoint.of(e) for e in await service.endpoints(c.services, c.principal)]

    @strawberry.field(
        description="An endpoint's delivery log, newest first (at most 200). Pass the last createdAt as "
        "`before` for older ones."
    )
    async def webhook_deliveries(
        self,
        info: strawberry.Info,
        endpoint_id: strawberry.ID,
        first: int = 50,
        status: str | None = None,
        before: datetime | None = None,
    ) -> list[WebhookDelivery]:
        c = ctx(info)
        views = await service.deliveries(
            c.services, c.principal, endpoint_id, first=first, status=status, before=before
        )
        return [WebhookDelivery.of(v) for v in views]


@strawberry.type
class WebhookMutation:
    @strawberry.mutation(
        description="Register an endpoint. It is sent a challenge (`endpoint.verification`) that it must echo "
        '(`{"challenge": …}`) before events go to it; they are queued meanwhile.'
    )
    async def create_webhook_endpoint(
        self, info: strawberry.Info, input: CreateWebhookEndpointInput
    ) -> WebhookEndpointWithSecret:
        c = ctx(info)
        e, secret = await service.create_endpoint(
            c.services, c.principal, input.url, input.event_types, input.description
        )
        return WebhookEndpointWithSecret(endpoint=WebhookEndpoint.of(e), secret=secret)

    @strawberry.mutation
    async def update_webhook_endpoint(
        self, info: strawberry.Info, input: UpdateWebhookEndpointInput
    ) -> WebhookEndpoint:
        c = ctx(info)
        e = await service.update_endpoint(
            c.services,
            c.principal,
            input.id,
            url=input.url,
            event_types=input.event_types,
            description=input.description,
            enabled=input.enabled,
        )
        return WebhookEndpoint.of(e)

    @strawberry.mutation(description="Delete an endpoint with its delivery log.")
    async def delete_webhook_endpoint(self, info: strawberry.Info, id: strawberry.ID) -> bool:
        c = ctx(info)
        await service.delete_endpoint(c.services, c.principal, id)
        return True

    @strawberry.mutation(
        description="A new secret now; the old one keeps signing beside it for `overlapSeconds` (0..604800)."
    )
    async def rotate_webhook_secret(
        self, info: strawberry.Info, id: strawberry.ID, overlap_seconds: int = service.DEFAULT_OVERLAP_S
    ) -> WebhookEndpointWithSecret:
        c = ctx(info)
        e, secret = await service.rotate_secret(c.services, c.principal, id, overlap_seconds)
        return WebhookEndpointWithSecret(endpoint=WebhookEndpoint.of(e), secret=secret)

    @strawberry.mutation(description="Send the endpoint a new verification challenge.")
    async def verify_webhook_endpoint(self, info: strawberry.Info, id: strawberry.ID) -> WebhookEndpoint:
        c = ctx(info)
        return WebhookEndpoint.of(await service.verify_endpoint(c.services, c.principal, id))

    @strawberry.mutation(description="Queue one delivery again (same webhook-id).")
    async def redeliver_webhook(self, info: strawberry.Info, delivery_id: strawberry.ID) -> WebhookDelivery:
        c = ctx(info)
        d = await service.redeliver(c.services, c.principal, delivery_id)
        return WebhookDelivery.of(service.DeliveryView(d, []))

    @strawberry.mutation(
        description="Queue again every delivery of the endpoint since a time (same webhook-ids); returns how many."
    )
    async def replay_webhooks(self, info: strawberry.Info, endpoint_id: strawberry.ID, since: datetime) -> int:
        c = ctx(info)
        return await service.replay(c.services, c.principal, endpoint_id, since)


QUERIES = [WebhookQuery]
MUTATIONS = [WebhookMutation]
SUBSCRIPTIONS: list[type] = []

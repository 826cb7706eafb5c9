"""GraphQL entry points of api/apikeys (thin over ``service``)."""

from __future__ import annotations

import strawberry

from api.apikeys import service
from api.apikeys.scopes import SCOPES
from api.apikeys.types import ApiKey, ApiKeyScope, CreateApiKeyInput, CreatedApiKey
from api.graphql.context import ctx


@strawberry.type
class ApiKeyQuery:
    @strawberry.field(description="Your API keys, newest first (revoked ones too; never their secrets).")
    async def api_keys(self, info: strawberry.Info) -> list[ApiKey]:
        return [ApiKey.of(k) for k in await service.list_mine(ctx(info).services, ctx(info).principal)]

    @strawberry.field(description="The scopes an API key can hold.")
    def api_key_scopes(self) -> list[ApiKeyScope]:
        return [ApiKeyScope(name=n, description=d) for n, d in SCOPES.items()]


@strawberry.type
class ApiKeyMutation:
    @strawberry.mutation(description="Create an API key; its secret is in the answer and nowhere else.")
    async def create_api_key(self, info: strawberry.Info, input: CreateApiKeyInput) -> CreatedApiKey:
        created = await service.create(
            ctx(info).services,
            ctx(info).principal,
            name=input.name,
            scopes=input.scopes,
            rate_per_minute=input.rate_per_minute,
        )
        return CreatedApiKey(key=ApiKey.of(created.key), secret=created.secret)

    @strawberry.mutation(description="Revoke an API key: requests with it fail from now on.")
    async def revoke_api_key(self, info: strawberry.Info, id: strawberry.ID) -> ApiKey:
        return ApiKey.of(await service.revoke(ctx(info).services, ctx(info).principal, id))


QUERIES: tuple[type, ...] = (ApiKeyQuery,)
MUTATIONS: tuple[type, ...] = (ApiKeyMutation,)
SUBSCRIPTIONS: tuple[type, ...] = ()

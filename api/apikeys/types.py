"""GraphQL types of api/apikeys."""

from __future__ import annotations

from datetime import datetime

import strawberry

from dbschema.apikeys import ApiKey as ApiKeyRow


@strawberry.type(description="A server-to-server credential of your account. Its secret is shown only once.")
class ApiKey:
    id: strawberry.ID
    name: str
    scopes: list[str] = strawberry.field(description="What the key may do, e.g. meetings:read, meetings:write.")
    rate_per_minute: int = strawberry.field(description="Requests a minute before RATE_LIMITED (Retry-After).")
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: ApiKeyRow) -> ApiKey:
        return cls(
            id=strawberry.ID(row.id),
            name=row.name,
            scopes=row.scopes.split(),
            rate_per_minute=row.rate_per_minute,
            created_at=row.created_at,
            revoked_at=row.revoked_at,
        )


@strawberry.type(description="A new key and its secret: store the secret now, it cannot be shown again.")
class CreatedApiKey:
    key: ApiKey
    secret: str = strawberry.field(
        description="Send as `Authorization: Bearer <secret>` to /api/v1 (REST) or /graphql."
    )


@strawberry.input
class CreateApiKeyInput:
    name: str
    scopes: list[str] = strawberry.field(description="Any of the names `apiKeyScopes` lists.")
    rate_per_minute: int | None = strawberry.field(default=None, description="1..60000, default 600.")


@strawberry.type(description="A scope an API key can hold.")
class ApiKeyScope:
    name: str
    description: str

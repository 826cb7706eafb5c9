"""GraphQL entry points of api/audit."""

from __future__ import annotations

import strawberry

from api.audit import service
from api.audit.types import AuditLogConnection
from api.graphql.context import ctx


@strawberry.type
class AuditQuery:
    @strawberry.field(
        description="A meeting's audit log (host and co-host actions, recording access), newest first. The "
        "meeting's owner only. Pass nextCursor as `after` for older entries."
    )
    async def audit_log(
        self, info: strawberry.Info, meeting_id: strawberry.ID, first: int = 50, after: str | None = None
    ) -> AuditLogConnection:
        c = ctx(info)
        return AuditLogConnection.of(
            await service.meeting_log(c.services, c.principal, meeting_id, first=first, after=after)
        )

    @strawberry.field(description="Your account's own audit log (sign-ins and failed sign-ins), newest first.")
    async def my_audit_log(
        self, info: strawberry.Info, first: int = 50, after: str | None = None
    ) -> AuditLogConnection:
        c = ctx(info)
        return AuditLogConnection.of(await service.my_log(c.services, c.principal, first=first, after=after))


QUERIES = [AuditQuery]
MUTATIONS: list[type] = []
SUBSCRIPTIONS: list[type] = []

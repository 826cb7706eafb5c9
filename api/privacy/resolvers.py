"""GraphQL entry points of api/privacy."""

from __future__ import annotations

import strawberry

from api.graphql.context import ctx
from api.privacy import service
from api.privacy.types import DataExport, PrivacySettings


@strawberry.type
class PrivacyQuery:
    @strawberry.field(description="Your privacy settings (signed-in users).")
    async def privacy_settings(self, info: strawberry.Info) -> PrivacySettings:
        c = ctx(info)
        user = await service.current_user(c.services, c.principal)
        return PrivacySettings(recording_retention_days=user.recording_retention_days)


@strawberry.type
class PrivacyMutation:
    @strawberry.mutation(
        description="A link to download everything of yours: account, meetings you own (settings, participants, "
        "chat), your chat messages anywhere, recordings and transcripts of your meetings. Valid 15 minutes."
    )
    async def request_data_export(self, info: strawberry.Info) -> DataExport:
        c = ctx(info)
        link = await service.request_export(c.services, c.principal)
        return DataExport(url=link.url, expires_at=link.expires_at)

    @strawberry.mutation(
        description="Keep recordings of your meetings this many days (1..36500), or null for the server default."
    )
    async def set_recording_retention(self, info: strawberry.Info, days: int | None) -> PrivacySettings:
        c = ctx(info)
        user = await service.set_recording_retention(c.services, c.principal, days)
        return PrivacySettings(recording_retention_days=user.recording_retention_days)

    @strawberry.mutation(
        description="Delete your account for good (your password again, to be sure it is you). Your meetings, "
        'their chat and recordings go; your messages in others\' meetings stay, from "deleted user"; every '
        "token you hold stops working. Returns your former user id."
    )
    async def delete_account(self, info: strawberry.Info, password: str) -> strawberry.ID:
        c = ctx(info)
        return strawberry.ID(await service.delete_account(c.services, c.principal, password))


QUERIES = [PrivacyQuery]
MUTATIONS = [PrivacyMutation]
SUBSCRIPTIONS: list[type] = []

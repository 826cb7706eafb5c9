"""GraphQL entry points of api/analytics (merged into the schema by `api.graphql.schema`)."""

from __future__ import annotations

import strawberry

from api.analytics import service
from api.analytics.types import MeetingAnalytics
from api.graphql.context import ctx


@strawberry.type
class AnalyticsQuery:
    @strawberry.field(description="Talk time, speakers, chat, reactions, polls, attendance and recording views.")
    async def meeting_analytics(self, info: strawberry.Info, meeting_id: strawberry.ID) -> MeetingAnalytics:
        c = ctx(info)
        return MeetingAnalytics.of(await service.meeting_stats(c.services, c.principal, meeting_id))


QUERIES = [AnalyticsQuery]
MUTATIONS: list[type] = []
SUBSCRIPTIONS: list[type] = []

"""GraphQL entry points of api/collab (the documents themselves travel over their WebSocket, api/collab/http.py)."""

from __future__ import annotations

import strawberry

from api.collab import history
from api.collab.types import DocumentChange
from api.graphql.context import ctx


@strawberry.type
class CollabQuery:
    @strawberry.field(
        description="Who changed a shared document (`notes` or `board:<room id or main>`) when, newest first. "
        "Anyone who may open the document may read this."
    )
    async def document_history(
        self, info: strawberry.Info, meeting_id: strawberry.ID, doc: str = "notes", limit: int = 100
    ) -> list[DocumentChange]:
        c = ctx(info)
        changes = await history.document_history(c.services, c.principal, str(meeting_id), doc, limit)
        return [DocumentChange.from_change(ch) for ch in changes]


QUERIES: tuple[type, ...] = (CollabQuery,)
MUTATIONS: tuple[type, ...] = ()
SUBSCRIPTIONS: tuple[type, ...] = ()

"""Who changed a shared document when (issue 17, "history of who changed what").

The server knows who sent each update: the peer's participation in the meeting (every writer has one). When
pending edits are stored (``service.flush``), each author's share of the batch is recorded beside it in
``collab_changes``; compaction folds the batches into a snapshot but keeps this record. Names are read from the
participation when asked, so a deleted account's changes read "deleted user", like its chat messages. Reading
it is authorised like opening the document (``access.decide``): whoever may watch the document may see who
changed it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from api.collab import access, names, store
from api.errors import BadInputError
from api.security import Principal
from api.services import Services

MAX_LIMIT = 500


@dataclass(frozen=True, slots=True)
class Change:
    author: str
    """The participant's display name now."""
    at: datetime
    updates: int
    """How many of the author's updates (keystrokes, strokes…) this stored batch holds."""
    bytes: int


async def document_history(
    svc: Services, principal: Principal | None, meeting_id: str, doc: str, limit: int
) -> list[Change]:
    """Newest first. Raises BAD_INPUT, UNAUTHENTICATED, NOT_FOUND or FORBIDDEN (api/errors)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise BadInputError("limit", f"limit must be 1..{MAX_LIMIT} (got {limit})")
    name = names.parse(doc)
    await access.decide(svc, principal, meeting_id, name)
    rows = await store.history(svc.db, meeting_id, str(name), limit)
    return [Change(author, r.at, r.updates, r.bytes) for r, author in rows]

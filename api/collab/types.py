"""GraphQL types of api/collab."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.collab.history import Change


@strawberry.type(description="Someone's edits to a shared document, as stored in one batch (every 200 ms at most).")
class DocumentChange:
    author: str = strawberry.field(
        description="The editor's display name in the meeting (`deleted user` once they deleted their account)."
    )
    at: datetime
    updates: int = strawberry.field(description="How many of their updates (keystrokes, strokes…) the batch holds.")
    bytes: int = strawberry.field(description="Size of those updates: a rough measure of how much they changed.")

    @classmethod
    def from_change(cls, c: Change) -> DocumentChange:
        return cls(author=c.author, at=c.at, updates=c.updates, bytes=c.bytes)

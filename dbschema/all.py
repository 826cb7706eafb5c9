"""Every table module, imported so ``Base.metadata`` is complete (migrations and tests import this)."""

from __future__ import annotations

from dbschema import (
    analytics,
    apikeys,
    audit,
    breakouts,
    calendars,
    chat,
    collab,
    models,
    polls,
    recordings,
    sso,
    webhooks,
)
from dbschema.models import Base

metadata = Base.metadata

# Full-text search objects are written by hand per dialect in 0003_chat (FTS5 tables and triggers on SQLite, a
# generated tsvector column and GIN index on PostgreSQL); they have no model, so autogenerate must not drop them.
_HAND_WRITTEN = {
    "chat_messages.search",
    "ix_chat_messages_search",
    "transcript_segments.search",
    "ix_transcript_segments_search",
}


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    if name is None:
        return True
    if type_ == "table" and name.startswith(("chat_messages_fts", "transcript_segments_fts")):
        return False
    table = getattr(getattr(obj, "table", None), "name", None)
    return name not in _HAND_WRITTEN and f"{table}.{name}" not in _HAND_WRITTEN


__all__ = [
    "analytics",
    "apikeys",
    "audit",
    "breakouts",
    "calendars",
    "chat",
    "collab",
    "include_object",
    "metadata",
    "models",
    "polls",
    "recordings",
    "sso",
    "webhooks",
]

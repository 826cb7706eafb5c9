"""Message snapshots: the JSON-able dicts events carry. GraphQL types are built from the same dicts (as for
participants), so what a subscriber is sent and what a history query returns cannot drift apart.

Nothing time-limited goes into a snapshot (events are logged): attachment download URLs are signed when a
GraphQL field asks for them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from dbschema.chat import ChatFile, ChatMessage, ChatReaction

REPLY_PREVIEW_CHARS = 200


@dataclass(frozen=True, slots=True)
class Names:
    """Display names of the participants a page of messages mentions."""

    by_id: dict[str, str]

    def __call__(self, participant_id: str | None) -> str | None:
        return self.by_id.get(participant_id, "") if participant_id else None


def reactions_summary(rows: Iterable[ChatReaction]) -> list[dict[str, Any]]:
    """Per emoji: how many and who, emoji in the order they were first used."""
    by_emoji: dict[str, list[ChatReaction]] = {}
    for r in sorted(rows, key=lambda r: (r.created_at, r.participant_id)):
        by_emoji.setdefault(r.emoji, []).append(r)
    return [
        {"emoji": e, "count": len(rs), "participantIds": [r.participant_id for r in rs]} for e, rs in by_emoji.items()
    ]


def attachment_snapshot(f: ChatFile) -> dict[str, Any]:
    return {"id": f.id, "filename": f.filename, "contentType": f.content_type, "size": f.size}


def reply_preview(m: ChatMessage, names: Names) -> dict[str, Any]:
    deleted = m.deleted_at is not None
    return {
        "id": m.id,
        "senderId": m.sender_id,
        "senderName": names(m.sender_id),
        "text": None if deleted else m.text[:REPLY_PREVIEW_CHARS],
        "deleted": deleted,
    }


def message_snapshot(
    m: ChatMessage,
    names: Names,
    *,
    reply_to: ChatMessage | None,
    attachment: ChatFile | None,
    reactions: Iterable[ChatReaction],
) -> dict[str, Any]:
    deleted = m.deleted_at is not None
    return {
        "id": m.id,
        "meetingId": m.meeting_id,
        "senderId": m.sender_id,
        "senderName": names(m.sender_id),
        "recipientId": m.recipient_id,
        "recipientName": names(m.recipient_id),
        "roomId": m.room_id,
        "text": None if deleted else m.text,
        "createdAt": m.created_at.timestamp(),
        "editedAt": m.edited_at.timestamp() if m.edited_at else None,
        "deletedAt": m.deleted_at.timestamp() if m.deleted_at else None,
        "deletedById": m.deleted_by_id,
        "replyTo": reply_preview(reply_to, names) if reply_to is not None else None,
        "attachment": attachment_snapshot(attachment) if attachment is not None and not deleted else None,
        "reactions": [] if deleted else reactions_summary(reactions),
    }

"""GraphQL types of api/chat, built from the snapshots in `api.chat.views` (the same dicts events carry)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import strawberry

from api.chat import service
from api.chat.search import Segment
from api.graphql.context import ctx


def _ts(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


def _id(value: str | None) -> strawberry.ID | None:
    return strawberry.ID(value) if value is not None else None


@strawberry.type(description="How many participants reacted to a message with one emoji, and who.")
class ChatReactionCount:
    emoji: str
    count: int
    participant_ids: list[strawberry.ID]

    @classmethod
    def from_snapshot(cls, d: dict[str, Any]) -> ChatReactionCount:
        return cls(emoji=d["emoji"], count=d["count"], participant_ids=[strawberry.ID(i) for i in d["participantIds"]])


@strawberry.type(description="The message a reply answers, as it is now (or was when the event was sent).")
class ChatReplyPreview:
    id: strawberry.ID
    sender_id: strawberry.ID
    sender_name: str
    text: str | None = strawberry.field(description="At most 200 characters; null once the message was deleted.")
    deleted: bool


@strawberry.type(description="An expiring download link.")
class SignedUrl:
    url: str = strawberry.field(description="Absolute URL; needs no token (the signature is the permission).")
    expires_at: datetime


@strawberry.type(description="A file shared in the chat.")
class ChatAttachment:
    id: strawberry.ID
    filename: str = strawberry.field(description="The uploader's file name (display only).")
    content_type: str = strawberry.field(description="Sniffed from the file's bytes when it was uploaded.")
    size: int = strawberry.field(description="Bytes.")

    @strawberry.field(
        description="A link to download the file, valid for an hour. Only those who can see the message get one; "
        "a link from an older event may have expired: query chatMessage(id) for a fresh one."
    )
    def download(self, info: strawberry.Info) -> SignedUrl:
        url, exp = service.download_link(ctx(info).services, self.id)
        return SignedUrl(url=url, expires_at=datetime.fromtimestamp(exp, UTC))


@strawberry.type(description="A chat message. Deleted messages stay as tombstones: text, file and reactions gone.")
class ChatMessage:
    id: strawberry.ID
    meeting_id: strawberry.ID
    sender_id: strawberry.ID = strawberry.field(description="Participant who sent it.")
    sender_name: str = strawberry.field(description="The sender's current display name.")
    recipient_id: strawberry.ID | None = strawberry.field(
        description="Set for a private message: only sender and recipient see it."
    )
    recipient_name: str | None
    is_private: bool
    room_id: strawberry.ID | None = strawberry.field(
        description="Breakout room it was sent in (only that room and the hosts see it); null for the main room."
    )
    text: str | None = strawberry.field(description="Verbatim as sent (links are plain text); null once deleted.")
    created_at: datetime
    edited_at: datetime | None
    deleted: bool
    deleted_at: datetime | None
    deleted_by_id: strawberry.ID | None = strawberry.field(description="Who deleted it (the sender or a host).")
    reply_to: ChatReplyPreview | None
    attachment: ChatAttachment | None
    reactions: list[ChatReactionCount]

    @classmethod
    def from_snapshot(cls, d: dict[str, Any]) -> ChatMessage:
        reply = d["replyTo"]
        att = d["attachment"]
        return cls(
            id=strawberry.ID(d["id"]),
            meeting_id=strawberry.ID(d["meetingId"]),
            sender_id=strawberry.ID(d["senderId"]),
            sender_name=d["senderName"],
            recipient_id=_id(d["recipientId"]),
            recipient_name=d["recipientName"],
            is_private=d["recipientId"] is not None,
            room_id=_id(d["roomId"]),
            text=d["text"],
            created_at=datetime.fromtimestamp(d["createdAt"], UTC),
            edited_at=_ts(d["editedAt"]),
            deleted=d["deletedAt"] is not None,
            deleted_at=_ts(d["deletedAt"]),
            deleted_by_id=_id(d["deletedById"]),
            reply_to=ChatReplyPreview(
                id=strawberry.ID(reply["id"]),
                sender_id=strawberry.ID(reply["senderId"]),
                sender_name=reply["senderName"],
                text=reply["text"],
                deleted=reply["deleted"],
            )
            if reply
            else None,
            attachment=ChatAttachment(
                id=strawberry.ID(att["id"]), filename=att["filename"], content_type=att["contentType"], size=att["size"]
            )
            if att
            else None,
            reactions=[ChatReactionCount.from_snapshot(r) for r in d["reactions"]],
        )


@strawberry.type
class ChatMessageConnection:
    items: list[ChatMessage] = strawberry.field(description="Newest first.")
    next_cursor: str | None = strawberry.field(description="Pass as `before` for older messages; null on the last.")


@strawberry.type(description="A piece of a search snippet; `match` marks the words that matched.")
class HighlightSegment:
    text: str
    match: bool

    @classmethod
    def from_segment(cls, s: Segment) -> HighlightSegment:
        return cls(text=s.text, match=s.match)


@strawberry.type
class ChatSearchHit:
    message: ChatMessage
    meeting_title: str
    rank: float = strawberry.field(description="Higher is better; comparable within one result list only.")
    highlight: list[HighlightSegment] = strawberry.field(
        description="An excerpt of the text around the matches, as plain-text segments (render `match` ones marked)."
    )


@strawberry.input
class SendChatMessageInput:
    meeting_id: strawberry.ID
    text: str = strawberry.field(
        default="", description="Up to 4096 characters, stored verbatim; may be empty with an attachment."
    )
    to_participant_id: strawberry.ID | None = strawberry.field(
        default=None, description="Send privately to this participant."
    )
    reply_to_id: strawberry.ID | None = strawberry.field(default=None, description="The message this one answers.")
    attachment_id: strawberry.ID | None = strawberry.field(
        default=None, description="A file you uploaded (POST /meetings/{meetingId}/files) and have not attached yet."
    )

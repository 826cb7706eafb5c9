"""GraphQL shapes of the chat's bus events, registered with `api.events.types` at import (by our resolvers).

Every field is viewer-independent (who may see an event is decided before it is yielded), so one execution can be
shared by all subscribers (`api.graphql.shared_events`).
"""

from __future__ import annotations

import strawberry

from api.chat.types import ChatMessage, ChatReactionCount
from api.events.types import Common, MeetingEvent, register
from protocol.events import EventType
from protocol.events import MeetingEvent as BusEvent


@strawberry.type(description="A chat message was sent, edited or deleted; `message` is its state after the change.")
class ChatMessageEvent(MeetingEvent):
    message: ChatMessage


@strawberry.type(description="Someone added or removed an emoji on a message; `reactions` are the new totals.")
class ChatReactionEvent(MeetingEvent):
    message_id: strawberry.ID
    emoji: str
    added: bool
    reactions: list[ChatReactionCount]


@strawberry.type(description="An in-meeting reaction (applause and the like); nothing is stored.")
class ReactionEvent(MeetingEvent):
    participant_id: strawberry.ID
    emoji: str


def _message(ev: BusEvent, c: Common) -> ChatMessageEvent:
    return ChatMessageEvent(
        **c,
        message=ChatMessage.from_snapshot(ev.data["message"]),
    )


def _chat_reaction(ev: BusEvent, c: Common) -> ChatReactionEvent:
    return ChatReactionEvent(
        **c,
        message_id=strawberry.ID(ev.data["messageId"]),
        emoji=ev.data["emoji"],
        added=ev.data["added"],
        reactions=[ChatReactionCount.from_snapshot(r) for r in ev.data["reactions"]],
    )


def _reaction(ev: BusEvent, c: Common) -> ReactionEvent:
    return ReactionEvent(
        **c,
        participant_id=strawberry.ID(ev.data["participantId"]),
        emoji=ev.data["emoji"],
    )


register(
    [ChatMessageEvent, ChatReactionEvent, ReactionEvent],
    {
        EventType.CHAT_MESSAGE_SENT: _message,
        EventType.CHAT_MESSAGE_EDITED: _message,
        EventType.CHAT_MESSAGE_DELETED: _message,
        EventType.CHAT_REACTION_CHANGED: _chat_reaction,
        EventType.REACTION_SENT: _reaction,
    },
)

"""GraphQL entry points of api/chat. The schema merges every type listed in QUERIES / MUTATIONS / SUBSCRIPTIONS.

Chat events arrive on the existing `meetingEvents` subscription (ChatMessageEvent, ChatReactionEvent,
ReactionEvent), so there is no chat subscription of its own.
"""

from __future__ import annotations

import strawberry

from api.chat import events as _events  # noqa: F401  (registers the chat event types at import)
from api.chat import service
from api.chat.policy import MEETING_REACTIONS, ChatPolicy
from api.chat.types import (
    ChatMessage,
    ChatMessageConnection,
    ChatSearchHit,
    HighlightSegment,
    SendChatMessageInput,
)
from api.graphql.context import ctx
from api.meetings.resolvers import as_host
from api.meetings.types import ChatPolicy as GqlChatPolicy
from api.meetings.types import Meeting


@strawberry.type
class ChatQuery:
    @strawberry.field(
        description="A meeting's chat, newest first: the main room, your breakout room (hosts: all rooms) and your "
        "private messages. For the owner and anyone let in. Pass nextCursor as `before` for older messages."
    )
    async def chat_messages(
        self, info: strawberry.Info, meeting_id: strawberry.ID, first: int = 50, before: str | None = None
    ) -> ChatMessageConnection:
        c = ctx(info)
        snaps, cursor = await service.history(c.services, c.principal, meeting_id, first=first, before=before)
        return ChatMessageConnection(items=[ChatMessage.from_snapshot(s) for s in snaps], next_cursor=cursor)

    @strawberry.field(description="One chat message you can see (e.g. for a fresh attachment download link).")
    async def chat_message(self, info: strawberry.Info, id: strawberry.ID) -> ChatMessage:
        return ChatMessage.from_snapshot(await service.one(ctx(info).services, ctx(info).principal, id))

    @strawberry.field(
        description="Full-text search, best match first, in one meeting's chat or (without meetingId) in every "
        "meeting you attended or own. Every word must match; end a word with * to match it as a prefix. Only "
        "messages you can see: never others' private messages, nor deleted ones."
    )
    async def search_chat(
        self, info: strawberry.Info, query: str, meeting_id: strawberry.ID | None = None, first: int = 20
    ) -> list[ChatSearchHit]:
        c = ctx(info)
        results = await service.search_messages(c.services, c.principal, query, meeting_id=meeting_id, first=first)
        return [
            ChatSearchHit(
                message=ChatMessage.from_snapshot(r.message),
                meeting_title=r.meeting_title,
                rank=r.rank,
                highlight=[HighlightSegment.from_segment(s) for s in r.highlight],
            )
            for r in results
        ]

    @strawberry.field(description="The emoji sendReaction accepts.")
    def meeting_reactions(self) -> list[str]:
        return list(MEETING_REACTIONS)


@strawberry.type
class ChatMutation:
    @strawberry.mutation(
        description="Send a chat message to everyone (in your breakout room, if you are in one) or privately to one "
        "participant. Limited to 10 a second; the host's chat settings apply."
    )
    async def send_chat_message(self, info: strawberry.Info, input: SendChatMessageInput) -> ChatMessage:
        c = ctx(info)
        snap = await service.send(
            c.services,
            c.principal,
            input.meeting_id,
            text=input.text,
            to_participant_id=input.to_participant_id,
            reply_to_id=input.reply_to_id,
            attachment_id=input.attachment_id,
        )
        return ChatMessage.from_snapshot(snap)

    @strawberry.mutation(description="Edit one of your messages.")
    async def edit_chat_message(self, info: strawberry.Info, message_id: strawberry.ID, text: str) -> ChatMessage:
        return ChatMessage.from_snapshot(await service.edit(ctx(info).services, ctx(info).principal, message_id, text))

    @strawberry.mutation(
        description="Delete one of your messages (host and co-hosts: any they can see). It stays as a tombstone."
    )
    async def delete_chat_message(self, info: strawberry.Info, message_id: strawberry.ID) -> ChatMessage:
        return ChatMessage.from_snapshot(await service.delete(ctx(info).services, ctx(info).principal, message_id))

    @strawberry.mutation(description="Add your emoji to a message, or take it back if it is there already.")
    async def toggle_chat_reaction(self, info: strawberry.Info, message_id: strawberry.ID, emoji: str) -> ChatMessage:
        snap = await service.toggle_reaction(ctx(info).services, ctx(info).principal, message_id, emoji)
        return ChatMessage.from_snapshot(snap)

    @strawberry.mutation(
        description="An in-meeting reaction everyone (in your room) sees briefly; one of meetingReactions, at most "
        "5 a second."
    )
    async def send_reaction(self, info: strawberry.Info, meeting_id: strawberry.ID, emoji: str) -> bool:
        await service.send_meeting_reaction(ctx(info).services, ctx(info).principal, meeting_id, emoji)
        return True

    @strawberry.mutation(
        description="Host and co-hosts: whom participants may chat with (hosts always may) and whether they may "
        "message each other privately. Omitted arguments keep their value."
    )
    async def set_chat_policy(
        self,
        info: strawberry.Info,
        meeting_id: strawberry.ID,
        policy: GqlChatPolicy | None = None,
        private_chat: bool | None = None,
    ) -> Meeting:
        m = await service.set_policy(
            ctx(info).services,
            ctx(info).principal,
            meeting_id,
            chat_policy=ChatPolicy(policy.value) if policy is not None else None,
            private_chat=private_chat,
        )
        return as_host(m)


QUERIES: tuple[type, ...] = (ChatQuery,)
MUTATIONS: tuple[type, ...] = (ChatMutation,)
SUBSCRIPTIONS: tuple[type, ...] = ()

"""Chat: messages to everyone or to one participant, replies, edits, deletions, emoji reactions, attachments,
history and search; ephemeral in-meeting reactions; the host's chat settings.

Writes follow the participants pattern: `acting` (meeting row locked, role known) → checks (`policy`) → write
→ exactly one event, published after commit. A message's event carries the same narrowing as the message:
``recipients`` for a private one (sender and recipient only) and ``room_id`` for one sent from a breakout room
(that room and the hosts). Reads go through `meetings.service.access` (the owner and whoever has been let in)
and the visibility rule in `policy.visible` / `store._visible`.
"""

from __future__ import annotations

import base64
import binascii
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api import integers, validation
from api.analytics import service as analytics
from api.chat import files, policy, search, store
from api.chat.policy import ChatPolicy
from api.chat.views import Names, message_snapshot
from api.db import Tx
from api.errors import BadInputError, ConflictError, ForbiddenError, NotFoundError, UnauthenticatedError
from api.meetings import service as meetings
from api.participants import store as participants_store
from api.participants.permissions import HOSTS, Role
from api.participants.service import Acting, acting, emit_meeting, ensure_running
from api.security import Principal
from api.services import Services
from dbschema.chat import ChatFile, ChatMessage, ChatReaction
from dbschema.models import Meeting, Participant, utcnow
from protocol.events import EventType
from protocol.ids import new_id

SEND_LIMIT = (10, 1.0)
"""Messages and edits per participant per second."""
CHAT_REACTION_LIMIT = (20, 1.0)
MEETING_REACTION_LIMIT = (5, 1.0)
UPLOAD_LIMIT = (10, 60.0)


# -- who reads, who writes ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reader:
    meeting: Meeting
    participant_id: str | None
    is_host: bool
    room_id: str | None

    def sees(self, m: ChatMessage) -> bool:
        return policy.visible(
            sender_id=m.sender_id,
            recipient_id=m.recipient_id,
            room_id=m.room_id,
            viewer_id=self.participant_id,
            viewer_is_host=self.is_host,
            viewer_room_id=self.room_id,
        )


async def _reader(svc: Services, principal: Principal | None, meeting_id: str) -> Reader:
    access = await meetings.access(svc, principal, meeting_id)
    room: str | None = None
    if access.participant_id is not None:
        async with svc.db.read() as session:
            p = await participants_store.by_id(session, access.participant_id)
        room = p.breakout_room_id if p is not None else None
    return Reader(access.meeting, access.participant_id, access.role in HOSTS, room)


def _writer_view(a: Acting) -> Reader:
    p = a.participant
    return Reader(a.meeting, p.id if p else None, a.role in HOSTS, p.breakout_room_id if p else None)


def _speaker(a: Acting) -> Participant:
    """Who speaks: messages and reactions come from someone in the call, so the owner has to join first."""
    p = a.participant
    if p is None or p.state != "admitted":
        raise ForbiddenError("join the meeting to chat")
    return p


async def _meeting_of(svc: Services, principal: Principal | None, message_id: str) -> str:
    if principal is None:  # before any lookup: anonymous callers learn nothing about which ids exist
        raise UnauthenticatedError("log in or join as a guest first")
    async with svc.db.read() as session:
        m = await store.message(session, message_id)
    if m is None:
        raise NotFoundError(f"message {message_id} does not exist")
    return m.meeting_id


async def _visible_message(tx: Tx, a: Acting, message_id: str) -> ChatMessage:
    m = await store.message(tx.session, message_id)
    if m is None or m.meeting_id != a.meeting.id or not _writer_view(a).sees(m):
        raise NotFoundError(f"message {message_id} does not exist")  # the same answer whether hidden or absent
    return m


# -- snapshots ------------------------------------------------------------------------------------------------


async def _snapshots(session: AsyncSession, msgs: list[ChatMessage]) -> list[dict[str, Any]]:
    """Snapshots for a page of messages in a fixed number of queries (no N+1)."""
    replies = await store.messages(session, {m.reply_to_id for m in msgs if m.reply_to_id})
    attached = await store.files(session, {m.attachment_id for m in msgs if m.attachment_id})
    people = {m.sender_id for m in msgs} | {m.recipient_id for m in msgs if m.recipient_id}
    people |= {r.sender_id for r in replies.values()}
    names = Names(await store.names(session, people))
    reactions = await store.reactions(session, [m.id for m in msgs])
    return [
        message_snapshot(
            m,
            names,
            reply_to=replies.get(m.reply_to_id) if m.reply_to_id else None,
            attachment=attached.get(m.attachment_id) if m.attachment_id else None,
            reactions=reactions[m.id],
        )
        for m in msgs
    ]


async def _emit(tx: Tx, m: ChatMessage, type: EventType, actor_id: str | None, data: dict[str, Any]) -> None:
    await tx.emit(
        m.meeting_id,
        type,
        actor_id=actor_id,
        data=data,
        recipients=(m.sender_id, m.recipient_id) if m.recipient_id else None,
        room_id=m.room_id,
    )


def _settings(m: Meeting) -> tuple[ChatPolicy, bool]:
    return ChatPolicy(m.chat_policy), m.private_chat


async def _check_audience(tx: Tx, a: Acting, m: ChatMessage, verb: str) -> None:
    """May the actor still address this message's audience (to react to it or edit it)?"""
    other_role: Role | None = None
    if m.recipient_id is not None:
        other_id = m.recipient_id if a.participant and m.sender_id == a.participant.id else m.sender_id
        other = await participants_store.by_id(tx.session, other_id)
        other_role = Role(other.role) if other is not None else Role.PARTICIPANT
    policy.check_send(a.role, *_settings(a.meeting), other_role, verb=verb)


# -- messages -------------------------------------------------------------------------------------------------


async def send(
    svc: Services,
    principal: Principal | None,
    meeting_id: str,
    *,
    text: str,
    to_participant_id: str | None = None,
    reply_to_id: str | None = None,
    attachment_id: str | None = None,
) -> dict[str, Any]:
    text = policy.message_text(text, allow_empty=attachment_id is not None)
    async with svc.db.write(inline=True) as tx:  # a few small statements: on the loop (api/db.py)
        a = await acting(tx, meeting_id, principal)
        ensure_running(a.meeting)
        sender = _speaker(a)
        recipient = await _recipient(tx, a, sender, to_participant_id) if to_participant_id is not None else None
        policy.check_send(a.role, *_settings(a.meeting), Role(recipient.role) if recipient else None)
        await svc.limit("chat", sender.id, limit=SEND_LIMIT[0], window_s=SEND_LIMIT[1])
        # A private message is addressed to a person, not a room (`recipients` narrows it further than any
        # room would); everything else said in a breakout room stays in that room.
        room = None if recipient is not None else sender.breakout_room_id
        if reply_to_id is not None:
            await _check_reply(tx, a, sender, reply_to_id, recipient, room)
        if attachment_id is not None:
            await _check_attachment(tx, a.meeting.id, attachment_id, sender)
        m = ChatMessage(
            id=new_id(),
            meeting_id=a.meeting.id,
            sender_id=sender.id,
            recipient_id=recipient.id if recipient else None,
            room_id=room,
            reply_to_id=reply_to_id,
            attachment_id=attachment_id,
            text=text,
            created_at=utcnow(),
        )
        tx.session.add(m)
        await tx.session.flush()
        snap = (await _snapshots(tx.session, [m]))[0]
        await _emit(tx, m, EventType.CHAT_MESSAGE_SENT, sender.id, {"message": snap})
    return snap


async def _recipient(tx: Tx, a: Acting, sender: Participant, participant_id: str) -> Participant:
    r = await participants_store.by_id(tx.session, participant_id)
    if r is None or r.meeting_id != a.meeting.id:
        raise NotFoundError(f"participant {participant_id} is not in this meeting")
    if r.id == sender.id:
        raise BadInputError("toParticipantId", "you cannot send a private message to yourself")
    if r.state != "admitted":
        raise ConflictError(f"participant {participant_id} is {r.state}, not in the meeting")
    if a.role not in HOSTS and r.role not in HOSTS and r.breakout_room_id != sender.breakout_room_id:
        raise ForbiddenError(f"participant {participant_id} is in another room")
    return r


async def _check_reply(
    tx: Tx, a: Acting, sender: Participant, reply_to_id: str, recipient: Participant | None, room: str | None
) -> None:
    """A reply quotes its target, so everyone who will see the reply must be able to see the target: replies to a
    private message stay private between the same two people, and main-room replies never quote a room."""
    target = await store.message(tx.session, reply_to_id)
    if target is None or target.meeting_id != a.meeting.id or not _writer_view(a).sees(target):
        raise NotFoundError(f"message {reply_to_id} does not exist")
    if recipient is None:
        ok = target.recipient_id is None and target.room_id in (None, room)
    elif target.recipient_id is not None:
        ok = {target.sender_id, target.recipient_id} == {sender.id, recipient.id}
    else:
        ok = policy.visible(
            sender_id=target.sender_id,
            recipient_id=None,
            room_id=target.room_id,
            viewer_id=recipient.id,
            viewer_is_host=recipient.role in HOSTS,
            viewer_room_id=recipient.breakout_room_id,
        )
    if not ok:
        raise BadInputError("replyToId", "a reply must go to the same people who can see the message it answers")


async def _check_attachment(tx: Tx, meeting_id: str, file_id: str, sender: Participant) -> None:
    f = await store.file(tx.session, file_id)
    if f is None or f.meeting_id != meeting_id or f.uploader_id != sender.id or f.deleted_at is not None:
        raise NotFoundError(f"file {file_id} was not uploaded by you to this meeting")
    if await store.attached(tx.session, file_id):
        raise ConflictError(f"file {file_id} is attached to another message already")


async def edit(svc: Services, principal: Principal | None, message_id: str, text: str) -> dict[str, Any]:
    meeting_id = await _meeting_of(svc, principal, message_id)
    async with svc.db.write() as tx:
        a = await acting(tx, meeting_id, principal)
        ensure_running(a.meeting)
        me = _speaker(a)
        m = await _visible_message(tx, a, message_id)
        if m.sender_id != me.id:
            raise ForbiddenError("you can only edit your own messages")
        if m.deleted_at is not None:
            raise ConflictError("this message was deleted")
        new_text = policy.message_text(text, allow_empty=m.attachment_id is not None)
        await _check_audience(tx, a, m, "edit messages")
        await svc.limit("chat", me.id, limit=SEND_LIMIT[0], window_s=SEND_LIMIT[1])
        m.text = new_text
        m.edited_at = utcnow()
        await tx.session.flush()
        snap = (await _snapshots(tx.session, [m]))[0]
        await _emit(tx, m, EventType.CHAT_MESSAGE_EDITED, me.id, {"message": snap})
    return snap


async def delete(svc: Services, principal: Principal | None, message_id: str) -> dict[str, Any]:
    """Your own messages, or any you can see as host or co-host. The row stays as a tombstone (its place in the
    conversation and its replies keep making sense); its text, reactions and file go. Allowed after the meeting
    ended too (the owner tidying up)."""
    meeting_id = await _meeting_of(svc, principal, message_id)
    removed_file: str | None = None
    async with svc.db.write() as tx:
        a = await acting(tx, meeting_id, principal)
        m = await _visible_message(tx, a, message_id)
        actor_id = a.participant.id if a.participant else None
        if m.sender_id != actor_id and a.role not in HOSTS:
            raise ForbiddenError("you can only delete your own messages")
        if m.deleted_at is None:
            m.text = ""
            m.deleted_at = utcnow()
            m.deleted_by_id = actor_id
            if m.attachment_id is not None:
                f = await store.file(tx.session, m.attachment_id)
                if f is not None:
                    f.deleted_at = m.deleted_at
                    removed_file = f.id
            await store.clear_reactions(tx.session, m.id)
            await tx.session.flush()
            snap = (await _snapshots(tx.session, [m]))[0]
            await _emit(tx, m, EventType.CHAT_MESSAGE_DELETED, actor_id, {"message": snap})
        else:  # deleting twice changes nothing and says nothing
            snap = (await _snapshots(tx.session, [m]))[0]
    if removed_file is not None:  # after commit: a rolled-back delete must not lose the bytes
        await files.remove(svc.settings.data_dir, removed_file)
    return snap


async def toggle_reaction(svc: Services, principal: Principal | None, message_id: str, emoji: str) -> dict[str, Any]:
    emoji = policy.chat_reaction(emoji)
    meeting_id = await _meeting_of(svc, principal, message_id)
    async with svc.db.write() as tx:
        a = await acting(tx, meeting_id, principal)
        ensure_running(a.meeting)
        me = _speaker(a)
        m = await _visible_message(tx, a, message_id)
        if m.deleted_at is not None:
            raise ConflictError("this message was deleted")
        await _check_audience(tx, a, m, "react to messages")
        await svc.limit("chat-reaction", me.id, limit=CHAT_REACTION_LIMIT[0], window_s=CHAT_REACTION_LIMIT[1])
        existing = await store.reaction(tx.session, m.id, me.id, emoji)
        if existing is not None:
            await tx.session.delete(existing)
        else:
            tx.session.add(ChatReaction(message_id=m.id, participant_id=me.id, emoji=emoji, created_at=utcnow()))
        await tx.session.flush()
        snap = (await _snapshots(tx.session, [m]))[0]
        data = {"messageId": m.id, "emoji": emoji, "added": existing is None, "reactions": snap["reactions"]}
        await _emit(tx, m, EventType.CHAT_REACTION_CHANGED, me.id, data)
    return snap


# -- ephemeral reactions and settings -------------------------------------------------------------------------


async def send_meeting_reaction(svc: Services, principal: Principal | None, meeting_id: str, emoji: str) -> None:
    """Applause and the like: an event only, nothing stored beyond the event log. Not chat, so the chat policy
    does not apply; in a breakout room it goes to that room."""
    emoji = policy.meeting_reaction(emoji)
    async with svc.db.write() as tx:
        a = await acting(tx, meeting_id, principal)
        ensure_running(a.meeting)
        me = _speaker(a)
        await svc.limit("reaction", me.id, limit=MEETING_REACTION_LIMIT[0], window_s=MEETING_REACTION_LIMIT[1])
        await analytics.bump(tx, a.meeting.id, analytics.REACTIONS)
        await tx.emit(
            a.meeting.id,
            EventType.REACTION_SENT,
            actor_id=me.id,
            data={"participantId": me.id, "emoji": emoji},
            room_id=me.breakout_room_id,
        )


async def set_policy(
    svc: Services,
    principal: Principal | None,
    meeting_id: str,
    *,
    chat_policy: ChatPolicy | None,
    private_chat: bool | None,
) -> Meeting:
    if chat_policy is None and private_chat is None:
        raise BadInputError("policy", "give policy, privateChat or both")
    async with svc.db.write() as tx:
        a = await acting(tx, meeting_id, principal)
        if a.role not in HOSTS:
            raise ForbiddenError(f"a {a.role.value} may not change who can chat")
        if chat_policy is not None:
            a.meeting.chat_policy = chat_policy.value
        if private_chat is not None:
            a.meeting.private_chat = private_chat
        await emit_meeting(tx, a.meeting, EventType.MEETING_UPDATED, a.participant)
    return a.meeting


# -- reading --------------------------------------------------------------------------------------------------


MAX_POSITION = 2**63 - 1
"""Largest chat position a cursor may name: the column is a 64-bit integer (PostgreSQL refuses more)."""


def _encode_cursor(pos: int) -> str:
    return base64.urlsafe_b64encode(f"chat|{pos}".encode()).decode()


def _decode_cursor(cursor: str) -> int:
    try:
        tag, pos = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        position = integers.int_or_none(pos, lo=0, hi=MAX_POSITION)
        if tag != "chat" or position is None:
            raise ValueError(cursor)
        return position
    except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
        raise BadInputError("before", "before is not a cursor returned by this API") from exc


async def history(
    svc: Services, principal: Principal | None, meeting_id: str, *, first: int, before: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first: the main room's messages, your current breakout room's (hosts: every room's) and your
    private ones. Pass the returned cursor as ``before`` for older messages."""
    validation.int_range("first", first, 1, 100)
    before_pos = _decode_cursor(before) if before else None
    r = await _reader(svc, principal, meeting_id)
    async with svc.db.read() as session:
        rows = await store.history(
            session,
            r.meeting.id,
            participant_id=r.participant_id,
            is_host=r.is_host,
            room_id=r.room_id,
            before=before_pos,
            limit=first + 1,
        )
        page = rows[:first]
        snaps = await _snapshots(session, page)
    return snaps, (_encode_cursor(page[-1].pos) if len(rows) > first else None)


async def one(svc: Services, principal: Principal | None, message_id: str) -> dict[str, Any]:
    meeting_id = await _meeting_of(svc, principal, message_id)
    r = await _reader(svc, principal, meeting_id)
    async with svc.db.read() as session:
        m = await store.message(session, message_id)
        if m is None or not r.sees(m):
            raise NotFoundError(f"message {message_id} does not exist")
        return (await _snapshots(session, [m]))[0]


@dataclass(frozen=True, slots=True)
class SearchResult:
    message: dict[str, Any]
    meeting_title: str
    rank: float
    highlight: list[search.Segment]


async def search_messages(
    svc: Services, principal: Principal | None, query: str, *, meeting_id: str | None, first: int
) -> list[SearchResult]:
    """Best match first, over one meeting or every meeting you may read (attended or own). Deleted messages and
    messages you may not see (others' private ones, other breakout rooms) never match."""
    if principal is None:
        raise UnauthenticatedError("log in or join as a guest first")
    terms = search.parse(query)
    validation.int_range("first", first, 1, 50)
    if meeting_id is not None:
        await meetings.access(svc, principal, meeting_id)  # NOT_FOUND / FORBIDDEN before searching
    async with svc.db.read() as session:
        hits = await store.search(session, principal, terms, meeting_id=meeting_id, limit=first)
        msgs = await store.messages_at(session, [h.pos for h in hits])
        snaps = {s["id"]: s for s in await _snapshots(session, msgs)}
        titles = await store.meeting_titles(session, {m.meeting_id for m in msgs})
    by_pos = {m.pos: m for m in msgs}
    return [
        SearchResult(
            message=snaps[by_pos[h.pos].id],
            meeting_title=titles.get(by_pos[h.pos].meeting_id, ""),
            rank=h.score,
            highlight=search.segments(h.snippet),
        )
        for h in hits
        if h.pos in by_pos
    ]


# -- files ----------------------------------------------------------------------------------------------------


def _url_key(svc: Services) -> bytes:
    return svc.creds.derive_key(files.KEY_PURPOSE)


def download_link(svc: Services, file_id: str, now: float | None = None) -> tuple[str, int]:
    """An absolute download URL for a file and its expiry (Unix seconds). Only call it for a viewer who may see
    the message carrying the file: the URL is the permission."""
    exp = files.url_expiry(time.time() if now is None else now)
    return svc.settings.base_url + files.signed_path(_url_key(svc), file_id, exp), exp


async def upload_allowed(svc: Services, principal: Principal | None, meeting_id: str) -> Participant:
    """Checked before any byte is read: the uploader must be in the call and allowed to chat."""
    access = await meetings.access(svc, principal, meeting_id)
    ensure_running(access.meeting)
    async with svc.db.read() as session:
        p = await participants_store.by_id(session, access.participant_id) if access.participant_id else None
    if p is None or p.state != "admitted":
        raise ForbiddenError("join the meeting to share files")
    if not policy.may_chat_at_all(Role(p.role), ChatPolicy(access.meeting.chat_policy)):
        raise ForbiddenError("the host has turned chat off; you cannot share files")
    await svc.limit("chat-upload", p.id, limit=UPLOAD_LIMIT[0], window_s=UPLOAD_LIMIT[1])
    return p


async def record_upload(svc: Services, uploader: Participant, received: files.Received, filename: str) -> ChatFile:
    f = ChatFile(
        id=received.id,
        meeting_id=uploader.meeting_id,
        uploader_id=uploader.id,
        filename=filename,
        content_type=received.content_type,
        size=received.size,
        created_at=utcnow(),
    )
    try:
        async with svc.db.write() as tx:
            tx.session.add(f)
    except BaseException:
        await files.remove(svc.settings.data_dir, received.id)
        raise
    return f


async def downloadable(svc: Services, file_id: str, exp: int | None, sig: str | None) -> ChatFile:
    """The file a signed URL names, if the signature holds and has not expired (FORBIDDEN) and the file is still
    there (NOT_FOUND, only after the signature: unsigned probes learn nothing)."""
    if not files.verify(_url_key(svc), file_id, exp, sig, time.time()):
        raise ForbiddenError("this download link is invalid or has expired; fetch the message again for a new one")
    async with svc.db.read() as session:
        f = await store.file(session, file_id)
    if f is None or f.deleted_at is not None:
        raise NotFoundError(f"file {file_id} no longer exists")
    return f

"""The SQL of api/chat (the only module here that builds queries)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from api.chat import search as fts
from api.participants.permissions import HOSTS
from api.security import GuestPrincipal, Principal, UserPrincipal
from dbschema.chat import ChatFile, ChatMessage, ChatReaction
from dbschema.models import Meeting, Participant

_HOST_ROLES = sorted(r.value for r in HOSTS)


def _visible(pid: Any, is_host: Any, room: Any) -> ColumnElement[bool]:
    """SQL twin of `policy.visible`: private messages only for their two parties; breakout-room messages for
    that room, its hosts and their sender. Arguments are SQL expressions (or values bound as such)."""
    m = ChatMessage
    return sa.and_(
        sa.or_(m.recipient_id.is_(None), m.sender_id == pid, m.recipient_id == pid),
        sa.or_(m.room_id.is_(None), m.sender_id == pid, is_host, m.room_id == room),
    )


# -- rows ---------------------------------------------------------------------------------------------------


async def message(session: AsyncSession, message_id: str) -> ChatMessage | None:
    return (await session.execute(sa.select(ChatMessage).where(ChatMessage.id == message_id))).scalar_one_or_none()


async def messages(session: AsyncSession, ids: Collection[str]) -> dict[str, ChatMessage]:
    if not ids:
        return {}
    rows = await session.execute(sa.select(ChatMessage).where(ChatMessage.id.in_(ids)))
    return {m.id: m for m in rows.scalars()}


async def messages_at(session: AsyncSession, positions: Sequence[int]) -> list[ChatMessage]:
    """Messages by ``pos``, in the order given."""
    if not positions:
        return []
    rows = await session.execute(sa.select(ChatMessage).where(ChatMessage.pos.in_(positions)))
    by_pos = {m.pos: m for m in rows.scalars()}
    return [by_pos[p] for p in positions if p in by_pos]


async def file(session: AsyncSession, file_id: str) -> ChatFile | None:
    return await session.get(ChatFile, file_id)


async def files(session: AsyncSession, ids: Collection[str]) -> dict[str, ChatFile]:
    if not ids:
        return {}
    rows = await session.execute(sa.select(ChatFile).where(ChatFile.id.in_(ids)))
    return {f.id: f for f in rows.scalars()}


async def attached(session: AsyncSession, file_id: str) -> bool:
    q = sa.select(sa.func.count()).select_from(ChatMessage).where(ChatMessage.attachment_id == file_id)
    return (await session.execute(q)).scalar_one() > 0


async def names(session: AsyncSession, participant_ids: Collection[str]) -> dict[str, str]:
    if not participant_ids:
        return {}
    rows = await session.execute(
        sa.select(Participant.id, Participant.display_name).where(Participant.id.in_(participant_ids))
    )
    return {pid: name for pid, name in rows.all()}


async def reactions(session: AsyncSession, message_ids: Collection[str]) -> dict[str, list[ChatReaction]]:
    out: dict[str, list[ChatReaction]] = {mid: [] for mid in message_ids}
    if not message_ids:
        return out
    rows = await session.execute(sa.select(ChatReaction).where(ChatReaction.message_id.in_(message_ids)))
    for r in rows.scalars():
        out[r.message_id].append(r)
    return out


async def reaction(session: AsyncSession, message_id: str, participant_id: str, emoji: str) -> ChatReaction | None:
    return await session.get(ChatReaction, (message_id, participant_id, emoji))


async def clear_reactions(session: AsyncSession, message_id: str) -> None:
    await session.execute(sa.delete(ChatReaction).where(ChatReaction.message_id == message_id))


async def meeting_titles(session: AsyncSession, meeting_ids: Collection[str]) -> dict[str, str]:
    if not meeting_ids:
        return {}
    rows = await session.execute(sa.select(Meeting.id, Meeting.title).where(Meeting.id.in_(meeting_ids)))
    return {mid: title for mid, title in rows.all()}


# -- history ------------------------------------------------------------------------------------------------


async def history(
    session: AsyncSession,
    meeting_id: str,
    *,
    participant_id: str | None,
    is_host: bool,
    room_id: str | None,
    before: int | None,
    limit: int,
) -> list[ChatMessage]:
    """Newest first. Tombstones stay in place so replies and the conversation keep their shape."""
    q = sa.select(ChatMessage).where(
        ChatMessage.meeting_id == meeting_id,
        _visible(sa.literal(participant_id, sa.String), sa.literal(is_host), sa.literal(room_id, sa.String)),
    )
    if before is not None:
        q = q.where(ChatMessage.pos < before)
    rows = await session.execute(q.order_by(ChatMessage.pos.desc()).limit(limit))
    return list(rows.scalars())


# -- search -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hit:
    pos: int
    score: float
    """Higher is better; comparable only within one result list."""
    snippet: str


def _reader_scope(principal: Principal, meeting_id: str | None) -> tuple[Any, list[Any], ColumnElement[bool]]:
    """The messages' viewer per meeting: the caller's participant row there (if any), which meetings they may
    read (as `meetings.service.access` decides: let in now or before, or the owner), and the visibility rule."""
    v = aliased(Participant, name="viewer")
    if isinstance(principal, UserPrincipal):
        on_viewer = v.user_id == principal.user_id
        owner: ColumnElement[bool] = Meeting.host_user_id == principal.user_id
    else:
        assert isinstance(principal, GuestPrincipal)
        on_viewer = v.guest_id == principal.guest_id
        owner = sa.false()
    joins = [
        (Meeting, Meeting.id == ChatMessage.meeting_id),
        (v, sa.and_(v.meeting_id == ChatMessage.meeting_id, on_viewer)),
    ]
    may_read = sa.or_(v.state == "admitted", sa.and_(v.state == "left", v.joined_at.is_not(None)), owner)
    # Like `access`: the owner counts as host unless they are in the call now with another role.
    is_host = sa.or_(
        sa.and_(v.state == "admitted", v.role.in_(_HOST_ROLES)),
        sa.and_(sa.or_(v.id.is_(None), v.state != "admitted"), sa.or_(owner, v.role.in_(_HOST_ROLES))),
    )
    cond = sa.and_(may_read, _visible(v.id, is_host, v.breakout_room_id), ChatMessage.deleted_at.is_(None))
    if meeting_id is not None:
        cond = sa.and_(cond, ChatMessage.meeting_id == meeting_id)
    return v, joins, cond


async def search(
    session: AsyncSession, principal: Principal, terms: list[fts.Term], *, meeting_id: str | None, limit: int
) -> list[Hit]:
    _, joins, cond = _reader_scope(principal, meeting_id)
    if session.get_bind().dialect.name == "postgresql":
        return await _search_pg(session, terms, joins, cond, limit)
    return await _search_sqlite(session, terms, joins, cond, limit)


async def _search_sqlite(
    session: AsyncSession, terms: list[fts.Term], joins: list[Any], cond: ColumnElement[bool], limit: int
) -> list[Hit]:
    idx: ColumnElement[Any] = sa.literal_column("chat_messages_fts")
    rowid: ColumnElement[int] = sa.literal_column("chat_messages_fts.rowid", sa.Integer)
    score = sa.func.bm25(idx)  # FTS5: lower is better
    q = (
        sa.select(
            ChatMessage.pos,
            score.label("score"),
            sa.func.snippet(idx, 0, fts.MATCH_START, fts.MATCH_END, "…", fts.SNIPPET_WORDS).label("snippet"),
        )
        .select_from(sa.table("chat_messages_fts"))
        .join(ChatMessage, ChatMessage.pos == rowid)
    )
    for target, on in joins:
        q = q.join(target, on, isouter=target is not Meeting)
    q = q.where(idx.op("MATCH")(fts.fts5_query(terms)), cond).order_by(score, ChatMessage.pos.desc()).limit(limit)
    rows = await session.execute(q)
    return [Hit(pos, -float(s), snip) for pos, s, snip in rows.all()]


async def _search_pg(
    session: AsyncSession, terms: list[fts.Term], joins: list[Any], cond: ColumnElement[bool], limit: int
) -> list[Hit]:
    config: ColumnElement[Any] = sa.literal_column("'simple'::regconfig")
    query = sa.func.to_tsquery(config, fts.tsquery(terms))
    vector: ColumnElement[Any] = sa.literal_column("chat_messages.search")
    score = sa.func.ts_rank_cd(vector, query)
    ranked = sa.select(ChatMessage.pos, score.label("score")).select_from(ChatMessage)
    for target, on in joins:
        ranked = ranked.join(target, on, isouter=target is not Meeting)
    ranked_sq = (
        ranked.where(vector.op("@@")(query), cond)
        .order_by(score.desc(), ChatMessage.pos.desc())
        .limit(limit)
        .subquery("ranked")
    )
    # ts_headline re-parses the text, so run it for the page of hits only.
    options = (
        f"StartSel={fts.MATCH_START}, StopSel={fts.MATCH_END}, MaxWords={fts.SNIPPET_WORDS}, MinWords=8, "
        'ShortWord=0, MaxFragments=2, FragmentDelimiter=" … "'
    )
    q = (
        sa.select(ranked_sq.c.pos, ranked_sq.c.score, sa.func.ts_headline(config, ChatMessage.text, query, options))
        .join(ChatMessage, ChatMessage.pos == ranked_sq.c.pos)
        .order_by(ranked_sq.c.score.desc(), ranked_sq.c.pos.desc())
    )
    rows = await session.execute(q)
    return [Hit(pos, float(s), snip) for pos, s, snip in rows.all()]

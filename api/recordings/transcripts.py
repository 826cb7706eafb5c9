"""Speaker-labelled transcripts of recordings: stored by the transcription job, read and searched through
GraphQL. Search reuses chat's query parsing and highlight markers (`api.chat.search`): users' words never reach
FTS5 or tsquery syntax, and matches come back as plain-text segments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from api import validation
from api.chat import search as fts
from api.errors import NotFoundError, UnauthenticatedError
from api.meetings import service as meetings
from api.recordings import service
from api.security import GuestPrincipal, Principal, UserPrincipal
from api.services import Services
from dbschema.models import Meeting, Participant
from dbschema.recordings import Recording, TranscriptSegment

TEXT_MAX = 2000


@dataclass(frozen=True, slots=True)
class Line:
    """One transcript line as the transcription job produces it (seconds from the recording's start)."""

    start_s: float
    end_s: float
    participant_id: str | None
    speaker_name: str
    text: str
    language: str | None = None
    """ISO 639-1 code the line was transcribed in."""


_LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})?")
"""An ISO 639 code, optionally with a region/script subtag (BCP 47 shape, lower case)."""


def language_code(value: str | None) -> str | None:
    """`value` as a stored language code, or None when it is missing or not shaped like one (a job's output is
    data, not trusted markup: it ends up in WebVTT and in the API)."""
    code = (value or "").strip().lower()
    return code if _LANGUAGE.fullmatch(code) else None


@dataclass(frozen=True, slots=True)
class Hit:
    segment: TranscriptSegment
    meeting_title: str
    rank: float
    highlight: list[fts.Segment]


async def save(svc: Services, recording_id: str, lines: list[Line]) -> int:
    """Replace the recording's transcript with ``lines`` (a re-run job gives the same result: idempotent)."""
    async with svc.db.write() as tx:
        r = await tx.session.get(Recording, recording_id)
        if r is None:
            raise NotFoundError(f"recording {recording_id} does not exist")
        await tx.session.execute(delete(TranscriptSegment).where(TranscriptSegment.recording_id == recording_id))
        tx.session.add_all(
            TranscriptSegment(
                recording_id=recording_id,
                meeting_id=r.meeting_id,
                start_s=line.start_s,
                end_s=line.end_s,
                participant_id=line.participant_id,
                speaker_name=line.speaker_name[:64],
                # The highlight markers are control characters: never let stored text contain them.
                text=line.text.replace(fts.MATCH_START, "").replace(fts.MATCH_END, "")[:TEXT_MAX],
                language=language_code(line.language),
            )
            for line in sorted(lines, key=lambda x: (x.start_s, x.end_s))
        )
    return len(lines)


async def read(svc: Services, principal: Principal | None, recording_id: str) -> list[TranscriptSegment]:
    await service.get(svc, principal, recording_id)  # NOT_FOUND / FORBIDDEN
    return await read_shared(svc, recording_id)


async def read_shared(svc: Services, recording_id: str) -> list[TranscriptSegment]:
    """The transcript without a member check: only for a recording reached through a valid share link
    (`service.open_share` already checked the link, its expiry and its passcode)."""
    async with svc.db.read() as session:
        rows = await session.execute(
            select(TranscriptSegment)
            .where(TranscriptSegment.recording_id == recording_id)
            .order_by(TranscriptSegment.start_s, TranscriptSegment.pos)
        )
        return list(rows.scalars())


def _scope(principal: Principal, meeting_id: str | None) -> tuple[list[Any], ColumnElement[bool]]:
    """Segments of meetings the principal may read (as `meetings.service.access`: let in now or before, or owner)."""
    v = aliased(Participant, name="viewer")
    if isinstance(principal, UserPrincipal):
        on_viewer = v.user_id == principal.user_id
        owner: ColumnElement[bool] = Meeting.host_user_id == principal.user_id
    else:
        assert isinstance(principal, GuestPrincipal)
        on_viewer, owner = v.guest_id == principal.guest_id, sa.false()
    joins = [
        (Meeting, Meeting.id == TranscriptSegment.meeting_id),
        (v, sa.and_(v.meeting_id == TranscriptSegment.meeting_id, on_viewer)),
    ]
    cond = sa.or_(v.state == "admitted", sa.and_(v.state == "left", v.joined_at.is_not(None)), owner)
    if meeting_id is not None:
        cond = sa.and_(cond, TranscriptSegment.meeting_id == meeting_id)
    return joins, cond


async def _search(
    session: AsyncSession, principal: Principal, terms: list[fts.Term], meeting_id: str | None, limit: int
) -> list[tuple[int, float, str]]:
    joins, cond = _scope(principal, meeting_id)
    if session.get_bind().dialect.name == "postgresql":
        config: ColumnElement[Any] = sa.literal_column("'simple'::regconfig")
        query = sa.func.to_tsquery(config, fts.tsquery(terms))
        vector: ColumnElement[Any] = sa.literal_column("transcript_segments.search")
        score = sa.func.ts_rank_cd(vector, query)
        ranked = sa.select(TranscriptSegment.pos, score.label("score")).select_from(TranscriptSegment)
        for target, on in joins:
            ranked = ranked.join(target, on, isouter=target is not Meeting)
        sq = ranked.where(vector.op("@@")(query), cond).order_by(score.desc()).limit(limit).subquery("ranked")
        options = f"StartSel={fts.MATCH_START}, StopSel={fts.MATCH_END}, MaxWords={fts.SNIPPET_WORDS}, MinWords=8"
        q = (
            sa.select(sq.c.pos, sq.c.score, sa.func.ts_headline(config, TranscriptSegment.text, query, options))
            .join(TranscriptSegment, TranscriptSegment.pos == sq.c.pos)
            .order_by(sq.c.score.desc(), sq.c.pos)
        )
        return [(pos, float(s), snip) for pos, s, snip in (await session.execute(q)).all()]
    idx: ColumnElement[Any] = sa.literal_column("transcript_segments_fts")
    rowid: ColumnElement[int] = sa.literal_column("transcript_segments_fts.rowid", sa.Integer)
    bm25 = sa.func.bm25(idx)  # FTS5: lower is better
    q2 = (
        sa.select(
            TranscriptSegment.pos,
            bm25.label("score"),
            sa.func.snippet(idx, 0, fts.MATCH_START, fts.MATCH_END, "…", fts.SNIPPET_WORDS).label("snippet"),
        )
        .select_from(sa.table("transcript_segments_fts"))
        .join(TranscriptSegment, TranscriptSegment.pos == rowid)
    )
    for target, on in joins:
        q2 = q2.join(target, on, isouter=target is not Meeting)
    q2 = q2.where(idx.op("MATCH")(fts.fts5_query(terms)), cond).order_by(bm25, TranscriptSegment.pos).limit(limit)
    return [(pos, -float(s), snip) for pos, s, snip in (await session.execute(q2)).all()]


async def search_transcripts(
    svc: Services, principal: Principal | None, query: str, *, meeting_id: str | None, first: int
) -> list[Hit]:
    """Best match first, over one meeting's recordings or those of every meeting you may read."""
    if principal is None:
        raise UnauthenticatedError("log in or join as a guest first")
    terms = fts.parse(query)
    validation.int_range("first", first, 1, 50)
    if meeting_id is not None:
        await meetings.access(svc, principal, meeting_id)  # NOT_FOUND / FORBIDDEN before searching
    async with svc.db.read() as session:
        found = await _search(session, principal, terms, meeting_id, first)
        segs = {
            s.pos: s
            for s in (
                await session.execute(
                    select(TranscriptSegment).where(TranscriptSegment.pos.in_([pos for pos, _, _ in found]))
                )
            ).scalars()
        }
        meeting_ids = {s.meeting_id for s in segs.values()}
        rows = await session.execute(select(Meeting.id, Meeting.title).where(Meeting.id.in_(meeting_ids)))
        titles: dict[str, str] = {mid: title for mid, title in rows.all()}
    return [
        Hit(segs[pos], titles.get(segs[pos].meeting_id, ""), rank, fts.segments(snip))
        for pos, rank, snip in found
        if pos in segs
    ]

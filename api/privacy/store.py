"""SQL of api/privacy: what belongs to an account, and what retention removes."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dbschema.audit import AuditEntry
from dbschema.chat import ChatFile, ChatMessage
from dbschema.models import Meeting, Participant, User
from dbschema.recordings import Recording, TranscriptSegment

DELETED_USER = "deleted user"
FINISHED = ("stopped", "ready", "failed")


async def owned_meetings(session: AsyncSession, user_id: str) -> list[Meeting]:
    rows = await session.execute(select(Meeting).where(Meeting.host_user_id == user_id).order_by(Meeting.created_at))
    return list(rows.scalars())


async def participants_in(session: AsyncSession, meeting_ids: list[str]) -> list[Participant]:
    if not meeting_ids:
        return []
    rows = await session.execute(
        select(Participant).where(Participant.meeting_id.in_(meeting_ids)).order_by(Participant.created_at)
    )
    return list(rows.scalars())


async def my_participant_ids(session: AsyncSession, user_id: str) -> list[str]:
    return list((await session.execute(select(Participant.id).where(Participant.user_id == user_id))).scalars())


async def visible_chat(session: AsyncSession, meeting_ids: list[str], mine: list[str]) -> list[ChatMessage]:
    """Messages of the owner's meetings the owner may read: everything public, and private ones only when
    they sent or received them (others' private conversations stay theirs)."""
    if not meeting_ids:
        return []
    q = select(ChatMessage).where(
        ChatMessage.meeting_id.in_(meeting_ids),
        or_(ChatMessage.recipient_id.is_(None), ChatMessage.sender_id.in_(mine), ChatMessage.recipient_id.in_(mine)),
    )
    return list((await session.execute(q.order_by(ChatMessage.pos))).scalars())


async def sent_chat(session: AsyncSession, mine: list[str]) -> list[ChatMessage]:
    if not mine:
        return []
    q = select(ChatMessage).where(ChatMessage.sender_id.in_(mine)).order_by(ChatMessage.pos)
    return list((await session.execute(q)).scalars())


async def recordings_of(session: AsyncSession, meeting_ids: list[str]) -> list[Recording]:
    if not meeting_ids:
        return []
    q = select(Recording).where(Recording.meeting_id.in_(meeting_ids)).order_by(Recording.started_at)
    return list((await session.execute(q)).scalars())


async def transcript_of(session: AsyncSession, recording_ids: list[str]) -> list[TranscriptSegment]:
    if not recording_ids:
        return []
    q = select(TranscriptSegment).where(TranscriptSegment.recording_id.in_(recording_ids))
    return list(
        (await session.execute(q.order_by(TranscriptSegment.recording_id, TranscriptSegment.start_s))).scalars()
    )


async def account_log(session: AsyncSession, user_id: str) -> list[AuditEntry]:
    q = select(AuditEntry).where(AuditEntry.user_id == user_id).order_by(AuditEntry.pos)
    return list((await session.execute(q)).scalars())


async def chat_file_ids(session: AsyncSession, meeting_ids: list[str]) -> list[str]:
    if not meeting_ids:
        return []
    return list((await session.execute(select(ChatFile.id).where(ChatFile.meeting_id.in_(meeting_ids)))).scalars())


async def live_participations_elsewhere(session: AsyncSession, user_id: str) -> list[Participant]:
    """Their rows still waiting or admitted in meetings others own, in meeting order (a fixed lock order when
    several meetings' sequence rows are updated in one transaction)."""
    q = (
        select(Participant)
        .join(Meeting, Meeting.id == Participant.meeting_id)
        .where(
            Participant.user_id == user_id,
            Meeting.host_user_id != user_id,
            Participant.state.in_(("waiting", "admitted")),
        )
        .order_by(Participant.meeting_id)
    )
    return list((await session.execute(q)).scalars())


async def anonymise_participations(session: AsyncSession, user_id: str) -> None:
    """Their rows in meetings others own stay (messages keep their sender) but point at nobody by name."""
    await session.execute(
        update(Participant)
        .where(Participant.user_id == user_id)
        .values(user_id=None, display_name=DELETED_USER)
        .execution_options(synchronize_session=False)
    )


async def delete_user(session: AsyncSession, user_id: str) -> bool:
    """The row goes; the database cascades to refresh tokens, owned meetings (and with them participants, chat,
    recordings, transcripts, events, their audit rows) and the account's own audit rows."""
    result = await session.execute(delete(User).where(User.id == user_id))
    return bool(getattr(result, "rowcount", 0))


async def expired_recordings(session: AsyncSession, now: datetime, default_days: int | None, limit: int) -> list[str]:
    """Ids of finished recordings (oldest first, at most ``limit``) that started longer ago than their meeting
    owner's retention, or the server default when the owner set none. Open recordings (capturing, paused,
    processing) are left alone: they are still being made."""
    days = (
        User.recording_retention_days
        if default_days is None
        else func.coalesce(User.recording_retention_days, default_days)
    )
    # One query per distinct retention in use (a handful), each with a plain timestamp bound: per-row interval
    # arithmetic is spelled differently on SQLite and PostgreSQL.
    values = sorted(v for v in (await session.execute(select(days).distinct().where(days.is_not(None)))).scalars() if v)
    out: list[str] = []
    for keep in values:
        q = (
            select(Recording.id)
            .join(Meeting, Meeting.id == Recording.meeting_id)
            .join(User, User.id == Meeting.host_user_id)
            .where(
                days == keep,
                Recording.started_at < now - timedelta(days=int(keep)),
                Recording.status.in_(FINISHED),
            )
            .order_by(Recording.started_at)
            .limit(limit - len(out))
        )
        out.extend((await session.execute(q)).scalars())
        if len(out) >= limit:
            break
    return out

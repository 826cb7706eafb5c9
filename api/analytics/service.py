"""Analytics of a meeting for its host and co-hosts (after the meeting: its owner). No Strawberry here.

Talk time comes from the edge's dominant-speaker reports, kept as turns (`speaker_turns`): a turn runs from
one report to the next, so talk time is "time as the dominant speaker", which is what a meeting's speaker
timeline shows. Everything else is counted from the tables the other domains keep.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select, update

from api.db import Tx
from api.errors import ForbiddenError
from api.meetings import service as meetings_service
from api.participants.permissions import HOSTS
from api.participants.service import meeting_end_hooks
from api.security import Principal
from api.services import Services
from dbschema.analytics import MeetingCounter, SpeakerTurn
from dbschema.chat import ChatMessage, ChatReaction
from dbschema.models import Attendance, Meeting, Participant, utcnow
from dbschema.polls import Poll, PollBallot
from dbschema.recordings import Recording

REACTIONS = "reactions"


@dataclass(slots=True)
class ParticipantStats:
    participant_id: str
    display_name: str
    talk_seconds: float = 0.0
    chat_messages: int = 0
    polls_voted: int = 0
    present_seconds: float = 0.0
    first_joined_at: datetime | None = None
    last_left_at: datetime | None = None


@dataclass(slots=True)
class PollStats:
    poll_id: str
    question: str
    voters: int
    eligible: int


@dataclass(slots=True)
class MeetingStats:
    meeting_id: str
    duration_seconds: float
    speaker_count: int
    chat_messages: int
    reactions: int
    participants: list[ParticipantStats]
    polls: list[PollStats]
    timeline: list[tuple[str, str, str, datetime]]
    """(participant id, display name, state, at) in order."""
    recordings: list[tuple[str, str, int]] = field(default_factory=list)
    """(recording id, title, views)."""


# -- writing: called by the domains that observe the facts -------------------------------------------------


async def speaker_changed(tx: Tx, meeting_id: str, participant_id: str | None) -> None:
    """Close the running turn and open one for ``participant_id`` (None: silence)."""
    now = utcnow()
    await tx.session.execute(
        update(SpeakerTurn)
        .where(SpeakerTurn.meeting_id == meeting_id, SpeakerTurn.ended_at.is_(None))
        .values(ended_at=now)
    )
    if participant_id is not None:
        tx.session.add(SpeakerTurn(meeting_id=meeting_id, participant_id=participant_id, started_at=now))


async def bump(tx: Tx, meeting_id: str, name: str) -> None:
    """Count one ``name`` for the meeting. Callers hold the meeting row lock, so read-then-write cannot race."""
    row = await tx.session.get(MeetingCounter, (meeting_id, name))
    if row is None:
        tx.session.add(MeetingCounter(meeting_id=meeting_id, name=name, value=1))
    else:
        row.value += 1


async def _end_turns(tx: Tx, m: Meeting, actor: Participant | None) -> None:
    await speaker_changed(tx, m.id, None)


meeting_end_hooks.append(_end_turns)


# -- reading ------------------------------------------------------------------------------------------------


async def meeting_stats(svc: Services, principal: Principal | None, meeting_id: str) -> MeetingStats:
    access = await meetings_service.access(svc, principal, meeting_id)
    if access.role not in HOSTS:
        raise ForbiddenError("only the host and co-hosts see a meeting's analytics")
    now = utcnow()
    async with svc.db.read() as s:
        m = access.meeting
        people = {
            p.id: ParticipantStats(p.id, p.display_name)
            for p in (await s.execute(select(Participant).where(Participant.meeting_id == meeting_id))).scalars()
        }
        for pid, start, end in await s.execute(
            select(SpeakerTurn.participant_id, SpeakerTurn.started_at, SpeakerTurn.ended_at).where(
                SpeakerTurn.meeting_id == meeting_id
            )
        ):
            if pid in people:
                people[pid].talk_seconds += max(0.0, ((end or now) - start).total_seconds())
        for pid, n in await s.execute(
            select(ChatMessage.sender_id, func.count())
            .where(ChatMessage.meeting_id == meeting_id, ChatMessage.deleted_at.is_(None))
            .group_by(ChatMessage.sender_id)
        ):
            if pid in people:
                people[pid].chat_messages = int(n)
        polls = list(
            (
                await s.execute(
                    select(Poll).where(Poll.meeting_id == meeting_id, Poll.status != "draft").order_by(Poll.created_at)
                )
            ).scalars()
        )
        voted: dict[str, int] = defaultdict(int)
        for pid, n in await s.execute(
            select(PollBallot.participant_id, func.count())
            .where(PollBallot.poll_id.in_([p.id for p in polls]))
            .group_by(PollBallot.participant_id)
        ):
            voted[pid] = int(n)
        timeline = []
        present_since: dict[str, datetime] = {}
        for pid, state, at in await s.execute(
            select(Attendance.participant_id, Attendance.state, Attendance.at)
            .where(Attendance.meeting_id == meeting_id)
            .order_by(Attendance.at, Attendance.id)
        ):
            if pid not in people:
                continue
            stats = people[pid]
            timeline.append((pid, stats.display_name, state, at))
            if state == "admitted":
                present_since.setdefault(pid, at)
                stats.first_joined_at = stats.first_joined_at or at
            elif pid in present_since:
                stats.present_seconds += (at - present_since.pop(pid)).total_seconds()
                stats.last_left_at = at
        for pid, since in present_since.items():
            people[pid].present_seconds += ((m.ended_at or now) - since).total_seconds()
        chat_reactions = await s.scalar(
            select(func.count())
            .select_from(ChatReaction)
            .join(ChatMessage, ChatMessage.id == ChatReaction.message_id)
            .where(ChatMessage.meeting_id == meeting_id)
        )
        sent = await s.get(MeetingCounter, (meeting_id, REACTIONS))
        recordings = [
            (r.id, r.title, r.views)
            for r in (
                await s.execute(
                    select(Recording).where(Recording.meeting_id == meeting_id).order_by(Recording.started_at)
                )
            ).scalars()
        ]
    admitted_ever = sum(1 for p in people.values() if p.first_joined_at is not None)
    for pid, n in voted.items():
        if pid in people:
            people[pid].polls_voted = n
    started = m.started_at
    duration = ((m.ended_at or now) - started).total_seconds() if started else 0.0
    return MeetingStats(
        meeting_id=meeting_id,
        duration_seconds=max(0.0, duration),
        speaker_count=sum(1 for p in people.values() if p.talk_seconds > 0),
        chat_messages=sum(p.chat_messages for p in people.values()),
        reactions=int(chat_reactions or 0) + (sent.value if sent else 0),
        participants=sorted(people.values(), key=lambda p: (-p.talk_seconds, p.display_name)),
        polls=[PollStats(p.id, p.question, p.voter_count, admitted_ever) for p in polls],
        timeline=timeline,
        recordings=recordings,
    )

"""The SQL of api/polls."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dbschema.models import Participant
from dbschema.polls import Poll, PollBallot, PollChoice, PollOption


async def meeting_of(session: AsyncSession, poll_id: str) -> str | None:
    """The poll's meeting, read as a plain value: the caller locks the meeting before loading the poll itself,
    so no stale ORM object is cached in the session first."""
    return (await session.execute(select(Poll.meeting_id).where(Poll.id == poll_id))).scalar_one_or_none()


async def by_id(session: AsyncSession, poll_id: str) -> Poll | None:
    return await session.get(Poll, poll_id)


async def in_meeting(session: AsyncSession, meeting_id: str, *, drafts: bool) -> list[Poll]:
    q = select(Poll).where(Poll.meeting_id == meeting_id)
    if not drafts:
        q = q.where(Poll.status != "draft")
    return list((await session.execute(q.order_by(Poll.created_at, Poll.id))).scalars())


async def options_of(session: AsyncSession, poll_ids: Sequence[str]) -> dict[str, list[PollOption]]:
    out: dict[str, list[PollOption]] = defaultdict(list)
    if poll_ids:
        rows = await session.execute(
            select(PollOption).where(PollOption.poll_id.in_(poll_ids)).order_by(PollOption.poll_id, PollOption.position)
        )
        for o in rows.scalars():
            out[o.poll_id].append(o)
    return out


def add_options(session: AsyncSession, poll: Poll, ids: Sequence[str], texts: Sequence[str]) -> list[PollOption]:
    options = [
        PollOption(id=i, poll_id=poll.id, position=n, text=t) for n, (i, t) in enumerate(zip(ids, texts, strict=True))
    ]
    session.add_all(options)
    return options


async def drop_options(session: AsyncSession, poll_id: str) -> None:
    await session.execute(delete(PollOption).where(PollOption.poll_id == poll_id))


async def delete_poll(session: AsyncSession, poll_id: str) -> None:
    # Only drafts are deleted, and a draft has neither ballots nor choices: its options are all there is.
    await drop_options(session, poll_id)
    await session.execute(delete(Poll).where(Poll.id == poll_id))


async def my_ballots(
    session: AsyncSession, poll_ids: Sequence[str], participant_id: str
) -> dict[str, tuple[PollBallot, list[str]]]:
    """The participant's ballots in these polls and, for named polls, the options each chose."""
    out: dict[str, tuple[PollBallot, list[str]]] = {}
    if not poll_ids:
        return out
    ballots = await session.execute(
        select(PollBallot).where(PollBallot.poll_id.in_(poll_ids), PollBallot.participant_id == participant_id)
    )
    for b in ballots.scalars():
        out[b.poll_id] = (b, [])
    if out:
        choices = await session.execute(
            select(PollChoice.poll_id, PollChoice.option_id)
            .join(PollOption, PollOption.id == PollChoice.option_id)
            .where(PollChoice.poll_id.in_(list(out)), PollChoice.participant_id == participant_id)
            .order_by(PollOption.position)
        )
        for poll_id, option_id in choices.all():
            out[poll_id][1].append(option_id)
    return out


async def has_ballot(session: AsyncSession, poll_id: str, participant_id: str) -> bool:
    found = await session.execute(
        select(PollBallot.poll_id).where(PollBallot.poll_id == poll_id, PollBallot.participant_id == participant_id)
    )
    return found.first() is not None


async def cast(
    session: AsyncSession, poll: Poll, participant_id: str, option_ids: Sequence[str], *, at: datetime | None
) -> int:
    """Record one ballot and count it; returns the poll's new number of voters. ``at`` None (anonymous polls)
    stores neither a time nor the choices: only the counters learn what was chosen."""
    session.add(PollBallot(poll_id=poll.id, participant_id=participant_id, cast_at=at))
    if at is not None:
        await session.flush()  # the choices refer to the ballot
        session.add_all(PollChoice(poll_id=poll.id, participant_id=participant_id, option_id=o) for o in option_ids)
    # Counted in SQL (votes = votes + 1), not read-modify-write in Python: correct even without the meeting lock.
    await session.execute(
        update(PollOption)
        .where(PollOption.poll_id == poll.id, PollOption.id.in_(option_ids))
        .values(votes=PollOption.votes + 1)
        .execution_options(synchronize_session=False)
    )
    voters = await session.execute(
        update(Poll)
        .where(Poll.id == poll.id)
        .values(voter_count=Poll.voter_count + 1)
        .returning(Poll.voter_count)
        .execution_options(synchronize_session=False)
    )
    return int(voters.scalar_one())


async def release(session: AsyncSession, poll_id: str) -> None:
    """Make the hosts' view of the counts catch up with every vote so far."""
    await session.execute(
        update(PollOption)
        .where(PollOption.poll_id == poll_id)
        .values(released_votes=PollOption.votes)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(Poll)
        .where(Poll.id == poll_id)
        .values(released_voter_count=Poll.voter_count)
        .execution_options(synchronize_session=False)
    )


async def refresh(session: AsyncSession, poll: Poll) -> list[PollOption]:
    """Reload the poll and its options after the counter UPDATEs above, which bypass the ORM objects."""
    await session.refresh(poll)
    rows = await session.execute(
        select(PollOption)
        .where(PollOption.poll_id == poll.id)
        .order_by(PollOption.position)
        .execution_options(populate_existing=True)
    )
    return list(rows.scalars())


async def named_ballots(
    session: AsyncSession, poll_ids: Sequence[str]
) -> dict[str, list[tuple[Participant, PollBallot, list[str]]]]:
    """Who chose what in these (named) polls, in the order they voted. Callers pass only non-anonymous polls;
    anonymous ones have no choices to find anyway."""
    out: dict[str, list[tuple[Participant, PollBallot, list[str]]]] = defaultdict(list)
    if not poll_ids:
        return out
    rows = await session.execute(
        select(PollBallot, Participant)
        .join(Participant, Participant.id == PollBallot.participant_id)
        .where(PollBallot.poll_id.in_(poll_ids))
        .order_by(PollBallot.poll_id, PollBallot.cast_at, PollBallot.participant_id)
    )
    index: dict[tuple[str, str], list[str]] = {}
    for ballot, participant in rows.all():
        chosen: list[str] = []
        index[(ballot.poll_id, ballot.participant_id)] = chosen
        out[ballot.poll_id].append((participant, ballot, chosen))
    choices = await session.execute(
        select(PollChoice.poll_id, PollChoice.participant_id, PollChoice.option_id)
        .join(PollOption, PollOption.id == PollChoice.option_id)
        .where(PollChoice.poll_id.in_(poll_ids))
        .order_by(PollOption.position)
    )
    for poll_id, participant_id, option_id in choices.all():
        index[(poll_id, participant_id)].append(option_id)
    return out

"""Snapshots of polls carried in events (JSON-able dicts). The GraphQL types are built from the same dicts, so
what a subscriber hears and what a fresh query returns cannot drift apart."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dbschema.polls import Poll, PollOption


def poll_snapshot(p: Poll, options: Sequence[PollOption]) -> dict[str, Any]:
    """What everyone who may see the poll may know: question, options, state. Never counts or voters."""
    return {
        "id": p.id,
        "meetingId": p.meeting_id,
        "question": p.question,
        "kind": p.kind,
        "anonymous": p.anonymous,
        "status": p.status,
        "resultsShared": p.results_shared,
        "options": [{"id": o.id, "text": o.text} for o in sorted(options, key=lambda o: o.position)],
        "createdAt": p.created_at.timestamp(),
        "launchedAt": p.launched_at.timestamp() if p.launched_at else None,
        "endedAt": p.ended_at.timestamp() if p.ended_at else None,
    }


def results_snapshot(p: Poll, options: Sequence[PollOption]) -> dict[str, Any]:
    """The counts as the hosts may see them now. While an anonymous poll is open that is the last released
    batch (see `service.ANONYMOUS_RELEASE_BATCH`); otherwise every vote."""
    held_back = p.anonymous and p.status == "launched"
    return {
        "pollId": p.id,
        "final": p.status == "ended",
        "voterCount": p.voter_count,
        "tallyVoterCount": p.released_voter_count if held_back else p.voter_count,
        "options": [
            {"optionId": o.id, "votes": o.released_votes if held_back else o.votes}
            for o in sorted(options, key=lambda o: o.position)
        ],
    }


def percent(votes: int, voters: int) -> float:
    """Share of the counted voters who chose an option, 0..100 with one decimal. On multiple-choice polls the
    shares add up to more than 100: each voter may pick several options."""
    return round(100.0 * votes / voters, 1) if voters else 0.0

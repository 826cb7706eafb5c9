"""GraphQL types of polls. `PollState` and `PollResults` are built from the same snapshots the events carry;
`Poll` adds what depends on who asks (results when allowed, your vote, who voted what)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.dataloader import DataLoader

from api.polls import service
from api.polls.views import percent
from api.services import Services


@strawberry.enum(description="SINGLE: exactly one option per vote; MULTIPLE: one or more distinct options.")
class PollKind(Enum):
    SINGLE = "single"
    MULTIPLE = "multiple"


@strawberry.enum(description="DRAFT (hosts only) → LAUNCHED (taking votes) → ENDED.")
class PollStatus(Enum):
    DRAFT = "draft"
    LAUNCHED = "launched"
    ENDED = "ended"


def _ts(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


@strawberry.type
class PollOption:
    id: strawberry.ID
    text: str


def _state_fields(d: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": strawberry.ID(d["id"]),
        "meeting_id": strawberry.ID(d["meetingId"]),
        "question": d["question"],
        "kind": PollKind(d["kind"]),
        "anonymous": d["anonymous"],
        "status": PollStatus(d["status"]),
        "results_shared": d["resultsShared"],
        "options": [PollOption(id=strawberry.ID(o["id"]), text=o["text"]) for o in d["options"]],
        "created_at": _ts(d["createdAt"]),
        "launched_at": _ts(d["launchedAt"]),
        "ended_at": _ts(d["endedAt"]),
    }


@strawberry.type(description="A poll's question, options and state, as carried by events (never counts).")
class PollState:
    id: strawberry.ID
    meeting_id: strawberry.ID
    question: str
    kind: PollKind
    anonymous: bool = strawberry.field(
        description="Nobody, hosts included, can learn who chose what; the voter's own myVote shows no options."
    )
    status: PollStatus
    results_shared: bool
    options: list[PollOption] = strawberry.field(description="In the order the host wrote them.")
    created_at: datetime
    launched_at: datetime | None
    ended_at: datetime | None

    @classmethod
    def from_snapshot(cls, d: dict[str, Any]) -> PollState:
        return cls(**_state_fields(d))


@strawberry.type
class PollOptionResult:
    option_id: strawberry.ID
    votes: int
    percent: float = strawberry.field(
        description="Share of tallyVoterCount who chose it, 0..100, one decimal. On MULTIPLE polls the shares "
        "add up to more than 100."
    )


@strawberry.type(description="Counts of a poll.")
class PollResults:
    poll_id: strawberry.ID
    final: bool = strawberry.field(description="True once the poll has ended.")
    voter_count: int = strawberry.field(description="How many people have voted.")
    tally_voter_count: int = strawberry.field(
        description="How many of those votes `options` counts: all of them, except while an anonymous poll is "
        "open, when hosts see the counts move only every few votes so that no single vote can be told apart."
    )
    options: list[PollOptionResult]

    @classmethod
    def from_snapshot(cls, d: dict[str, Any]) -> PollResults:
        voters = d["tallyVoterCount"]
        return cls(
            poll_id=strawberry.ID(d["pollId"]),
            final=d["final"],
            voter_count=d["voterCount"],
            tally_voter_count=voters,
            options=[
                PollOptionResult(
                    option_id=strawberry.ID(o["optionId"]), votes=o["votes"], percent=percent(o["votes"], voters)
                )
                for o in d["options"]
            ],
        )


@strawberry.type(description="Your own vote.")
class PollVote:
    option_ids: list[strawberry.ID] | None = strawberry.field(
        description="What you chose; null on anonymous polls, where the server keeps no link between you and it."
    )
    cast_at: datetime | None = strawberry.field(description="Null on anonymous polls (not stored either).")


@strawberry.type(description="Who chose what on a named (non-anonymous) poll.")
class PollBallot:
    participant_id: strawberry.ID
    display_name: str
    option_ids: list[strawberry.ID]
    cast_at: datetime | None


BallotLoader = DataLoader[str, list[PollBallot] | None]


def ballot_loader(svc: Services, views: Sequence[service.PollView]) -> BallotLoader:
    """One query for the ballots of every poll in a list, however many of them the client asks for."""
    by_id = {v.poll.id: v for v in views}

    async def load(ids: list[str]) -> list[list[PollBallot] | None]:
        found = await service.ballots(svc, [by_id[i] for i in ids])
        out: list[list[PollBallot] | None] = []
        for i in ids:
            rows = found[i]
            out.append(
                None
                if rows is None
                else [
                    PollBallot(
                        participant_id=strawberry.ID(b.participant_id),
                        display_name=b.display_name,
                        option_ids=[strawberry.ID(o) for o in b.option_ids],
                        cast_at=b.cast_at,
                    )
                    for b in rows
                ]
            )
        return out

    return DataLoader(load_fn=load)


@strawberry.type(description="A poll as you may see it.")
class Poll(PollState):
    view: strawberry.Private[service.PollView]
    loader: strawberry.Private[BallotLoader]

    @classmethod
    def from_view(cls, view: service.PollView, loader: BallotLoader) -> Poll:
        return cls(**_state_fields(view.snapshot()), view=view, loader=loader)

    @strawberry.field(
        description="Counts: hosts and co-hosts from launch (live), everyone else once the results are shared; "
        "null until then."
    )
    def results(self) -> PollResults | None:
        snapshot = self.view.results()
        return PollResults.from_snapshot(snapshot) if snapshot is not None else None

    @strawberry.field(description="Your vote; null if you have not voted.")
    def my_vote(self) -> PollVote | None:
        v = self.view.my_vote
        if v is None:
            return None
        ids = [strawberry.ID(o) for o in v.option_ids] if v.option_ids is not None else None
        return PollVote(option_ids=ids, cast_at=v.cast_at)

    @strawberry.field(
        description="Who voted for what, in the order they voted: host and co-hosts only (FORBIDDEN otherwise); "
        "null on anonymous polls, for which no such record exists."
    )
    async def ballots(self) -> list[PollBallot] | None:
        return await self.loader.load(self.view.poll.id)


@strawberry.input
class CreatePollInput:
    meeting_id: strawberry.ID
    question: str = strawberry.field(description="1..500 characters.")
    options: list[str] = strawberry.field(description="2..10 distinct options of 1..200 characters, one line each.")
    kind: PollKind = PollKind.SINGLE
    anonymous: bool = False


@strawberry.input(description="Changes to a draft; omitted fields stay as they are.")
class UpdatePollInput:
    question: str | None = None
    options: list[str] | None = strawberry.field(
        default=None, description="Replaces every option (options get new ids)."
    )
    kind: PollKind | None = None
    anonymous: bool | None = None

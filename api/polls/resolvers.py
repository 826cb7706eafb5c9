"""GraphQL entry points of api/polls. The schema merges every type listed in QUERIES / MUTATIONS / SUBSCRIPTIONS.
Poll events reach clients through `meetingEvents` (types in `api.polls.events`)."""

from __future__ import annotations

import strawberry

from api.graphql.context import ctx
from api.polls import events as _events  # registers PollEvent and PollResultsEvent with the event stream
from api.polls import service
from api.polls.types import CreatePollInput, Poll, PollKind, UpdatePollInput, ballot_loader

_ = _events


def _poll(info: strawberry.Info, view: service.PollView) -> Poll:
    return Poll.from_view(view, ballot_loader(ctx(info).services, [view]))


def _kind(kind: PollKind | None) -> service.PollKind | None:
    return service.PollKind(kind.value) if kind is not None else None


@strawberry.type
class PollQuery:
    @strawberry.field(
        description="The meeting's polls, oldest first: launched and ended ones for everyone who may read the "
        "meeting, drafts too for the host and co-hosts."
    )
    async def polls(self, info: strawberry.Info, meeting_id: strawberry.ID) -> list[Poll]:
        c = ctx(info)
        views = await service.list_polls(c.services, c.principal, meeting_id)
        loader = ballot_loader(c.services, views)
        return [Poll.from_view(v, loader) for v in views]

    @strawberry.field(description="One poll (drafts: host and co-hosts only).")
    async def poll(self, info: strawberry.Info, id: strawberry.ID) -> Poll:
        return _poll(info, await service.get(ctx(info).services, ctx(info).principal, id))


@strawberry.type
class PollMutation:
    @strawberry.mutation(description="Write a draft poll (host and co-hosts); only hosts see it until launched.")
    async def create_poll(self, info: strawberry.Info, input: CreatePollInput) -> Poll:
        draft = service.PollDraft(
            question=input.question, options=input.options, kind=_kind(input.kind), anonymous=input.anonymous
        )
        return _poll(info, await service.create(ctx(info).services, ctx(info).principal, input.meeting_id, draft))

    @strawberry.mutation(description="Change a draft (host and co-hosts).")
    async def update_poll(self, info: strawberry.Info, poll_id: strawberry.ID, input: UpdatePollInput) -> Poll:
        draft = service.PollDraft(
            question=input.question, options=input.options, kind=_kind(input.kind), anonymous=input.anonymous
        )
        return _poll(info, await service.update(ctx(info).services, ctx(info).principal, poll_id, draft))

    @strawberry.mutation(description="Delete a draft (host and co-hosts); returns its id.")
    async def delete_poll(self, info: strawberry.Info, poll_id: strawberry.ID) -> strawberry.ID:
        return strawberry.ID(await service.delete(ctx(info).services, ctx(info).principal, poll_id))

    @strawberry.mutation(description="Open a draft for votes and show it to everyone (meeting must be live).")
    async def launch_poll(self, info: strawberry.Info, poll_id: strawberry.ID) -> Poll:
        return _poll(info, await service.launch(ctx(info).services, ctx(info).principal, poll_id))

    @strawberry.mutation(
        description="Vote once (admitted participants): SINGLE polls take exactly one option, MULTIPLE polls one "
        "or more distinct ones. A second vote, or one after the end, is a CONFLICT."
    )
    async def vote_poll(self, info: strawberry.Info, poll_id: strawberry.ID, option_ids: list[strawberry.ID]) -> Poll:
        return _poll(info, await service.vote(ctx(info).services, ctx(info).principal, poll_id, option_ids))

    @strawberry.mutation(description="Close a poll to votes (host and co-hosts).")
    async def end_poll(self, info: strawberry.Info, poll_id: strawberry.ID) -> Poll:
        return _poll(info, await service.end(ctx(info).services, ctx(info).principal, poll_id))

    @strawberry.mutation(description="Show an ended poll's counts to everyone (host and co-hosts).")
    async def share_poll_results(self, info: strawberry.Info, poll_id: strawberry.ID) -> Poll:
        return _poll(info, await service.share_results(ctx(info).services, ctx(info).principal, poll_id))


QUERIES: tuple[type, ...] = (PollQuery,)
MUTATIONS: tuple[type, ...] = (PollMutation,)
SUBSCRIPTIONS: tuple[type, ...] = ()

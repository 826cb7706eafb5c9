"""Polls: hosts write drafts, launch them, end them and may share the results; admitted participants vote once.

Every write follows the participants pattern: lock the meeting and resolve who acts (`acting`) → check →
write → emit, the events published after commit. Who sees what:

- drafts: the host and co-hosts only (``POLL_CREATED`` has audience HOSTS);
- question and options: everyone, from launch (``POLL_LAUNCHED``, ``POLL_ENDED``);
- counts: the host and co-hosts live (``POLL_VOTES_UPDATED``, audience HOSTS), everyone once the results are
  shared (``POLL_RESULTS_SHARED``);
- who chose what: the host and co-hosts, and only on named (non-anonymous) polls.

Anonymous polls. Voting once needs a record of who voted; knowing what they chose must not. So a vote writes a
*ballot* (poll, participant: the primary key makes a second vote fail even when two requests race) and adds
one to each chosen option's counter; a named poll also writes *choices* (poll, participant, option), an
anonymous one never does. Nothing stored, logged or sent then links a participant to an option of an
anonymous poll: the ballot has no time, the vote's event names no actor, `Poll.ballots` is null, and the
voter's own `myVote` says only that they voted. What remains is timing: if hosts saw the counts move with
every vote they could tell what the person who just clicked chose. While an anonymous poll is open the hosts
therefore see the counts in batches of `ANONYMOUS_RELEASE_BATCH` ballots (the number of voters stays live);
the remainder is released when the poll ends. A tally can still give a choice away when everyone in a batch,
or in the whole poll, picked the same option; that is true of any published count. The guarantee is against
users of the API, hosts included, not against whoever operates the server and can change its code.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.exc import IntegrityError

from api import validation
from api.db import Tx
from api.errors import BadInputError, ConflictError, ForbiddenError, NotFoundError
from api.meetings import service as meetings_service
from api.participants.permissions import HOSTS, Role
from api.participants.service import Acting, acting, ensure_running, meeting_end_hooks
from api.polls import store
from api.polls.views import poll_snapshot, results_snapshot
from api.security import Principal
from api.services import Services
from dbschema.models import Meeting, Participant, utcnow
from dbschema.polls import Poll, PollOption
from protocol.events import Audience, EventType
from protocol.ids import new_id

QUESTION_MAX = 500
OPTION_MAX = 200
MIN_OPTIONS = 2
MAX_OPTIONS = 10
ANONYMOUS_RELEASE_BATCH = 5
"""While an anonymous poll is open, hosts see its counts move only every this many ballots (see above)."""


class PollKind(StrEnum):
    SINGLE = "single"
    MULTIPLE = "multiple"


class PollStatus(StrEnum):
    DRAFT = "draft"
    LAUNCHED = "launched"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class PollDraft:
    """What a host writes. On update, None leaves a value as it is; ``options`` replaces the whole list."""

    question: str | None = None
    options: list[str] | None = None
    kind: PollKind | None = None
    anonymous: bool | None = None


@dataclass(frozen=True, slots=True)
class Viewer:
    role: Role
    participant_id: str | None
    """None when the meeting's owner looks from outside the call (they cannot vote then)."""


@dataclass(frozen=True, slots=True)
class MyVote:
    option_ids: list[str] | None
    """None on anonymous polls: the server keeps no link between a voter and their choice."""
    cast_at: datetime | None


@dataclass(frozen=True, slots=True)
class Ballot:
    participant_id: str
    display_name: str
    option_ids: list[str]
    cast_at: datetime | None


@dataclass(slots=True)
class PollView:
    """One poll as one viewer may see it."""

    poll: Poll
    options: list[PollOption]
    viewer: Viewer
    my_vote: MyVote | None

    def snapshot(self) -> dict[str, Any]:
        return poll_snapshot(self.poll, self.options)

    def results(self) -> dict[str, Any] | None:
        """The counts, or None while this viewer may not see them."""
        if not results_visible(self.poll.status, self.poll.results_shared, self.viewer.role):
            return None
        return results_snapshot(self.poll, self.options)


# -- pure rules (unit-tested) ----------------------------------------------------------------------------


def clean_question(value: str) -> str:
    return validation.text("question", value, max_len=QUESTION_MAX)


def clean_options(values: Sequence[str]) -> list[str]:
    if not MIN_OPTIONS <= len(values) <= MAX_OPTIONS:
        raise BadInputError("options", f"options must have {MIN_OPTIONS}..{MAX_OPTIONS} entries (got {len(values)})")
    cleaned: list[str] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(values):
        field = f"options[{i}]"
        text = validation.text(field, raw, max_len=OPTION_MAX)
        if "\n" in text or "\t" in text:
            raise BadInputError(field, f"{field} must be a single line")
        # Options that differ only in case or spacing would split one answer's votes in two.
        key = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
        if key in seen:
            raise BadInputError(field, f"{field} repeats options[{seen[key]}] ({text!r})")
        seen[key] = i
        cleaned.append(text)
    return cleaned


def check_choice(kind: PollKind, option_ids: Sequence[str], valid_ids: Sequence[str]) -> list[str]:
    """The chosen options in the poll's order; BAD_INPUT (field optionIds) unless the choice fits the kind."""
    if not option_ids:
        raise BadInputError("optionIds", "choose at least one option (optionIds is empty)")
    if len(set(option_ids)) != len(option_ids):
        raise BadInputError("optionIds", "optionIds must not name an option twice")
    unknown = [o for o in option_ids if o not in valid_ids]
    if unknown:
        raise BadInputError("optionIds", f"optionIds: {unknown[0]!r} is not an option of this poll")
    if kind is PollKind.SINGLE and len(option_ids) != 1:
        raise BadInputError("optionIds", f"a single-choice poll takes exactly one option (got {len(option_ids)})")
    chosen = set(option_ids)
    return [o for o in valid_ids if o in chosen]


def results_visible(status: str, results_shared: bool, role: Role) -> bool:
    if status == PollStatus.DRAFT:
        return False
    return role in HOSTS or results_shared


def releases_now(voter_count: int) -> bool:
    """Whether an open anonymous poll's counts catch up for hosts after the ballot that made ``voter_count``."""
    return voter_count % ANONYMOUS_RELEASE_BATCH == 0


# -- helpers ---------------------------------------------------------------------------------------------


def _require_host(a: Acting, doing: str) -> None:
    if a.role not in HOSTS:
        raise ForbiddenError(f"a {a.role.value} may not {doing}; only the host and co-hosts may")


def _viewer(a: Acting) -> Viewer:
    return Viewer(a.role, a.participant.id if a.participant else None)


async def _load_for_write(
    tx: Tx, principal: Principal | None, poll_id: str, *, host_only: str | None
) -> tuple[Acting, Poll, list[PollOption]]:
    """Lock the poll's meeting, resolve who acts, then load the poll. With ``host_only`` (what they try to do)
    anyone but the host and co-hosts is refused before learning anything about the poll."""
    meeting_id = await store.meeting_of(tx.session, poll_id)
    if meeting_id is None:
        raise NotFoundError(f"poll {poll_id} does not exist")
    a = await acting(tx, meeting_id, principal)
    if host_only is not None:
        _require_host(a, host_only)
    poll = await store.by_id(tx.session, poll_id)
    # Drafts are the hosts' business: to everyone else they do not exist yet.
    if poll is None or (poll.status == PollStatus.DRAFT and a.role not in HOSTS):
        raise NotFoundError(f"poll {poll_id} does not exist")
    options = (await store.options_of(tx.session, [poll.id]))[poll.id]
    return a, poll, options


async def _emit_results(tx: Tx, poll: Poll, options: list[PollOption], actor_id: str | None) -> None:
    await tx.emit(
        poll.meeting_id,
        EventType.POLL_VOTES_UPDATED,
        audience=Audience.HOSTS,
        actor_id=actor_id,
        data={"results": results_snapshot(poll, options)},
    )


def _view(a: Acting, poll: Poll, options: list[PollOption], my_vote: MyVote | None = None) -> PollView:
    return PollView(poll, options, _viewer(a), my_vote)


# -- writes ------------------------------------------------------------------------------------------------


async def _announce_draft(tx: Tx, a: Acting, type: EventType, snapshot: dict[str, Any]) -> None:
    """Drafts are the hosts' business: created, edited and deleted drafts are announced to hosts only."""
    await tx.emit(
        a.meeting.id,
        type,
        audience=Audience.HOSTS,
        actor_id=a.participant.id if a.participant else None,
        data={"poll": snapshot},
    )


async def create(svc: Services, principal: Principal | None, meeting_id: str, draft: PollDraft) -> PollView:
    if draft.question is None or draft.options is None:
        raise BadInputError("question" if draft.question is None else "options", "a poll needs a question and options")
    question = clean_question(draft.question)
    texts = clean_options(draft.options)
    async with svc.db.write() as tx:
        a = await acting(tx, meeting_id, principal)
        _require_host(a, "create polls")
        ensure_running(a.meeting)
        now = utcnow()
        poll = Poll(
            id=new_id(),
            meeting_id=a.meeting.id,
            created_by=a.participant.id if a.participant else None,
            question=question,
            kind=(draft.kind or PollKind.SINGLE).value,
            anonymous=bool(draft.anonymous),
            status=PollStatus.DRAFT.value,
            results_shared=False,
            voter_count=0,
            released_voter_count=0,
            created_at=now,
            updated_at=now,
        )
        tx.session.add(poll)
        await tx.session.flush()  # the options refer to it
        options = store.add_options(tx.session, poll, [new_id() for _ in texts], texts)
        await _announce_draft(tx, a, EventType.POLL_CREATED, poll_snapshot(poll, options))
    return _view(a, poll, options)


async def update(svc: Services, principal: Principal | None, poll_id: str, draft: PollDraft) -> PollView:
    question = clean_question(draft.question) if draft.question is not None else None
    texts = clean_options(draft.options) if draft.options is not None else None
    async with svc.db.write() as tx:
        a, poll, options = await _load_for_write(tx, principal, poll_id, host_only="edit polls")
        ensure_running(a.meeting)
        if poll.status != PollStatus.DRAFT:
            raise ConflictError(f"poll {poll_id} is {poll.status}; only drafts can be edited")
        if question is not None:
            poll.question = question
        if draft.kind is not None:
            poll.kind = draft.kind.value
        if draft.anonymous is not None:
            poll.anonymous = draft.anonymous
        if texts is not None:
            # A draft has no votes, so its options can simply be replaced (with new ids).
            await store.drop_options(tx.session, poll.id)
            options = store.add_options(tx.session, poll, [new_id() for _ in texts], texts)
        poll.updated_at = utcnow()
        await _announce_draft(tx, a, EventType.POLL_UPDATED, poll_snapshot(poll, options))
    return _view(a, poll, options)


async def delete(svc: Services, principal: Principal | None, poll_id: str) -> str:
    async with svc.db.write() as tx:
        a, poll, options = await _load_for_write(tx, principal, poll_id, host_only="delete polls")
        if poll.status != PollStatus.DRAFT:
            raise ConflictError(f"poll {poll_id} is {poll.status}; only drafts can be deleted")
        snapshot = poll_snapshot(poll, options)
        await store.delete_poll(tx.session, poll.id)
        await _announce_draft(tx, a, EventType.POLL_DELETED, snapshot)
    return poll_id


async def launch(svc: Services, principal: Principal | None, poll_id: str) -> PollView:
    async with svc.db.write() as tx:
        a, poll, options = await _load_for_write(tx, principal, poll_id, host_only="launch polls")
        ensure_running(a.meeting)
        if a.meeting.status != "live":
            raise ConflictError("the meeting has not started; launch the poll once it is live")
        if poll.status != PollStatus.DRAFT:
            raise ConflictError(f"poll {poll_id} is {poll.status} already")
        poll.status = PollStatus.LAUNCHED.value
        poll.launched_at = utcnow()
        await tx.emit(
            poll.meeting_id,
            EventType.POLL_LAUNCHED,
            actor_id=a.participant.id if a.participant else None,
            data={"poll": poll_snapshot(poll, options)},
        )
    return _view(a, poll, options)


async def vote(svc: Services, principal: Principal | None, poll_id: str, option_ids: Sequence[str]) -> PollView:
    try:
        async with svc.db.write() as tx:
            a, poll, options = await _load_for_write(tx, principal, poll_id, host_only=None)
            voter = a.participant
            if voter is None or voter.state != "admitted":
                raise ForbiddenError("join the meeting to vote")
            if poll.status == PollStatus.DRAFT:
                raise ConflictError(f"poll {poll_id} has not been launched yet")
            if poll.status == PollStatus.ENDED:
                raise ConflictError(f"poll {poll_id} has ended; it takes no more votes")
            chosen = check_choice(PollKind(poll.kind), option_ids, [o.id for o in options])
            if await store.has_ballot(tx.session, poll.id, voter.id):
                raise ConflictError("you have voted in this poll already")
            # Anonymous ballots get no time: with one, ballots could be lined up with the counts' history.
            cast_at = None if poll.anonymous else utcnow()
            voters = await store.cast(tx.session, poll, voter.id, chosen, at=cast_at)
            if poll.anonymous and releases_now(voters):
                await store.release(tx.session, poll.id)
            options = await store.refresh(tx.session, poll)
            # Anonymous: no actor, so not even the event log says whose vote moved the counts.
            await _emit_results(tx, poll, options, None if poll.anonymous else voter.id)
    except IntegrityError as exc:  # the same person's other request got its ballot in first
        raise ConflictError("you have voted in this poll already") from exc
    return _view(a, poll, options, MyVote(None if poll.anonymous else chosen, cast_at))


async def end(svc: Services, principal: Principal | None, poll_id: str) -> PollView:
    async with svc.db.write() as tx:
        a, poll, options = await _load_for_write(tx, principal, poll_id, host_only="end polls")
        if poll.status != PollStatus.LAUNCHED:
            raise ConflictError(
                f"poll {poll_id} has ended already"
                if poll.status == PollStatus.ENDED
                else f"poll {poll_id} was never launched"
            )
        options = await _close(tx, poll, a.participant.id if a.participant else None)
    return _view(a, poll, options)


async def _close(tx: Tx, poll: Poll, actor: str | None) -> list[PollOption]:
    poll.status = PollStatus.ENDED.value
    poll.ended_at = utcnow()
    await store.release(tx.session, poll.id)
    options = await store.refresh(tx.session, poll)
    await tx.emit(poll.meeting_id, EventType.POLL_ENDED, actor_id=actor, data={"poll": poll_snapshot(poll, options)})
    # Hosts always get the final counts as an event (an anonymous poll may have held some back until now).
    await _emit_results(tx, poll, options, None)
    return options


async def _end_open_polls(tx: Tx, meeting: Meeting, actor: Participant | None) -> None:
    """When the meeting ends, its launched polls end with it (a series' next occurrence starts clean)."""
    for poll in await store.in_meeting(tx.session, meeting.id, drafts=False):
        if poll.status == PollStatus.LAUNCHED:
            await _close(tx, poll, actor.id if actor else None)


meeting_end_hooks.append(_end_open_polls)


async def share_results(svc: Services, principal: Principal | None, poll_id: str) -> PollView:
    async with svc.db.write() as tx:
        a, poll, options = await _load_for_write(tx, principal, poll_id, host_only="share poll results")
        if poll.status != PollStatus.ENDED:
            raise ConflictError(f"poll {poll_id} is {poll.status}; end it before sharing its results")
        if poll.results_shared:
            raise ConflictError(f"the results of poll {poll_id} are shared already")
        poll.results_shared = True
        poll.shared_at = utcnow()
        await tx.emit(
            poll.meeting_id,
            EventType.POLL_RESULTS_SHARED,
            actor_id=a.participant.id if a.participant else None,
            data={"results": results_snapshot(poll, options)},
        )
    return _view(a, poll, options)


# -- reads ---------------------------------------------------------------------------------------------------


async def _reader(svc: Services, principal: Principal | None, meeting_id: str) -> Viewer:
    """Anyone who may read the meeting may read its polls (admitted now or before, or its owner)."""
    access = await meetings_service.access(svc, principal, meeting_id)
    if access.role is None:
        raise ForbiddenError("you are not a participant of this meeting")
    return Viewer(access.role, access.participant_id)


async def _views(svc: Services, viewer: Viewer, polls: list[Poll]) -> list[PollView]:
    ids = [p.id for p in polls]
    async with svc.db.read() as session:
        options = await store.options_of(session, ids)
        mine = await store.my_ballots(session, ids, viewer.participant_id) if viewer.participant_id else {}
    views = []
    for p in polls:
        my_vote = None
        if p.id in mine:
            ballot, chosen = mine[p.id]
            my_vote = MyVote(None, None) if p.anonymous else MyVote(chosen, ballot.cast_at)
        views.append(PollView(p, options[p.id], viewer, my_vote))
    return views


async def list_polls(svc: Services, principal: Principal | None, meeting_id: str) -> list[PollView]:
    viewer = await _reader(svc, principal, meeting_id)
    async with svc.db.read() as session:
        polls = await store.in_meeting(session, meeting_id, drafts=viewer.role in HOSTS)
    return await _views(svc, viewer, polls)


async def get(svc: Services, principal: Principal | None, poll_id: str) -> PollView:
    async with svc.db.read() as session:
        poll = await store.by_id(session, poll_id)
    if poll is None:
        raise NotFoundError(f"poll {poll_id} does not exist")
    viewer = await _reader(svc, principal, poll.meeting_id)
    if poll.status == PollStatus.DRAFT and viewer.role not in HOSTS:
        raise NotFoundError(f"poll {poll_id} does not exist")
    return (await _views(svc, viewer, [poll]))[0]


async def ballots(svc: Services, views: Sequence[PollView]) -> dict[str, list[Ballot] | None]:
    """Who chose what, per poll: hosts and co-hosts only; None for anonymous polls, which keep no such record."""
    for v in views:
        if v.viewer.role not in HOSTS:
            raise ForbiddenError("only the host and co-hosts see who voted for what")
    named = [v.poll.id for v in views if not v.poll.anonymous]
    async with svc.db.read() as session:
        found = await store.named_ballots(session, named)
    return {
        v.poll.id: None
        if v.poll.anonymous
        else [Ballot(p.id, p.display_name, chosen, b.cast_at) for p, b, chosen in found.get(v.poll.id, [])]
        for v in views
    }

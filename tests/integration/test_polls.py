"""Polls through the public API on a real server (SQLite and PostgreSQL): the lifecycle over subscriptions, who
sees counts when, voting once under races, single vs multiple choice, anonymity, permissions and input errors."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sqlalchemy import func, select

from dbschema.models import MeetingEventRow
from dbschema.polls import PollBallot, PollChoice
from tests.conftest import RunningServer
from tests.support.gql import Subscription
from tests.support.world import Person, World

POLL_FIELDS = "id question kind anonymous status resultsShared options { id text }"
RESULTS_FIELDS = "pollId final voterCount tallyVoterCount options { optionId votes percent }"
CREATE = f"mutation($i: CreatePollInput!) {{ createPoll(input: $i) {{ {POLL_FIELDS} }} }}"
UPDATE = f"mutation($p: ID!, $i: UpdatePollInput!) {{ updatePoll(pollId: $p, input: $i) {{ {POLL_FIELDS} }} }}"
DELETE = "mutation($p: ID!) { deletePoll(pollId: $p) }"
LAUNCH = f"mutation($p: ID!) {{ launchPoll(pollId: $p) {{ {POLL_FIELDS} }} }}"
VOTE = """mutation($p: ID!, $o: [ID!]!) { votePoll(pollId: $p, optionIds: $o) {
  id myVote { optionIds castAt } results { voterCount } } }"""
END = f"mutation($p: ID!) {{ endPoll(pollId: $p) {{ {POLL_FIELDS} results {{ {RESULTS_FIELDS} }} }} }}"
SHARE = f"mutation($p: ID!) {{ sharePollResults(pollId: $p) {{ {POLL_FIELDS} }} }}"
POLLS = f"""query($m: ID!) {{ polls(meetingId: $m) {{ {POLL_FIELDS}
  results {{ {RESULTS_FIELDS} }} myVote {{ optionIds castAt }} }} }}"""
ONE = "query($p: ID!) { poll(id: $p) { id status } }"
BALLOTS = "query($p: ID!) { poll(id: $p) { ballots { participantId displayName optionIds castAt } } }"
EVENTS = f"""subscription($m: ID!, $after: Int) {{ meetingEvents(meetingId: $m, afterSeq: $after) {{
  __typename seq type actorId
  ... on PollEvent {{ poll {{ {POLL_FIELDS} }} }}
  ... on PollResultsEvent {{ results {{ {RESULTS_FIELDS} }} }}
}} }}"""
SEQ = "query($m: ID!) { meeting(id: $m) { eventSeq } }"
MAKE_COHOST = "mutation($p: ID!) { makeCohost(participantId: $p) { id } }"


# -- helpers ------------------------------------------------------------------------------------------------


async def live_meeting(world: World, **settings: Any) -> tuple[Person, dict[str, Any]]:
    host = await world.user("Host")
    m = await world.meeting(host, **settings)
    await world.join(host, m)
    return host, m


async def guests(world: World, m: dict[str, Any], n: int) -> list[Person]:
    return [(await world.join(None, m, name=f"Voter {i}"))[0] for i in range(n)]


async def create(host: Person, m: dict[str, Any], *options: str, **extra: Any) -> dict[str, Any]:
    i = {"meetingId": m["id"], "question": "Which one?", "options": list(options or ("Red", "Green", "Blue")), **extra}
    poll: dict[str, Any] = (await host.client(CREATE, i=i))["createPoll"]
    return poll


async def launched(host: Person, m: dict[str, Any], *options: str, **extra: Any) -> dict[str, Any]:
    poll = await create(host, m, *options, **extra)
    return dict((await host.client(LAUNCH, p=poll["id"]))["launchPoll"])


async def vote(who: Person, poll: dict[str, Any], *picks: int) -> dict[str, Any]:
    result: dict[str, Any] = (await who.client(VOTE, p=poll["id"], o=[poll["options"][i]["id"] for i in picks]))[
        "votePoll"
    ]
    return result


async def seq(who: Person, m: dict[str, Any]) -> int:
    value: int = (await who.client(SEQ, m=m["id"]))["meeting"]["eventSeq"]
    return value


def ev(item: dict[str, Any]) -> dict[str, Any]:
    e: dict[str, Any] = item["meetingEvents"]
    return e


async def until(sub: Subscription, type: str) -> list[dict[str, Any]]:
    return [ev(i) for i in await sub.collect_until(lambda i: ev(i)["type"] == type)]


def counts(results: dict[str, Any]) -> list[int]:
    return [o["votes"] for o in results["options"]]


def listed(data: dict[str, Any], poll_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(p for p in data["polls"] if p["id"] == poll_id)
    return found


# -- tests --------------------------------------------------------------------------------------------------


async def test_lifecycle_over_subscriptions_and_who_sees_counts(world: World) -> None:
    host, m = await live_meeting(world)
    co, _ = await world.join(await world.user("Co"), m)
    await host.client(MAKE_COHOST, p=co.participant_id)
    alice, _ = await world.join(await world.user("Alice"), m)
    guest, _ = await world.join(None, m, name="Gus")
    now = await seq(host, m)
    async with (
        host.client.subscribe(EVENTS, m=m["id"], after=now) as hs,
        co.client.subscribe(EVENTS, m=m["id"], after=now) as cs,
        alice.client.subscribe(EVENTS, m=m["id"], after=now) as ps,
        guest.client.subscribe(EVENTS, m=m["id"], after=now) as gs,
    ):
        poll = await create(host, m, "Tea", "Coffee", "Water", question="Drink?")
        assert (poll["status"], poll["kind"], poll["anonymous"]) == ("DRAFT", "SINGLE", False)
        # Participants do not see drafts.
        assert (await alice.client(POLLS, m=m["id"]))["polls"] == []
        assert (await alice.client.error(ONE, p=poll["id"])).code == "NOT_FOUND"

        await host.client(LAUNCH, p=poll["id"])
        mine = await vote(alice, poll, 0)
        assert mine["myVote"]["optionIds"] == [poll["options"][0]["id"]] and mine["myVote"]["castAt"]
        assert mine["results"] is None  # participants see no counts before they are shared
        await vote(guest, poll, 1)
        await vote(co, poll, 0)

        seen = listed(await alice.client(POLLS, m=m["id"]), poll["id"])
        assert seen["status"] == "LAUNCHED" and seen["results"] is None
        assert seen["myVote"]["optionIds"] == [poll["options"][0]["id"]]
        live = listed(await co.client(POLLS, m=m["id"]), poll["id"])["results"]
        assert (live["voterCount"], counts(live), live["final"]) == (3, [2, 1, 0], False)

        ended = (await host.client(END, p=poll["id"]))["endPoll"]
        assert ended["status"] == "ENDED"
        assert listed(await alice.client(POLLS, m=m["id"]), poll["id"])["results"] is None
        await host.client(SHARE, p=poll["id"])

        host_events = await until(hs, "POLL_RESULTS_SHARED")
        co_events = await until(cs, "POLL_RESULTS_SHARED")
        alice_events = await until(ps, "POLL_RESULTS_SHARED")
        guest_events = await until(gs, "POLL_RESULTS_SHARED")

    everyone = ["POLL_LAUNCHED", "POLL_ENDED", "POLL_RESULTS_SHARED"]
    assert [e["type"] for e in alice_events] == everyone
    assert [e["type"] for e in guest_events] == everyone
    staff = [
        "POLL_CREATED",
        "POLL_LAUNCHED",
        "POLL_VOTES_UPDATED",
        "POLL_VOTES_UPDATED",
        "POLL_VOTES_UPDATED",
        "POLL_ENDED",
        "POLL_VOTES_UPDATED",
        "POLL_RESULTS_SHARED",
    ]
    assert [e["type"] for e in host_events] == staff
    assert [e["seq"] for e in co_events] == [e["seq"] for e in host_events]

    launch_event = alice_events[0]
    assert launch_event["__typename"] == "PollEvent"
    assert launch_event["poll"]["question"] == "Drink?"
    assert [o["text"] for o in launch_event["poll"]["options"]] == ["Tea", "Coffee", "Water"]
    live_counts = [counts(e["results"]) for e in host_events if e["type"] == "POLL_VOTES_UPDATED"]
    assert live_counts == [[1, 0, 0], [1, 1, 0], [2, 1, 0], [2, 1, 0]]
    # A named poll: hosts may know who moved the counts.
    voters = [e["actorId"] for e in host_events if e["type"] == "POLL_VOTES_UPDATED"][:3]
    assert voters == [alice.participant_id, guest.participant_id, co.participant_id]

    shared = alice_events[-1]["results"]
    assert shared["final"] is True and shared["voterCount"] == 3
    assert [(o["votes"], o["percent"]) for o in shared["options"]] == [(2, 66.7), (1, 33.3), (0, 0.0)]

    # zulip's verify_action: what the events said equals a fresh fetch, for hosts and participants alike.
    fresh_host = listed(await host.client(POLLS, m=m["id"]), poll["id"])
    assert fresh_host["results"] == host_events[-1]["results"]
    assert {k: v for k, v in fresh_host.items() if k in host_events[-3]["poll"]} == host_events[-3]["poll"] | {
        "resultsShared": True
    }
    fresh_alice = listed(await alice.client(POLLS, m=m["id"]), poll["id"])
    assert fresh_alice["results"] == shared and fresh_alice["resultsShared"] is True


async def test_vote_once_even_when_requests_race(world: World) -> None:
    host, m = await live_meeting(world)
    people = await guests(world, m, 4)
    poll = await launched(host, m)
    outcomes = await asyncio.gather(
        *(p.client.raw(VOTE, p=poll["id"], o=[poll["options"][n % 3]["id"]]) for p in people for n in range(2)),
    )
    for pair in zip(outcomes[::2], outcomes[1::2], strict=True):
        codes = sorted(str(o["errors"][0]["extensions"]["code"]) if o.get("errors") else "OK" for o in pair)
        assert codes == ["CONFLICT", "OK"], pair
    results = (await host.client(END, p=poll["id"]))["endPoll"]["results"]
    assert results["voterCount"] == 4 and sum(counts(results)) == 4

    # Once more, one after the other, and after the end.
    err = await people[0].client.error(VOTE, p=poll["id"], o=[poll["options"][0]["id"]])
    assert err.code == "CONFLICT"
    late, _ = await world.join(None, m, name="Late")
    err = await late.client.error(VOTE, p=poll["id"], o=[poll["options"][0]["id"]])
    assert err.code == "CONFLICT" and "ended" in str(err)


async def test_single_and_multiple_choice_rules(world: World) -> None:
    host, m = await live_meeting(world)
    a, b = await guests(world, m, 2)
    single = await launched(host, m, "One", "Two", "Three")
    multi = await launched(host, m, "One", "Two", "Three", kind="MULTIPLE")
    ids = [o["id"] for o in single["options"]]
    other = multi["options"][0]["id"]
    for poll_id, choice, why in [
        (single["id"], ids[:2], "exactly one"),
        (single["id"], [], "at least one"),
        (single["id"], [other], "not an option"),
        (multi["id"], [], "at least one"),
        (multi["id"], [other, other], "twice"),
        (multi["id"], [ids[0]], "not an option"),
    ]:
        err = await a.client.error(VOTE, p=poll_id, o=choice)
        assert (err.code, err.field) == ("BAD_INPUT", "optionIds"), choice
        assert why in str(err)
    # Refused votes leave no ballot behind.
    await vote(a, single, 2)
    got = await vote(a, multi, 2, 0)
    assert got["myVote"]["optionIds"] == [multi["options"][0]["id"], multi["options"][2]["id"]]  # the poll's order
    await vote(b, multi, 0, 1, 2)
    single_results = (await host.client(END, p=single["id"]))["endPoll"]["results"]
    multi_results = (await host.client(END, p=multi["id"]))["endPoll"]["results"]
    assert counts(single_results) == [0, 0, 1]
    assert counts(multi_results) == [2, 1, 2] and multi_results["voterCount"] == 2
    assert [o["percent"] for o in multi_results["options"]] == [100.0, 50.0, 100.0]


async def test_anonymous_polls_reveal_no_voter_to_anyone(world: World, server: RunningServer) -> None:
    host, m = await live_meeting(world)
    co, _ = await world.join(await world.user("Co"), m)
    await host.client(MAKE_COHOST, p=co.participant_id)
    people = await guests(world, m, 5)
    start = await seq(host, m)
    async with host.client.subscribe(EVENTS, m=m["id"], after=start) as hs:
        poll = await launched(host, m, anonymous=True, kind="MULTIPLE")
        picks = [(0,), (1,), (0, 2), (0,), (1,), (2,)]  # people[0..4], then the co-host
        for who, pick in zip([*people, co], picks, strict=True):
            mine = await vote(who, poll, *pick)
            assert mine["myVote"] == {"optionIds": None, "castAt": None}
        await host.client(END, p=poll["id"])
        events = await until(hs, "POLL_ENDED")
        events.append(ev(await hs.next() or {}))  # the final counts follow the end

    updates = [e for e in events if e["type"] == "POLL_VOTES_UPDATED"]
    assert all(e["actorId"] is None for e in updates)
    # Counts move for hosts only every 5 ballots while the poll is open; the number of voters is live.
    assert [e["results"]["voterCount"] for e in updates] == [1, 2, 3, 4, 5, 6, 6]
    assert [e["results"]["tallyVoterCount"] for e in updates] == [0, 0, 0, 0, 5, 5, 6]
    assert [counts(e["results"]) for e in updates] == [[0, 0, 0]] * 4 + [[3, 2, 1], [3, 2, 1], [3, 2, 2]]
    assert updates[-1]["results"]["final"] is True

    # The API: no ballots for hosts, no options in anyone's own vote, counts only.
    assert (await host.client(BALLOTS, p=poll["id"]))["poll"]["ballots"] is None
    assert (await co.client(BALLOTS, p=poll["id"]))["poll"]["ballots"] is None
    for who in (people[0], co):
        assert listed(await who.client(POLLS, m=m["id"]), poll["id"])["myVote"] == {"optionIds": None, "castAt": None}
    # Resuming the stream from the log tells no more than the live stream did.
    async with co.client.subscribe(EVENTS, m=m["id"], after=start) as replay:
        again = await until(replay, "POLL_ENDED")
    assert all(e["actorId"] is None for e in again if e["type"] == "POLL_VOTES_UPDATED")

    # And underneath: no stored row ties a participant to an option or to a moment.
    async with server.app.state.services.db.read() as session:
        choices = await session.scalar(
            select(func.count()).select_from(PollChoice).where(PollChoice.poll_id == poll["id"])
        )
        ballots = (await session.execute(select(PollBallot).where(PollBallot.poll_id == poll["id"]))).scalars().all()
        bodies = (
            (await session.execute(select(MeetingEventRow.body).where(MeetingEventRow.meeting_id == m["id"])))
            .scalars()
            .all()
        )
    assert choices == 0
    assert len(ballots) == 6 and all(b.cast_at is None for b in ballots)
    voter_ids = {str(p.participant_id) for p in [*people, co]}
    for body in bodies:
        if body["type"] == "POLL_VOTES_UPDATED":
            assert body["actor_id"] is None and body["subject_id"] is None
            assert not any(pid in json.dumps(body) for pid in voter_ids)


async def test_named_polls_show_hosts_who_voted_what(world: World) -> None:
    host, m = await live_meeting(world)
    alice, bob = await guests(world, m, 2)
    poll = await launched(host, m, kind="MULTIPLE")
    await vote(alice, poll, 2)
    await vote(bob, poll, 0, 1)
    ballots = (await host.client(BALLOTS, p=poll["id"]))["poll"]["ballots"]
    opt = [o["id"] for o in poll["options"]]
    assert [(b["participantId"], b["displayName"], b["optionIds"]) for b in ballots] == [
        (alice.participant_id, "Voter 0", [opt[2]]),
        (bob.participant_id, "Voter 1", [opt[0], opt[1]]),
    ]
    assert all(b["castAt"] for b in ballots)
    # Participants see no one's choices, not even after the results are shared.
    await host.client(END, p=poll["id"])
    await host.client(SHARE, p=poll["id"])
    assert (await alice.client.error(BALLOTS, p=poll["id"])).code == "FORBIDDEN"
    polls_with_ballots = "query($m: ID!) { polls(meetingId: $m) { id ballots { participantId } } }"
    assert (await bob.client.error(polls_with_ballots, m=m["id"])).code == "FORBIDDEN"


async def test_only_hosts_and_cohosts_manage_polls(world: World) -> None:
    host, m = await live_meeting(world, waitingRoom=True)
    co, _ = await world.join(await world.user("Co"), m)
    await host.client("mutation($p: ID!) { admitParticipant(participantId: $p) { id } }", p=co.participant_id)
    await host.client(MAKE_COHOST, p=co.participant_id)
    member, _ = await world.join(await world.user("Member"), m)
    guest, _ = await world.join(None, m)
    for p in (member, guest):
        await host.client("mutation($p: ID!) { admitParticipant(participantId: $p) { id } }", p=p.participant_id)
    waiting, _ = await world.join(None, m)
    stranger = await world.user("Stranger")

    draft = await create(co, m)  # co-hosts may
    running = await launched(host, m)
    ended = await launched(co, m)
    await co.client(END, p=ended["id"])
    before = await seq(host, m)

    attempts: list[tuple[str, dict[str, Any]]] = [
        (CREATE, {"i": {"meetingId": m["id"], "question": "Mine?", "options": ["a", "b"]}}),
        (UPDATE, {"p": draft["id"], "i": {"question": "Changed?"}}),
        (DELETE, {"p": draft["id"]}),
        (LAUNCH, {"p": draft["id"]}),
        (END, {"p": running["id"]}),
        (SHARE, {"p": ended["id"]}),
    ]
    for who in (member, guest, waiting, stranger):
        for op, variables in attempts:
            err = await who.client.error(op, **variables)
            assert err.code == "FORBIDDEN", (who.name, op, err)
    for op, variables in attempts:
        assert (await world.anon.error(op, **variables)).code == "UNAUTHENTICATED"
    # Nobody who cannot vote gets to: waiting, outside, anonymous.
    for client in (waiting.client, stranger.client):
        err = await client.error(VOTE, p=running["id"], o=[running["options"][0]["id"]])
        assert err.code == "FORBIDDEN"
    # Refusals change nothing (not even the event sequence).
    assert await seq(host, m) == before
    listing = await member.client(POLLS, m=m["id"])
    assert [p["id"] for p in listing["polls"]] == [running["id"], ended["id"]]
    assert (await stranger.client.error(POLLS, m=m["id"])).code == "FORBIDDEN"


async def test_bad_input_names_the_field(world: World) -> None:
    host, m = await live_meeting(world)
    base = {"meetingId": m["id"], "question": "Fine?", "options": ["Yes", "No"]}
    cases: list[tuple[dict[str, Any], str]] = [
        ({"question": "   "}, "question"),
        ({"question": "x" * 501}, "question"),
        ({"question": "bad\x07bell"}, "question"),
        ({"options": ["Only"]}, "options"),
        ({"options": [f"o{i}" for i in range(11)]}, "options"),
        ({"options": ["Yes", "y" * 201]}, "options[1]"),
        ({"options": ["", "No"]}, "options[0]"),
        ({"options": ["Yes", "No", " yes "]}, "options[2]"),
        ({"options": ["Yes", "two\nlines"]}, "options[1]"),
    ]
    for change, field in cases:
        err = await host.client.error(CREATE, i=base | change)
        assert (err.code, err.field) == ("BAD_INPUT", field), (change, err)
    ok = await host.client(CREATE, i=base | {"question": "x" * 500, "options": [f"o{i}" for i in range(10)]})
    assert len(ok["createPoll"]["options"]) == 10
    err = await host.client.error(UPDATE, p=ok["createPoll"]["id"], i={"options": ["same", "Same"]})
    assert (err.code, err.field) == ("BAD_INPUT", "options[1]")
    assert (await host.client.error(CREATE, i=base | {"meetingId": "nope"})).code == "NOT_FOUND"
    assert (await host.client.error(LAUNCH, p="nope")).code == "NOT_FOUND"
    assert (await host.client.error(ONE, p="nope")).code == "NOT_FOUND"


async def test_drafts_edit_and_delete_and_state_conflicts(world: World) -> None:
    host = await world.user("Host")
    m = await world.meeting(host)
    draft = await create(host, m, "A", "B")  # a host prepares polls before the meeting starts
    assert (await host.client.error(LAUNCH, p=draft["id"])).code == "CONFLICT"  # not live yet
    await world.join(host, m)

    edited = (
        await host.client(
            UPDATE, p=draft["id"], i={"question": "Edited?", "options": ["C", "D", "E"], "kind": "MULTIPLE"}
        )
    )["updatePoll"]
    assert (edited["question"], edited["kind"], [o["text"] for o in edited["options"]]) == (
        "Edited?",
        "MULTIPLE",
        ["C", "D", "E"],
    )
    assert (await host.client(UPDATE, p=draft["id"], i={"anonymous": True}))["updatePoll"]["anonymous"] is True
    doomed = await create(host, m)
    assert (await host.client(DELETE, p=doomed["id"]))["deletePoll"] == doomed["id"]
    assert (await host.client.error(ONE, p=doomed["id"])).code == "NOT_FOUND"

    poll = (await host.client(LAUNCH, p=draft["id"]))["launchPoll"]
    for op, variables in [
        (LAUNCH, {"p": poll["id"]}),
        (UPDATE, {"p": poll["id"], "i": {"question": "Too late?"}}),
        (DELETE, {"p": poll["id"]}),
        (SHARE, {"p": poll["id"]}),
    ]:
        assert (await host.client.error(op, **variables)).code == "CONFLICT", op
    await host.client(END, p=poll["id"])
    assert (await host.client.error(END, p=poll["id"])).code == "CONFLICT"
    await host.client(SHARE, p=poll["id"])
    assert (await host.client.error(SHARE, p=poll["id"])).code == "CONFLICT"
    other = await create(host, m)
    assert (await host.client.error(END, p=other["id"])).code == "CONFLICT"  # never launched
    listing = (await host.client(POLLS, m=m["id"]))["polls"]
    assert [(p["id"], p["status"], p["resultsShared"]) for p in listing] == [
        (poll["id"], "ENDED", True),
        (other["id"], "DRAFT", False),
    ]


async def test_draft_edits_and_deletions_are_announced_to_hosts_only(world: World) -> None:
    host, m = await live_meeting(world)
    (alice,) = await guests(world, m, 1)
    start = (await host.client(SEQ, m=m["id"]))["meeting"]["eventSeq"]
    async with (
        host.client.subscribe(EVENTS, m=m["id"], after=start) as hs,
        alice.client.subscribe(EVENTS, m=m["id"], after=start) as gs,
    ):
        draft = await create(host, m, "A", "B")
        await host.client(UPDATE, p=draft["id"], i={"question": "Renamed?"})
        await host.client(DELETE, p=draft["id"])
        public = await create(host, m, "X", "Y")
        await host.client(LAUNCH, p=public["id"])
        seen = [(await hs.next())["meetingEvents"] for _ in range(5)]  # type: ignore[index]
        first_for_alice = (await gs.next())["meetingEvents"]  # type: ignore[index]
    assert [e["type"] for e in seen] == [
        "POLL_CREATED",
        "POLL_UPDATED",
        "POLL_DELETED",
        "POLL_CREATED",
        "POLL_LAUNCHED",
    ]
    assert seen[1]["poll"]["question"] == "Renamed?" and seen[2]["poll"]["id"] == draft["id"]
    assert first_for_alice["type"] == "POLL_LAUNCHED" and first_for_alice["seq"] == seen[4]["seq"]


async def test_ending_the_meeting_ends_its_open_polls(world: World) -> None:
    host, m = await live_meeting(world)
    open_poll = await create(host, m, "A", "B")
    await host.client(LAUNCH, p=open_poll["id"])
    draft = await create(host, m, "C", "D")
    start = (await host.client(SEQ, m=m["id"]))["meeting"]["eventSeq"]
    async with host.client.subscribe(EVENTS, m=m["id"], after=start) as hs:
        await host.client("mutation($m: ID!) { endMeeting(id: $m) { id } }", m=m["id"])
        types = [(await hs.next())["meetingEvents"]["type"] for _ in range(2)]  # type: ignore[index]
    assert types == ["POLL_ENDED", "POLL_VOTES_UPDATED"]
    polls = {p["id"]: p["status"] for p in (await host.client(POLLS, m=m["id"]))["polls"]}
    assert polls == {open_poll["id"]: "ENDED", draft["id"]: "DRAFT"}

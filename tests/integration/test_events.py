"""Subscriptions over a real WebSocket (graphql-transport-ws): order, visibility, resume, and the zulip-style
check that applying the events to an earlier snapshot gives what a fresh query returns."""

from __future__ import annotations

import asyncio
from typing import Any

from api.events import stream
from api.events.retention import prune
from protocol.events import EventType
from tests.conftest import RunningServer
from tests.support.gql import GraphQLError
from tests.support.world import Person, World, live_meeting, seq

EVENTS = """subscription($m: ID!, $after: Int) { meetingEvents(meetingId: $m, afterSeq: $after) {
  __typename seq type actorId
  ... on ParticipantEvent {
    participant { id displayName role state audioMuted mutedByHost videoOn sharing handRaisedAt }
  }
  ... on MeetingStateEvent { meeting { status locked waitingRoom spotlightParticipantId } }
  ... on BulkParticipantEvent { participantIds }
} }"""
MY_EVENTS = """subscription($m: ID!, $after: Int) { myEvents(meetingId: $m, afterSeq: $after) {
  __typename seq type ... on ParticipantEvent { participant { id state } } } }"""
PARTICIPANTS = """query($m: ID!) { meeting(id: $m) { eventSeq participants { id displayName role state audioMuted
  mutedByHost videoOn sharing handRaisedAt } } }"""


def ev(item: dict[str, Any]) -> dict[str, Any]:
    e: dict[str, Any] = item.get("meetingEvents") or item["myEvents"]
    return e


async def test_events_arrive_in_sequence_and_match_a_fresh_query(world: World) -> None:
    host, m = await live_meeting(world)
    snapshot = (await host.client(PARTICIPANTS, m=m["id"]))["meeting"]
    state = {p["id"]: p for p in snapshot["participants"]}
    async with host.client.subscribe(EVENTS, m=m["id"], after=snapshot["eventSeq"]) as sub:
        alice, _ = await world.join(await world.user("Alice"), m)
        bob, _ = await world.join(None, m, name="Bob")
        await alice.client(
            "mutation($m: ID!) { updateMyMedia(meetingId: $m, input: {videoOn: true}) { id } }", m=m["id"]
        )
        await bob.client("mutation($m: ID!) { raiseHand(meetingId: $m) { id } }", m=m["id"])
        await host.client("mutation($p: ID!) { muteParticipant(participantId: $p) { id } }", p=alice.participant_id)
        await host.client(
            "mutation($p: ID!, $n: String!) { renameParticipant(participantId: $p, displayName: $n) { id } }",
            p=bob.participant_id,
            n="Robert",
        )
        await bob.client("mutation($m: ID!) { leaveMeeting(meetingId: $m) { id } }", m=m["id"])
        items = await sub.collect_until(lambda i: ev(i)["type"] == "PARTICIPANT_LEFT")
    seqs = [ev(i)["seq"] for i in items]
    assert seqs == list(range(snapshot["eventSeq"] + 1, snapshot["eventSeq"] + 1 + len(seqs)))
    assert [ev(i)["type"] for i in items] == [
        "PARTICIPANT_ADMITTED",
        "PARTICIPANT_ADMITTED",
        "PARTICIPANT_UPDATED",
        "PARTICIPANT_UPDATED",
        "PARTICIPANT_UPDATED",
        "PARTICIPANT_UPDATED",
        "PARTICIPANT_LEFT",
    ]
    for i in items:
        p = ev(i)["participant"]
        if p["state"] == "ADMITTED":
            state[p["id"]] = p
        else:
            state.pop(p["id"], None)
    fresh = (await host.client(PARTICIPANTS, m=m["id"]))["meeting"]
    assert fresh["eventSeq"] == seqs[-1]
    assert state == {p["id"]: p for p in fresh["participants"]}
    by_id = {ev(i)["participant"]["id"]: ev(i)["participant"] for i in items}
    assert by_id[alice.participant_id]["mutedByHost"] is True and by_id[alice.participant_id]["videoOn"] is True
    assert ev(items[4])["actorId"] is not None  # the host muted Alice


async def test_an_event_is_readable_when_it_arrives(world: World) -> None:
    """Published only after commit: whoever hears of a join can already query it."""
    host, m = await live_meeting(world)
    async with host.client.subscribe(EVENTS, m=m["id"], after=await seq(host, m)) as sub:
        for _ in range(5):
            await world.join(None, m)
            e = ev(await sub.next() or {})
            ids = {p["id"] for p in (await host.client(PARTICIPANTS, m=m["id"]))["meeting"]["participants"]}
            assert e["participant"]["id"] in ids


async def test_waiting_room_events_reach_hosts_only_and_the_waiting_person(world: World) -> None:
    host, m = await live_meeting(world, waitingRoom=True)
    co = await world.user("Co")
    await world.join(co, m)  # waits
    await host.client("mutation($p: ID!) { admitParticipant(participantId: $p) { id } }", p=co.participant_id)
    await host.client("mutation($p: ID!) { makeCohost(participantId: $p) { id } }", p=co.participant_id)
    plain = await world.user("Plain")
    await world.join(plain, m)
    await host.client("mutation($p: ID!) { admitParticipant(participantId: $p) { id } }", p=plain.participant_id)

    now = await seq(host, m)
    async with (
        host.client.subscribe(EVENTS, m=m["id"], after=now) as hs,
        co.client.subscribe(EVENTS, m=m["id"], after=now) as cs,
        plain.client.subscribe(EVENTS, m=m["id"], after=now) as ps,
    ):
        guest, joined = await world.join(None, m, name="Late")
        assert joined["status"] == "WAITING" and joined["joinToken"] is None
        async with guest.client.subscribe(MY_EVENTS, m=m["id"], after=joined["eventSeq"]) as gs:
            # The waiting guest may not watch the meeting itself.
            err = None
            try:
                async with guest.client.subscribe(EVENTS, m=m["id"]) as denied:
                    await denied.next()
            except GraphQLError as exc:
                err = exc
            assert err is not None and err.code == "FORBIDDEN"

            for s in (hs, cs):
                e = ev(await s.next() or {})
                assert (e["type"], e["participant"]["state"]) == ("PARTICIPANT_WAITING", "WAITING")
            await co.client("mutation($p: ID!) { admitParticipant(participantId: $p) { id } }", p=guest.participant_id)
            mine = ev(await gs.next() or {})
            assert (mine["type"], mine["participant"]["state"]) == ("PARTICIPANT_ADMITTED", "ADMITTED")
        # The plain participant's first event is the admission: the waiting one was never sent to them.
        first = ev(await ps.next() or {})
        assert first["type"] == "PARTICIPANT_ADMITTED" and first["participant"]["id"] == guest.participant_id
        for s in (hs, cs):
            assert ev(await s.next() or {})["seq"] == first["seq"]


async def test_denied_guest_hears_it_and_the_stream_ends(world: World) -> None:
    host, m = await live_meeting(world, waitingRoom=True)
    guest, joined = await world.join(None, m)
    async with guest.client.subscribe(MY_EVENTS, m=m["id"], after=joined["eventSeq"]) as gs:
        await host.client("mutation($p: ID!) { denyParticipant(participantId: $p) { id } }", p=guest.participant_id)
        e = ev(await gs.next() or {})
        assert (e["type"], e["participant"]["state"]) == ("PARTICIPANT_DENIED", "DENIED")
        assert await gs.next() is None  # completed


async def test_ask_to_unmute_goes_only_to_its_subject(world: World) -> None:
    host, m = await live_meeting(world)
    a, _ = await world.join(await world.user("A"), m)
    b, joined = await world.join(await world.user("B"), m)
    now = joined["eventSeq"]
    async with (
        a.client.subscribe(EVENTS, m=m["id"], after=now) as sa,
        b.client.subscribe(EVENTS, m=m["id"], after=now) as sb,
    ):
        await host.client("mutation($p: ID!) { askToUnmute(participantId: $p) { id } }", p=a.participant_id)
        await host.client("mutation($m: ID!) { lowerAllHands(meetingId: $m) { id } }", m=m["id"])
        ea = ev(await sa.next() or {})
        assert ea["type"] == "UNMUTE_REQUESTED" and ea["participant"]["id"] == a.participant_id
        eb = ev(await sb.next() or {})
        assert eb["type"] == "HANDS_LOWERED" and eb["seq"] == ea["seq"] + 1
        assert ev(await sa.next() or {})["seq"] == eb["seq"]


async def test_resume_after_seq_replays_what_was_missed(world: World) -> None:
    host, m = await live_meeting(world)
    start = (await host.client(PARTICIPANTS, m=m["id"]))["meeting"]["eventSeq"]
    people = [(await world.join(None, m))[0] for _ in range(3)]
    await host.client("mutation($m: ID!) { lockMeeting(meetingId: $m) { id } }", m=m["id"])
    async with host.client.subscribe(EVENTS, m=m["id"], after=start) as sub:
        replayed = [ev(await sub.next() or {}) for _ in range(4)]
        await host.client("mutation($m: ID!) { unlockMeeting(meetingId: $m) { id } }", m=m["id"])
        live = ev(await sub.next() or {})
    assert [e["seq"] for e in replayed] == [start + 1, start + 2, start + 3, start + 4]
    assert [e["participant"]["id"] for e in replayed[:3]] == [p.participant_id for p in people]
    assert replayed[3]["meeting"]["locked"] is True
    assert live["seq"] == start + 5 and live["meeting"]["locked"] is False


async def test_bad_subscriptions_get_coded_errors(world: World) -> None:
    host, m = await live_meeting(world)
    stranger = await world.user()
    cases = [
        (stranger.client, {"m": m["id"]}, "FORBIDDEN"),
        (world.anon, {"m": m["id"]}, "UNAUTHENTICATED"),
        (host.client, {"m": "nope"}, "NOT_FOUND"),
        (host.client, {"m": m["id"], "after": 10_000}, "BAD_INPUT"),
    ]
    for client, variables, code in cases:
        try:
            async with client.subscribe(EVENTS, **variables) as sub:
                await sub.next()
        except GraphQLError as exc:
            assert exc.code == code, (variables, exc)
        else:
            raise AssertionError(f"{variables} was accepted")


async def test_removal_and_meeting_end_close_streams(world: World) -> None:
    host, m = await live_meeting(world)
    a, _ = await world.join(None, m)
    b, joined = await world.join(None, m)
    now = joined["eventSeq"]
    async with (
        a.client.subscribe(EVENTS, m=m["id"], after=now) as sa,
        b.client.subscribe(EVENTS, m=m["id"], after=now) as sb,
    ):
        await host.client("mutation($p: ID!) { removeParticipant(participantId: $p) { id } }", p=a.participant_id)
        removed = ev(await sa.next() or {})
        assert (removed["type"], removed["participant"]["state"]) == ("PARTICIPANT_REMOVED", "REMOVED")
        assert await sa.next() is None
        await host.client("mutation($m: ID!) { endMeeting(id: $m) { id } }", m=m["id"])
        seen = await sb.collect_until(lambda i: ev(i)["type"] == "MEETING_ENDED")
        assert ev(seen[-1])["meeting"]["status"] == "ENDED"
        assert await sb.next() is None
    err = await a.client.error(
        "mutation($i: JoinMeetingInput!) { joinMeeting(input: $i) { status } }", i={"number": m["number"]}
    )
    assert err.code in {"FORBIDDEN", "MEETING_ENDED"}


async def test_concurrent_writers_still_give_a_gapless_sequence(world: World) -> None:
    host, m = await live_meeting(world, maxParticipants=200)
    async with host.client.subscribe(EVENTS, m=m["id"], after=await seq(host, m)) as sub:
        joined = await asyncio.gather(*(world.join(None, m) for _ in range(25)))
        items = [ev(await sub.next() or {}) for _ in range(25)]
    seqs = [e["seq"] for e in items]
    assert seqs == sorted(seqs) and len(set(seqs)) == 25 and seqs[-1] - seqs[0] == 24
    assert {e["participant"]["id"] for e in items} == {p.participant_id for p, _ in joined}


MEETING_STATE = """query($m: ID!) { meeting(id: $m) { eventSeq locked spotlightParticipantId status
  settings { waitingRoom allowSelfUnmute }
  participants(states: [ADMITTED, WAITING]) { id displayName role state audioMuted mutedByHost videoOn sharing
  handRaisedAt } } }"""


def _apply(state: dict[str, Any], e: dict[str, Any]) -> None:
    """Apply one event to a client-side model of the meeting, the way a client would."""
    people: dict[str, dict[str, Any]] = state["participants"]
    if e["__typename"] == "ParticipantEvent":
        p = e["participant"]
        if p["state"] in ("ADMITTED", "WAITING"):
            people[p["id"]] = p
        else:
            people.pop(p["id"], None)
    elif e["__typename"] == "BulkParticipantEvent":
        for pid in e["participantIds"]:
            if e["type"] == "ALL_MUTED":
                people[pid] |= {"audioMuted": True, "mutedByHost": True}
            elif e["type"] == "HANDS_LOWERED":
                people[pid] |= {"handRaisedAt": None}
    if e.get("meeting"):
        state["meeting"] = {k: e["meeting"][k] for k in ("locked", "waitingRoom", "spotlightParticipantId", "status")}


def _model(fresh: dict[str, Any]) -> dict[str, Any]:
    return {
        "participants": {p["id"]: p for p in fresh["participants"]},
        "meeting": {
            "locked": fresh["locked"],
            "waitingRoom": fresh["settings"]["waitingRoom"],
            "spotlightParticipantId": fresh["spotlightParticipantId"],
            "status": fresh["status"],
        },
    }


async def test_host_controls_events_replay_to_the_fresh_state(world: World) -> None:
    """zulip's verify_action: old state + every event == a fresh fetch, after each kind of host control."""
    host, m = await live_meeting(world)
    ps = [(await world.join(await world.user(f"P{i}"), m))[0] for i in range(3)]
    g, _ = await world.join(None, m, name="Guest")
    mid = m["id"]
    first = (await host.client(MEETING_STATE, m=mid))["meeting"]
    state = _model(first)
    steps: list[tuple[Person, str, dict[str, Any]]] = [
        (ps[0], "mutation($m: ID!) { raiseHand(meetingId: $m) { id } }", {"m": mid}),
        (ps[1], "mutation($m: ID!) { raiseHand(meetingId: $m) { id } }", {"m": mid}),
        (host, "mutation($p: ID!) { lowerHand(participantId: $p) { id } }", {"p": ps[0].participant_id}),
        (host, "mutation($m: ID!) { lowerAllHands(meetingId: $m) { id } }", {"m": mid}),
        (host, "mutation($p: ID!) { makeCohost(participantId: $p) { id } }", {"p": ps[2].participant_id}),
        (ps[2], "mutation($m: ID!) { muteAll(meetingId: $m, allowSelfUnmute: false) { id } }", {"m": mid}),
        (
            g,
            "mutation($m: ID!) { updateMyMedia(meetingId: $m, input: {videoOn: true, sharing: true}) { id } }",
            {"m": mid},
        ),
        (ps[2], "mutation($p: ID!) { stopVideo(participantId: $p) { id } }", {"p": g.participant_id}),
        (
            host,
            "mutation($m: ID!, $p: ID) { spotlight(meetingId: $m, participantId: $p) { id } }",
            {"m": mid, "p": ps[1].participant_id},
        ),
        (host, "mutation($m: ID!) { lockMeeting(meetingId: $m) { id } }", {"m": mid}),
        (host, "mutation($m: ID!) { setWaitingRoom(meetingId: $m, enabled: true) { id } }", {"m": mid}),
        (host, "mutation($p: ID!) { transferHost(participantId: $p) { id } }", {"p": ps[0].participant_id}),
        (ps[0], "mutation($p: ID!) { revokeCohost(participantId: $p) { id } }", {"p": ps[2].participant_id}),
        (
            ps[0],
            "mutation($p: ID!, $n: String!) { renameParticipant(participantId: $p, displayName: $n) { id } }",
            {"p": g.participant_id, "n": "Renamed"},
        ),
        (ps[0], "mutation($p: ID!) { removeParticipant(participantId: $p) { id } }", {"p": ps[1].participant_id}),
        (host, "mutation($m: ID!) { leaveMeeting(meetingId: $m) { id } }", {"m": mid}),
    ]
    in_charge = host  # whoever holds the host role may read the waiting room too
    async with host.client.subscribe(EVENTS, m=mid, after=first["eventSeq"]) as sub:
        for who, op, variables in steps:
            await who.client(op, **variables)
            if "transferHost" in op:
                in_charge = ps[0]
            head = (await in_charge.client(MEETING_STATE, m=mid))["meeting"]
            # Drain exactly up to the state we just read, applying as we go.
            while True:
                e = ev(await sub.next() or {})
                _apply(state, e)
                if e["seq"] == head["eventSeq"] or e["type"] == "PARTICIPANT_LEFT":
                    break
            if e["type"] == "PARTICIPANT_LEFT":
                break
            assert state == _model(head), op
    fresh = (await ps[0].client(MEETING_STATE, m=mid))["meeting"]
    assert state == _model(fresh)
    roles = {p["id"]: p["role"] for p in fresh["participants"]}
    assert roles[ps[0].participant_id] == "HOST" and roles[ps[2].participant_id] == "PARTICIPANT"
    assert ps[1].participant_id not in roles and host.participant_id not in roles


async def test_resuming_from_before_the_retained_log_asks_for_a_resync(world: World, server: RunningServer) -> None:
    host, m = await live_meeting(world)
    start = await seq(host, m)
    await world.join(None, m)
    services = server.app.state.services
    assert await prune(services, older_than_s=-1) > 0  # everything logged so far is now "too old"
    try:
        async with host.client.subscribe(EVENTS, m=m["id"], after=start) as sub:
            await sub.next()
    except GraphQLError as exc:
        assert exc.code == "RESYNC_REQUIRED"
    else:
        raise AssertionError("resumed from a pruned point")
    # The documented recovery: query again, subscribe from the fresh eventSeq, and nothing new is missed.
    now = await seq(host, m)
    async with host.client.subscribe(EVENTS, m=m["id"], after=now) as sub:
        guest, _ = await world.join(None, m)
        e = ev(await sub.next() or {})
    assert e["seq"] == now + 1 and e["participant"]["id"] == guest.participant_id


async def test_raised_hands_queue_in_the_order_hands_went_up(world: World) -> None:
    host, m = await live_meeting(world)
    people = [(await world.join(None, m, name=f"H{i}"))[0] for i in range(4)]
    raise_hand = "mutation($m: ID!) { raiseHand(meetingId: $m) { handRaisedAt } }"
    for p in (people[2], people[0], people[3]):
        await p.client(raise_hand, m=m["id"])
    await people[2].client(raise_hand, m=m["id"])  # raising again keeps the original place in the queue
    queue = "query($m: ID!) { meeting(id: $m) { raisedHands { id } } }"
    got = [p["id"] for p in (await people[1].client(queue, m=m["id"]))["meeting"]["raisedHands"]]
    assert got == [people[2].participant_id, people[0].participant_id, people[3].participant_id]
    await people[0].client("mutation($m: ID!) { lowerMyHand(meetingId: $m) { id } }", m=m["id"])
    await host.client("mutation($p: ID!) { lowerHand(participantId: $p) { id } }", p=people[3].participant_id)
    got = [p["id"] for p in (await host.client(queue, m=m["id"]))["meeting"]["raisedHands"]]
    assert got == [people[2].participant_id]
    await host.client("mutation($m: ID!) { lowerAllHands(meetingId: $m) { id } }", m=m["id"])
    assert (await host.client(queue, m=m["id"]))["meeting"]["raisedHands"] == []


async def test_a_stalled_subscriber_holds_up_nobody_and_still_loses_nothing(
    world: World, server: RunningServer
) -> None:
    """A subscriber that stops pulling overflows its bounded queue; the others keep getting every event at once,
    and when it pulls again it gets everything, in order, the gap refilled from the event log. (The stalled one
    is the server's own subscription stream driven directly: a stalled socket is absorbed by kernel buffers
    long before the queue fills.)"""
    host, m = await live_meeting(world)
    guest, _ = await world.join(None, m)
    services = server.app.state.services
    row = await participant_row(services, guest.participant_id)
    start = await seq(host, m)
    total = 1200  # more than a subscriber's queue holds (1,000)
    principal = services.creds.principal_from_bearer(host.client.token)
    stalled = stream.events(services, principal, m["id"], after_seq=start, personal=False)
    async with host.client.subscribe(EVENTS, m=m["id"], after=start) as fast:
        pulling_one = asyncio.create_task(anext(stalled))  # subscribes, takes one event, then stops pulling
        await fast.silent_for(0.2)
        for _ in range(total):
            async with services.db.write() as tx:
                await tx.emit(m["id"], EventType.PARTICIPANT_UPDATED, subject_id=row["id"], participant=row)
        got = [ev(await fast.next(10) or {})["seq"] for _ in range(total)]
        assert got == list(range(start + 1, start + total + 1))
    first = await pulling_one
    queues = services.bus.hub.subs[f"meeting:{m['id']}"]
    assert [q.dropped > 0 for q in queues] == [True], "the stalled subscriber never overflowed: proves nothing"
    late = [first.seq] + [(await anext(stalled)).seq for _ in range(total - 1)]
    await stalled.aclose()
    assert late == list(range(start + 1, start + total + 1))


async def participant_row(services: Any, participant_id: str | None) -> dict[str, Any]:
    from api.participants.views import participant_snapshot
    from dbschema.models import Participant

    async with services.db.read() as session:
        p = await session.get(Participant, participant_id)
        assert p is not None
        return participant_snapshot(p)

"""Breakout rooms through GraphQL on a real server: planning, opening, room-scoped events, join tokens,
choosing and moving, broadcasts and help requests, closing after a countdown (and after a restart), permissions,
and the verify_action check that the events replayed on an old state give a fresh query's answer."""

from __future__ import annotations

import asyncio
from collections import Counter
from contextlib import AsyncExitStack
from datetime import datetime, timedelta
from typing import Any

import jwt

from api.breakouts import service as breakouts
from dbschema.breakouts import BreakoutState
from dbschema.models import utcnow
from tests.conftest import RunningServer
from tests.support.gql import Client, Subscription, eventually
from tests.support.world import Person, World

EVENTS = """subscription($m: ID!, $after: Int) { meetingEvents(meetingId: $m, afterSeq: $after) {
  __typename seq type actorId roomId
  ... on ParticipantEvent { participant { id state breakoutRoomId } }
  ... on BreakoutRoomsEvent {
    breakouts { status allowChooseRoom graceSeconds closesAt returnsAt rooms { id name participantIds } }
    assignments { participantId roomId }
  }
  ... on BreakoutBroadcastEvent { message senderName }
  ... on BreakoutHelpRequestedEvent { participant { id displayName } roomName }
} }"""
SESSION = """query($m: ID!) { breakoutSession(meetingId: $m) {
  status allowChooseRoom graceSeconds openedAt closesAt returnsAt
  rooms { id name participants { id } } } }"""
PLAN = """query($m: ID!) { breakoutSession(meetingId: $m) {
  rooms { id assignedParticipants { id } } unassignedParticipants { id } } }"""
ROOMS = "query($m: ID!) { breakoutRooms(meetingId: $m) { id name participants { id breakoutRoomId } } }"
WHERE = "query($m: ID!) { meeting(id: $m) { eventSeq participants { id breakoutRoomId } } }"
CREATE = "mutation($i: CreateBreakoutRoomsInput!) { createBreakoutRooms(input: $i) { rooms { id name } } }"
RENAME = "mutation($r: ID!, $n: String!) { renameBreakoutRoom(roomId: $r, name: $n) { id name } }"
DELETE = "mutation($r: ID!) { deleteBreakoutRoom(roomId: $r) { rooms { id } } }"
SETTINGS = "mutation($i: UpdateBreakoutSettingsInput!) { updateBreakoutSettings(input: $i) { allowChooseRoom } }"
ASSIGN = "mutation($i: AssignBreakoutRoomsInput!) { assignBreakoutRooms(input: $i) { status } }"
AUTO = """mutation($i: AutoAssignBreakoutRoomsInput!) { autoAssignBreakoutRooms(input: $i) {
  rooms { id assignedParticipants { id } } unassignedParticipants { id } } }"""
OPEN = "mutation($i: OpenBreakoutRoomsInput!) { openBreakoutRooms(input: $i) { status closesAt } }"
CLOSE = "mutation($m: ID!, $g: Int!) { closeBreakoutRooms(meetingId: $m, graceSeconds: $g) { status returnsAt } }"
MOVE = "mutation($p: ID!, $r: ID) { moveToBreakoutRoom(participantId: $p, roomId: $r) { id breakoutRoomId } }"
JOIN_ROOM = "mutation($m: ID!, $r: ID!) { joinBreakoutRoom(meetingId: $m, roomId: $r) { id breakoutRoomId } }"
LEAVE_ROOM = "mutation($m: ID!) { leaveBreakoutRoom(meetingId: $m) { id breakoutRoomId } }"
BROADCAST = """mutation($i: BroadcastToBreakoutRoomsInput!) { broadcastToBreakoutRooms(input: $i) {
  seq message roomId } }"""
HELP = "mutation($m: ID!) { askForBreakoutHelp(meetingId: $m) { seq roomId roomName participant { id } } }"
REFRESH = "mutation($m: ID!) { refreshJoinToken(meetingId: $m) { token } }"


def ev(item: dict[str, Any]) -> dict[str, Any]:
    e: dict[str, Any] = item["meetingEvents"]
    return e


async def seq(who: Person, m: dict[str, Any]) -> int:
    value: int = (await who.client(WHERE, m=m["id"]))["meeting"]["eventSeq"]
    return value


async def staged(
    world: World, guests: int, rooms: list[str] | None = None, **settings: Any
) -> tuple[Person, dict[str, Any], list[Person], list[str]]:
    """A live meeting with its host, ``guests`` guests (in join order) and breakout rooms named ``rooms``."""
    host = await world.user("Host")
    m = await world.meeting(host, **settings)
    await world.join(host, m)
    people = [(await world.join(None, m, name=f"G{i}"))[0] for i in range(guests)]
    ids: list[str] = []
    if rooms:
        created = (await host.client(CREATE, i={"meetingId": m["id"], "names": rooms}))["createBreakoutRooms"]
        ids = [r["id"] for r in created["rooms"]]
    return host, m, people, ids


async def assign(host: Person, m: dict[str, Any], *plan: tuple[Person, str | None]) -> None:
    pairs = [{"participantId": p.participant_id, "roomId": r} for p, r in plan]
    await host.client(ASSIGN, i={"meetingId": m["id"], "assignments": pairs})


async def where(who: Person, m: dict[str, Any]) -> dict[str, str | None]:
    """participant id → breakoutRoomId, from the meeting's participant list (what every client sees)."""
    return {p["id"]: p["breakoutRoomId"] for p in (await who.client(WHERE, m=m["id"]))["meeting"]["participants"]}


def room_claim(token: str) -> Any:
    return jwt.decode(token, options={"verify_signature": False})["room"]


async def until(sub: Subscription, stop: str, message: str | None = None) -> list[dict[str, Any]]:
    """Events up to the first of type ``stop`` (with that broadcast ``message`` when given)."""
    items = await sub.collect_until(lambda i: ev(i)["type"] == stop and message in (None, ev(i).get("message")))
    return [ev(i) for i in items]


# -- planning ----------------------------------------------------------------------------------------------------


async def test_create_rename_delete_rooms_and_plan_by_hand(world: World) -> None:
    host, m, (a, b, c), (red, blue) = await staged(world, 3, ["Red", "Blue"])
    more = (await host.client(CREATE, i={"meetingId": m["id"], "count": 2}))["createBreakoutRooms"]["rooms"]
    assert [r["name"] for r in more] == ["Red", "Blue", "Room 3", "Room 4"]
    room3, room4 = more[2]["id"], more[3]["id"]
    assert (await host.client(RENAME, r=room3, n="  Green "))["renameBreakoutRoom"] == {"id": room3, "name": "Green"}
    assert [r["id"] for r in (await host.client(DELETE, r=room4))["deleteBreakoutRoom"]["rooms"]] == [red, blue, room3]

    await assign(host, m, (a, red), (b, blue), (c, room3))
    await assign(host, m, (c, None))  # out of the plan again
    await host.client(DELETE, r=room3)
    plan = (await host.client(PLAN, m=m["id"]))["breakoutSession"]
    assert {r["id"]: [p["id"] for p in r["assignedParticipants"]] for r in plan["rooms"]} == {
        red: [a.participant_id],
        blue: [b.participant_id],
    }
    assert [p["id"] for p in plan["unassignedParticipants"]] == [c.participant_id]  # the host is not counted

    # Participants see the rooms (to pick one, later) but not the plan.
    rooms = (await a.client(ROOMS, m=m["id"]))["breakoutRooms"]
    assert [(r["name"], r["participants"]) for r in rooms] == [("Red", []), ("Blue", [])]
    err = await a.client.error(PLAN, m=m["id"])
    assert err.code == "FORBIDDEN"


async def test_automatic_assignment_is_balanced_and_reproducible(world: World) -> None:
    host, m, guests, rooms = await staged(world, 7, ["A", "B", "C"])

    async def auto(**i: Any) -> dict[str, list[str]]:
        out = (await host.client(AUTO, i={"meetingId": m["id"], **i}))["autoAssignBreakoutRooms"]
        assert out["unassignedParticipants"] == []
        return {r["id"]: sorted(p["id"] for p in r["assignedParticipants"]) for r in out["rooms"]}

    seeded = await auto(seed=5)
    assert [len(seeded[r]) for r in rooms] == [3, 2, 2]
    assert host.participant_id not in {p for ps in seeded.values() for p in ps}  # hosts stay free to visit
    assert await auto(seed=5) == seeded  # reproducible; how seeds shuffle is covered by the unit tests

    by_order = await auto(order="JOIN_ORDER")
    assert by_order == {r: sorted(g.participant_id for g in guests[i::3]) for i, r in enumerate(rooms)}

    # A latecomer is placed in the emptiest room; everyone else keeps their room.
    late, _ = await world.join(None, m, name="Late")
    kept = await auto(order="JOIN_ORDER", keepExisting=True)
    assert kept[rooms[1]] == sorted([*by_order[rooms[1]], late.participant_id])
    assert kept[rooms[0]] == by_order[rooms[0]] and kept[rooms[2]] == by_order[rooms[2]]


# -- open rooms ----------------------------------------------------------------------------------------------------


async def test_opening_moves_everyone_in_the_plan_and_scopes_their_join_token(world: World) -> None:
    host, m, (a1, a2, b1, stay), (ra, rb) = await staged(world, 4, ["A", "B"])
    await assign(host, m, (a1, ra), (a2, ra), (b1, rb))
    start = await seq(host, m)
    async with a1.client.subscribe(EVENTS, m=m["id"], after=start) as sub:
        opened = (await host.client(OPEN, i={"meetingId": m["id"], "durationMinutes": 15}))["openBreakoutRooms"]
        seen = await until(sub, "BREAKOUT_ROOMS_OPENED")
    assert opened["status"] == "OPEN" and opened["closesAt"] is not None
    moves = {e["participant"]["id"]: e["participant"]["breakoutRoomId"] for e in seen[:-1]}
    assert [e["type"] for e in seen[:-1]] == ["PARTICIPANT_UPDATED"] * 3
    assert moves == {a1.participant_id: ra, a2.participant_id: ra, b1.participant_id: rb}
    summary = seen[-1]["breakouts"]
    assert summary["status"] == "OPEN" and summary["closesAt"] == opened["closesAt"]
    assert [(r["name"], sorted(r["participantIds"])) for r in summary["rooms"]] == [
        ("A", sorted([a1.participant_id, a2.participant_id])),
        ("B", [b1.participant_id]),
    ]

    # Every client's participant list and each room's presence agree.
    assert await where(stay, m) == {
        host.participant_id: None,
        a1.participant_id: ra,
        a2.participant_id: ra,
        b1.participant_id: rb,
        stay.participant_id: None,
    }
    rooms = (await stay.client(ROOMS, m=m["id"]))["breakoutRooms"]
    assert {r["id"]: sorted(p["id"] for p in r["participants"]) for r in rooms} == {
        ra: sorted([a1.participant_id, a2.participant_id]),
        rb: [b1.participant_id],
    }
    # The media token follows: the edge puts a1 in room A's media session, the others where they are.
    tokens = [(await p.client(REFRESH, m=m["id"]))["refreshJoinToken"]["token"] for p in (a1, b1, stay, host)]
    assert [room_claim(t) for t in tokens] == [ra, rb, None, None]


async def test_room_events_reach_their_room_and_help_requests_reach_hosts_only(world: World) -> None:
    host, m, (a1, a2, b1, main), (ra, rb) = await staged(world, 4, ["A", "B"])
    await assign(host, m, (a1, ra), (a2, ra), (b1, rb))
    await host.client(OPEN, i={"meetingId": m["id"]})
    start = await seq(host, m)
    async with AsyncExitStack() as stack:
        subs = {
            p.name: await stack.enter_async_context(p.client.subscribe(EVENTS, m=m["id"], after=start))
            for p in (host, a1, a2, b1, main)
        }
        sent = await host.client(BROADCAST, i={"meetingId": m["id"], "message": "B only", "roomId": rb})
        assert sent["broadcastToBreakoutRooms"]["roomId"] == rb
        await host.client(BROADCAST, i={"meetingId": m["id"], "message": "A only", "roomId": ra})
        asked = (await a1.client(HELP, m=m["id"]))["askForBreakoutHelp"]
        assert (asked["roomId"], asked["roomName"], asked["participant"]["id"]) == (ra, "A", a1.participant_id)
        await host.client(BROADCAST, i={"meetingId": m["id"], "message": "Two minutes left"})

        got = {p: await until(s, "BREAKOUT_BROADCAST", "Two minutes left") for p, s in subs.items()}

    def heard(p: Person) -> list[tuple[str, str | None]]:
        return [(e["type"], e.get("message") or e.get("roomName")) for e in got[p.name]]

    everyone = ("BREAKOUT_BROADCAST", "Two minutes left")
    help_a = ("BREAKOUT_HELP_REQUESTED", "A")
    assert heard(host) == [("BREAKOUT_BROADCAST", "B only"), ("BREAKOUT_BROADCAST", "A only"), help_a, everyone]
    assert heard(a1) == [("BREAKOUT_BROADCAST", "A only"), help_a, everyone]  # the asker gets the confirmation
    assert heard(a2) == [("BREAKOUT_BROADCAST", "A only"), everyone]
    assert heard(b1) == [("BREAKOUT_BROADCAST", "B only"), everyone]
    assert heard(main) == [everyone]
    help_event = got[host.name][2]
    assert help_event["roomId"] == ra and help_event["participant"]["displayName"] == "G0"
    assert got[host.name][-1]["senderName"] == "Host" and got[host.name][-1]["roomId"] is None

    # Moved to B, a1 now hears B's messages and no longer A's.
    await host.client(MOVE, p=a1.participant_id, r=rb)
    async with a1.client.subscribe(EVENTS, m=m["id"], after=await seq(host, m)) as s:
        await host.client(BROADCAST, i={"meetingId": m["id"], "message": "to A", "roomId": ra})
        await host.client(BROADCAST, i={"meetingId": m["id"], "message": "to B", "roomId": rb})
        assert [e["message"] for e in await until(s, "BREAKOUT_BROADCAST", "to B")] == ["to B"]


async def test_choosing_rooms_when_allowed_and_hosts_moving_people(world: World) -> None:
    host, m, (g, other), (ra, rb) = await staged(world, 2, ["A", "B"])
    co, _ = await world.join(await world.user("Co"), m)
    await host.client("mutation($p: ID!) { makeCohost(participantId: $p) { id } }", p=co.participant_id)
    err = await g.client.error(JOIN_ROOM, m=m["id"], r=ra)
    assert err.code == "CONFLICT"  # rooms are not open yet
    await host.client(OPEN, i={"meetingId": m["id"]})

    err = await g.client.error(JOIN_ROOM, m=m["id"], r=ra)
    assert err.code == "FORBIDDEN"
    assert (await where(host, m))[g.participant_id] is None
    # Hosts and co-hosts may always drop into a room.
    assert (await co.client(JOIN_ROOM, m=m["id"], r=rb))["joinBreakoutRoom"]["breakoutRoomId"] == rb

    await host.client(SETTINGS, i={"meetingId": m["id"], "allowChooseRoom": True})
    assert (await g.client(JOIN_ROOM, m=m["id"], r=ra))["joinBreakoutRoom"]["breakoutRoomId"] == ra
    assert (await g.client(JOIN_ROOM, m=m["id"], r=rb))["joinBreakoutRoom"]["breakoutRoomId"] == rb  # switch
    assert (await g.client(LEAVE_ROOM, m=m["id"]))["leaveBreakoutRoom"]["breakoutRoomId"] is None

    assert (await host.client(MOVE, p=other.participant_id, r=ra))["moveToBreakoutRoom"]["breakoutRoomId"] == ra
    assert (await co.client(MOVE, p=other.participant_id, r=rb))["moveToBreakoutRoom"]["breakoutRoomId"] == rb
    rooms = (await other.client(ROOMS, m=m["id"]))["breakoutRooms"]
    assert {r["id"]: sorted(p["id"] for p in r["participants"]) for r in rooms} == {
        ra: [],
        rb: sorted([co.participant_id, other.participant_id]),
    }
    assert (await host.client(MOVE, p=other.participant_id, r=None))["moveToBreakoutRoom"]["breakoutRoomId"] is None
    err = await co.client.error(MOVE, p=host.participant_id, r=ra)
    assert err.code == "FORBIDDEN"  # a co-host does not move the host around

    # Leaving a room is always allowed, even when choosing is off again.
    await host.client(SETTINGS, i={"meetingId": m["id"], "allowChooseRoom": False})
    await host.client(MOVE, p=g.participant_id, r=ra)
    assert (await g.client(LEAVE_ROOM, m=m["id"]))["leaveBreakoutRoom"]["breakoutRoomId"] is None
    assert (await g.client.error(JOIN_ROOM, m=m["id"], r=ra)).code == "FORBIDDEN"


# -- closing ---------------------------------------------------------------------------------------------------------


async def test_closing_counts_down_then_brings_everyone_back(world: World) -> None:
    host, m, (a, b), (ra, rb) = await staged(world, 2, ["A", "B"])
    await assign(host, m, (a, ra), (b, rb))
    await host.client(OPEN, i={"meetingId": m["id"]})
    async with a.client.subscribe(EVENTS, m=m["id"], after=await seq(host, m)) as sub:
        closing = (await host.client(CLOSE, m=m["id"], g=1))["closeBreakoutRooms"]
        assert closing["status"] == "CLOSING" and closing["returnsAt"] is not None
        # Still in the rooms during the countdown (the message can still reach them).
        assert (await where(host, m))[a.participant_id] == ra

        # Done lazily by whoever looks next (here: reading the session), or by the sweeper when it runs.
        async def closed() -> bool:
            return (await a.client(SESSION, m=m["id"]))["breakoutSession"]["status"] == "CLOSED"

        await eventually(closed, timeout=5)
        seen = await until(sub, "BREAKOUT_ROOMS_CLOSED")
    assert seen[0]["type"] == "BREAKOUT_ROOMS_CLOSING"
    assert seen[0]["breakouts"]["returnsAt"] == closing["returnsAt"]
    assert {e["participant"]["id"]: e["participant"]["breakoutRoomId"] for e in seen[1:-1]} == {
        a.participant_id: None,
        b.participant_id: None,
    }
    assert seen[-1]["breakouts"]["status"] == "CLOSED"
    assert all(r["participantIds"] == [] for r in seen[-1]["breakouts"]["rooms"])
    assert set((await where(host, m)).values()) == {None}
    assert room_claim((await a.client(REFRESH, m=m["id"]))["refreshJoinToken"]["token"]) is None

    # The plan survives for the next round.
    await host.client(OPEN, i={"meetingId": m["id"]})
    assert (await where(host, m))[b.participant_id] == rb
    assert (await host.client(CLOSE, m=m["id"], g=0))["closeBreakoutRooms"]["status"] == "CLOSED"


async def test_due_closes_survive_a_restart_and_finish_once(world: World, server: RunningServer) -> None:
    """Deadlines are stored: after time passed with no process watching (a restart), the sweeper finishes the
    close; two sweepers racing (two API processes) produce one close, not two."""
    services = server.app.state.services
    host, m, (a, b), (ra, rb) = await staged(world, 2, ["A", "B"])
    await assign(host, m, (a, ra), (b, rb))
    await host.client(OPEN, i={"meetingId": m["id"], "durationMinutes": 30, "graceSeconds": 60})

    async def rewind(minutes: float) -> None:
        async with services.db.write() as tx:
            st = await tx.session.get(BreakoutState, m["id"])
            assert st is not None
            st.closes_at = utcnow() - timedelta(minutes=minutes)

    async def status() -> str:
        async with services.db.read() as session:  # straight from the table: no lazy completion on this path
            st = await session.get(BreakoutState, m["id"])
            assert st is not None
            return st.status

    start = await seq(host, m)
    async with host.client.subscribe(EVENTS, m=m["id"], after=start) as sub:
        await rewind(0.5)  # the timer ran out 30 s ago: 30 s of countdown are left
        await asyncio.gather(breakouts.close_due(services), breakouts.close_due(services))
        assert await status() == "closing"
        (countdown,) = await until(sub, "BREAKOUT_ROOMS_CLOSING")

        async with services.db.write() as tx:  # ... and the countdown ran out unseen too
            st = await tx.session.get(BreakoutState, m["id"])
            assert st is not None and st.returns_at is not None
            st.returns_at = utcnow() - timedelta(seconds=1)

        async def closed_in_table() -> bool:
            return await status() == "closed"

        sweeper = asyncio.create_task(breakouts.run_due_closes_forever(services, interval_s=0.05))
        try:  # the background sweeper and a second process's sweep race for the same close
            await asyncio.gather(eventually(closed_in_table, timeout=5), breakouts.close_due(services))
        finally:
            sweeper.cancel()
        await host.client(SETTINGS, i={"meetingId": m["id"], "allowChooseRoom": True})  # a marker event
        rest = await until(sub, "BREAKOUT_ROOMS_UPDATED")
    assert countdown["actorId"] is None  # the clock did it
    left = datetime.fromisoformat(countdown["breakouts"]["returnsAt"]) - utcnow()
    assert timedelta(seconds=20) < left < timedelta(seconds=31)  # counted from when the timer ran out
    assert [e["type"] for e in rest] == [
        "PARTICIPANT_UPDATED",
        "PARTICIPANT_UPDATED",
        "BREAKOUT_ROOMS_CLOSED",
        "BREAKOUT_ROOMS_UPDATED",
    ]
    assert set((await where(host, m)).values()) == {None}


async def test_ending_the_meeting_closes_open_rooms(world: World) -> None:
    host, m, (a,), (ra,) = await staged(world, 1, ["A"])
    await assign(host, m, (a, ra))
    await host.client(OPEN, i={"meetingId": m["id"]})
    start = (await host.client("query($m: ID!) { meeting(id: $m) { eventSeq } }", m=m["id"]))["meeting"]["eventSeq"]
    async with host.client.subscribe(EVENTS, m=m["id"], after=start) as sub:
        await host.client("mutation($m: ID!) { endMeeting(id: $m) { id } }", m=m["id"])
        ending = await until(sub, "MEETING_ENDED")
    # In the ending transaction: everyone is back in the main room before the meeting ends.
    assert [e["type"] for e in ending][-2:] == ["BREAKOUT_ROOMS_CLOSED", "MEETING_ENDED"]
    session = (await host.client(SESSION, m=m["id"]))["breakoutSession"]  # the owner may still look
    assert session["status"] == "CLOSED"
    everyone = "query($m: ID!) { meeting(id: $m) { participants(states: [LEFT]) { id breakoutRoomId } } }"
    left = (await host.client(everyone, m=m["id"]))["meeting"]["participants"]
    assert {p["id"]: p["breakoutRoomId"] for p in left} == {host.participant_id: None, a.participant_id: None}


# -- permissions and input ------------------------------------------------------------------------------------------


async def test_participants_and_guests_cannot_manage_breakout_rooms(world: World, anon: Client) -> None:
    host, m, (guest,), (ra,) = await staged(world, 1, ["A"])
    user, _ = await world.join(await world.user("Plain"), m)
    stranger = await world.user("Stranger")
    mid = m["id"]
    managing: list[tuple[str, dict[str, Any]]] = [
        (CREATE, {"i": {"meetingId": mid, "count": 1}}),
        (RENAME, {"r": ra, "n": "Mine"}),
        (DELETE, {"r": ra}),
        (SETTINGS, {"i": {"meetingId": mid, "allowChooseRoom": True}}),
        (ASSIGN, {"i": {"meetingId": mid, "assignments": [{"participantId": user.participant_id, "roomId": ra}]}}),
        (AUTO, {"i": {"meetingId": mid}}),
        (OPEN, {"i": {"meetingId": mid}}),
        (CLOSE, {"m": mid, "g": 0}),
        (MOVE, {"p": user.participant_id, "r": ra}),
        (BROADCAST, {"i": {"meetingId": mid, "message": "hi"}}),
    ]
    before = await seq(host, m)
    for who in (guest, user, stranger):
        for op, variables in managing:
            err = await who.client.error(op, **variables)
            assert err.code == "FORBIDDEN", (who.name, op, err)
        err = await who.client.error(PLAN, m=mid)
        assert err.code == "FORBIDDEN", who.name
    for op, variables in managing:
        assert (await anon.error(op, **variables)).code == "UNAUTHENTICATED", op
    assert (await stranger.client.error(SESSION, m=mid)).code == "FORBIDDEN"
    assert await seq(host, m) == before  # refused means nothing happened


async def test_bad_input_names_the_field_and_conflicts_explain_themselves(world: World) -> None:
    host, m, (g,), (ra,) = await staged(world, 1, ["A"])
    mid = m["id"]
    bad: list[tuple[str, dict[str, Any], str]] = [
        (CREATE, {"i": {"meetingId": mid, "count": 0}}, "count"),
        (CREATE, {"i": {"meetingId": mid, "count": 50}}, "count"),  # 1 exists: 51 in all
        (CREATE, {"i": {"meetingId": mid}}, "count"),
        (CREATE, {"i": {"meetingId": mid, "names": ["ok", " "]}}, "names"),
        (CREATE, {"i": {"meetingId": mid, "names": ["x" * 65]}}, "names"),
        (CREATE, {"i": {"meetingId": mid, "count": 2, "names": ["one"]}}, "count"),
        (RENAME, {"r": ra, "n": ""}, "name"),
        (SETTINGS, {"i": {"meetingId": mid, "graceSeconds": 601}}, "graceSeconds"),
        (AUTO, {"i": {"meetingId": mid, "order": "JOIN_ORDER", "seed": 1}}, "seed"),
        (
            ASSIGN,
            {
                "i": {
                    "meetingId": mid,
                    "assignments": [{"participantId": g.participant_id, "roomId": ra}] * 2,
                }
            },
            "assignments",
        ),
        (ASSIGN, {"i": {"meetingId": mid, "assignments": []}}, "assignments"),
        (OPEN, {"i": {"meetingId": mid, "durationMinutes": 0}}, "durationMinutes"),
        (OPEN, {"i": {"meetingId": mid, "graceSeconds": -1}}, "graceSeconds"),
        (CLOSE, {"m": mid, "g": 601}, "graceSeconds"),
        (BROADCAST, {"i": {"meetingId": mid, "message": "   "}}, "message"),
    ]
    for op, variables, field in bad:
        err = await host.client.error(op, **variables)
        assert (err.code, err.field) == ("BAD_INPUT", field), (variables, err)
    unknown = await host.client.error(
        ASSIGN, i={"meetingId": mid, "assignments": [{"participantId": g.participant_id, "roomId": "nope"}]}
    )
    assert (unknown.code, unknown.field) == ("NOT_FOUND", "assignments")
    assert (await host.client.error(RENAME, r="nope", n="x")).code == "NOT_FOUND"
    assert (await host.client.error(SESSION, m="nope")).code == "NOT_FOUND"

    assert (await host.client.error(CLOSE, m=mid, g=0)).code == "CONFLICT"  # not open
    assert (await host.client.error(BROADCAST, i={"meetingId": mid, "message": "hi"})).code == "CONFLICT"
    await host.client(OPEN, i={"meetingId": mid})
    for op, variables in [
        (OPEN, {"i": {"meetingId": mid}}),
        (RENAME, {"r": ra, "n": "Later"}),
        (DELETE, {"r": ra}),
        (CREATE, {"i": {"meetingId": mid, "count": 1}}),
        (AUTO, {"i": {"meetingId": mid}}),
        (HELP, {"m": mid}),  # asked from the main room
    ]:
        who = g if op == HELP else host
        err = await who.client.error(op, **variables)
        assert err.code == "CONFLICT", (op, err)
    err = await host.client.error(MOVE, p=g.participant_id, r="nope")
    assert (err.code, err.field) == ("NOT_FOUND", "roomId")


async def test_help_requests_are_rate_limited(world: World) -> None:
    host, m, (g,), (ra,) = await staged(world, 1, ["A"])
    await assign(host, m, (g, ra))
    await host.client(OPEN, i={"meetingId": m["id"]})
    for _ in range(breakouts.HELP_LIMIT):
        await g.client(HELP, m=m["id"])
    err = await g.client.error(HELP, m=m["id"])
    assert err.code == "RATE_LIMITED" and err.errors[0]["extensions"]["retryAfter"] > 0


# -- verify_action: events replayed on an old state equal a fresh query ---------------------------------------------

STATE = """query($m: ID!) {
  breakoutSession(meetingId: $m) { status allowChooseRoom graceSeconds closesAt returnsAt
    rooms { id name assignedParticipants { id } } }
  meeting(id: $m) { eventSeq participants { id breakoutRoomId } } }"""


def _model(fresh: dict[str, Any]) -> dict[str, Any]:
    s = fresh["breakoutSession"]
    return {
        "session": {k: s[k] for k in ("status", "allowChooseRoom", "graceSeconds", "closesAt", "returnsAt")},
        "rooms": [(r["id"], r["name"]) for r in s["rooms"]],
        "plan": {p["id"]: r["id"] for r in s["rooms"] for p in r["assignedParticipants"]},
        "where": {p["id"]: p["breakoutRoomId"] for p in fresh["meeting"]["participants"]},
    }


def _apply(state: dict[str, Any], e: dict[str, Any]) -> None:
    """What a host's client does with each event."""
    if e["__typename"] == "ParticipantEvent":
        p = e["participant"]
        if p["state"] == "ADMITTED":
            state["where"][p["id"]] = p["breakoutRoomId"]
    elif e["__typename"] == "BreakoutRoomsEvent":
        b = e["breakouts"]
        state["session"] = {k: b[k] for k in ("status", "allowChooseRoom", "graceSeconds", "closesAt", "returnsAt")}
        state["rooms"] = [(r["id"], r["name"]) for r in b["rooms"]]
        if e["assignments"] is not None:
            state["plan"] = {x["participantId"]: x["roomId"] for x in e["assignments"]}
        live = {rid for rid, _ in state["rooms"]}
        state["plan"] = {p: r for p, r in state["plan"].items() if r in live}  # a deleted room takes its plan


async def test_breakout_events_replay_to_the_fresh_state(world: World) -> None:
    host, m, guests, (ra, rb) = await staged(world, 4, ["A", "B"])
    g0, g1, g2, g3 = guests
    mid = m["id"]
    first = await host.client(STATE, m=mid)
    state = _model(first)
    steps: list[tuple[Person, str, dict[str, Any]]] = [
        (host, CREATE, {"i": {"meetingId": mid, "names": ["C"]}}),
        (host, RENAME, {"r": ra, "n": "Alpha"}),
        (host, ASSIGN, {"i": {"meetingId": mid, "assignments": [{"participantId": g0.participant_id, "roomId": ra}]}}),
        (host, AUTO, {"i": {"meetingId": mid, "order": "JOIN_ORDER", "keepExisting": True}}),
        (host, SETTINGS, {"i": {"meetingId": mid, "allowChooseRoom": True, "graceSeconds": 30}}),
        (host, OPEN, {"i": {"meetingId": mid, "durationMinutes": 10}}),
        (host, MOVE, {"p": g1.participant_id, "r": ra}),
        (g2, JOIN_ROOM, {"m": mid, "r": ra}),
        (g3, LEAVE_ROOM, {"m": mid}),
        (host, CLOSE, {"m": mid, "g": 120}),
        (host, CLOSE, {"m": mid, "g": 0}),
        (host, DELETE, {"r": rb}),
    ]
    last = first["meeting"]["eventSeq"]
    async with host.client.subscribe(EVENTS, m=mid, after=last) as sub:
        for who, op, variables in steps:
            await who.client(op, **variables)
            fresh = await host.client(STATE, m=mid)
            assert fresh["meeting"]["eventSeq"] > last, f"{op} changed state without an event"
            types = []
            while last < fresh["meeting"]["eventSeq"]:  # drain exactly up to the state just read
                e = ev(await sub.next() or {})
                _apply(state, e)
                types.append(e["type"])
                last = e["seq"]
            assert state == _model(fresh), (op, types)
    counts = Counter(state["plan"].values())
    assert counts[ra] == 2 and rb not in counts  # the plan lost room B with it

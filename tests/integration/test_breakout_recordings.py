"""Recording while breakout rooms are open, through GraphQL on both databases: each occupied room gets a recording
of its own (listed under the meeting with its room), in step with the main recording, ended when the rooms close
or the recording stops; what everyone hears; what the edges are told."""

from __future__ import annotations

from typing import Any

import pytest

from protocol.media_control import MediaState, RecordingChanged, RoomRecording, Watch, encode
from tests.conftest import EDGE_SECRET, RunningServer
from tests.support.edge_feed import feed, recv
from tests.support.sql_count import statements
from tests.support.world import Person, World, live_meeting, seq

pytestmark = pytest.mark.timeout(60)

FIELDS = "id meetingId title status recordedSeconds breakoutRoom { id name }"
START = f"mutation($m: ID!) {{ startRecording(meetingId: $m) {{ {FIELDS} }} }}"
PAUSE = f"mutation($m: ID!) {{ pauseRecording(meetingId: $m) {{ {FIELDS} }} }}"
RESUME = f"mutation($m: ID!) {{ resumeRecording(meetingId: $m) {{ {FIELDS} }} }}"
STOP = f"mutation($m: ID!) {{ stopRecording(meetingId: $m) {{ {FIELDS} }} }}"
LIST = f"query($m: ID!) {{ recordings(meetingId: $m) {{ {FIELDS} }} }}"
ONE = f"query($id: ID!) {{ recording(id: $id) {{ {FIELDS} }} }}"
DELETE = "mutation($id: ID!) { deleteRecording(id: $id) }"
CREATE = "mutation($i: CreateBreakoutRoomsInput!) { createBreakoutRooms(input: $i) { rooms { id name } } }"
ASSIGN = "mutation($i: AssignBreakoutRoomsInput!) { assignBreakoutRooms(input: $i) { status } }"
OPEN = "mutation($i: OpenBreakoutRoomsInput!) { openBreakoutRooms(input: $i) { status } }"
CLOSE = "mutation($m: ID!, $g: Int!) { closeBreakoutRooms(meetingId: $m, graceSeconds: $g) { status } }"
MOVE = "mutation($p: ID!, $r: ID) { moveToBreakoutRoom(participantId: $p, roomId: $r) { id breakoutRoomId } }"
END = "mutation($m: ID!) { endMeeting(id: $m) { id } }"
EVENTS = """subscription($m: ID!, $after: Int) { meetingEvents(meetingId: $m, afterSeq: $after) {
  type ... on RecordingEvent { recording { id status breakoutRoom { id name } } } } }"""


async def meeting_with_rooms(world: World) -> tuple[Person, Person, Person, dict[str, Any], list[dict[str, str]]]:
    """A live meeting: the host, Alice (planned for "Design") and Bob (in no plan); rooms "Design" and "Sales"."""
    host, m = await live_meeting(world)
    alice, _ = await world.join(await world.user("Alice"), m)
    bob, _ = await world.join(await world.user("Bob"), m)
    rooms = (await host.client(CREATE, i={"meetingId": m["id"], "names": ["Design", "Sales"]}))["createBreakoutRooms"]
    plan = [{"participantId": alice.participant_id, "roomId": rooms["rooms"][0]["id"]}]
    await host.client(ASSIGN, i={"meetingId": m["id"], "assignments": plan})
    return host, alice, bob, m, rooms["rooms"]


def by_room(recordings: list[dict[str, Any]]) -> dict[str | None, dict[str, Any]]:
    out: dict[str | None, dict[str, Any]] = {}
    for r in recordings:
        key = r["breakoutRoom"]["name"] if r["breakoutRoom"] else None
        assert key not in out, recordings  # one recording per room per session
        out[key] = r
    return out


async def test_open_rooms_are_recorded_each_on_its_own(world: World) -> None:
    host, alice, bob, m, (design, sales) = await meeting_with_rooms(world)
    main = (await host.client(START, m=m["id"]))["startRecording"]
    assert main["breakoutRoom"] is None
    async with alice.client.subscribe(EVENTS, m=m["id"], after=await seq(host, m)) as sub:
        await host.client(OPEN, i={"meetingId": m["id"]})
        listed = by_room((await host.client(LIST, m=m["id"]))["recordings"])
        # Sales is empty: nothing to record there (yet).
        assert set(listed) == {None, "Design"}
        room = listed["Design"]
        assert room["breakoutRoom"] == {"id": design["id"], "name": "Design"}
        assert room["status"] == "RECORDING" and room["meetingId"] == m["id"] and "Design" in room["title"]
        assert listed[None]["id"] == main["id"] and listed[None]["status"] == "RECORDING"
        heard: list[dict[str, Any]] = []
        while not heard or heard[-1]["type"] != "RECORDING_STARTED":
            item = await sub.next()
            assert item is not None
            heard.append(item["meetingEvents"])
        # Everyone hears the room's recording start (the consent indicator), in the transaction that opened it.
        assert [e["type"] for e in heard] == ["PARTICIPANT_UPDATED", "BREAKOUT_ROOMS_OPENED", "RECORDING_STARTED"]
        assert heard[-1] == {
            "type": "RECORDING_STARTED",
            "recording": {
                "id": room["id"],
                "status": "RECORDING",
                "breakoutRoom": {"id": design["id"], "name": "Design"},
            },
        }

    assert (await host.client.error(DELETE, id=room["id"])).code == "CONFLICT"  # still recording

    # Bob enters Sales: it is recorded from then on.
    await host.client(MOVE, p=bob.participant_id, r=sales["id"])
    listed = by_room((await host.client(LIST, m=m["id"]))["recordings"])
    assert set(listed) == {None, "Design", "Sales"} and listed["Sales"]["status"] == "RECORDING"
    # Bob leaves Sales again: its recording runs on until the rooms close (one recording per room and session).
    await host.client(MOVE, p=bob.participant_id, r=None)
    await host.client(MOVE, p=bob.participant_id, r=sales["id"])
    assert set(by_room((await host.client(LIST, m=m["id"]))["recordings"])) == {None, "Design", "Sales"}

    # The rooms follow the main recording's pause and resume.
    await host.client(PAUSE, m=m["id"])
    assert {r["status"] for r in (await host.client(LIST, m=m["id"]))["recordings"]} == {"PAUSED"}
    await host.client(RESUME, m=m["id"])
    assert {r["status"] for r in (await host.client(LIST, m=m["id"]))["recordings"]} == {"RECORDING"}

    # Closing the rooms stops theirs; the main room's runs on, then stops on its own.
    await host.client(CLOSE, m=m["id"], g=0)
    listed = by_room((await host.client(LIST, m=m["id"]))["recordings"])
    assert (listed["Design"]["status"], listed["Sales"]["status"], listed[None]["status"]) == (
        "STOPPED",
        "STOPPED",
        "RECORDING",
    )
    await host.client(STOP, m=m["id"])
    # Anyone who may read the meeting lists and reads every room's recording, as for the main one (Alice was
    # in Design only, and reads Sales's too).
    for who in (alice, bob):
        listed = by_room((await who.client(LIST, m=m["id"]))["recordings"])
        assert {k: r["status"] for k, r in listed.items()} == {None: "STOPPED", "Design": "STOPPED", "Sales": "STOPPED"}
    assert (await alice.client(ONE, id=listed["Sales"]["id"]))["recording"]["breakoutRoom"]["name"] == "Sales"
    outsider = await world.user("Otto")
    assert (await outsider.client.error(ONE, id=listed["Sales"]["id"])).code == "FORBIDDEN"
    # Hosts manage them like the main one; participants may not.
    assert (await alice.client.error(DELETE, id=listed["Sales"]["id"])).code == "FORBIDDEN"
    assert (await host.client(DELETE, id=listed["Sales"]["id"]))["deleteRecording"] == listed["Sales"]["id"]


async def test_recording_started_while_rooms_are_open_records_them_and_stopping_stops_all(world: World) -> None:
    host, _alice, _bob, m, (design, _sales) = await meeting_with_rooms(world)
    await host.client(OPEN, i={"meetingId": m["id"]})
    assert (await host.client(LIST, m=m["id"]))["recordings"] == []
    await host.client(START, m=m["id"])
    listed = by_room((await host.client(LIST, m=m["id"]))["recordings"])
    assert set(listed) == {None, "Design"}
    assert listed["Design"]["breakoutRoom"]["id"] == design["id"]
    await host.client(STOP, m=m["id"])
    assert {r["status"] for r in (await host.client(LIST, m=m["id"]))["recordings"]} == {"STOPPED"}
    # A second recording while the rooms are still open: the rooms get new recordings of their own.
    await host.client(START, m=m["id"])
    assert [
        r["breakoutRoom"]["name"] for r in (await host.client(LIST, m=m["id"]))["recordings"] if r["breakoutRoom"]
    ] == [
        "Design",
        "Design",
    ]


async def test_a_paused_recording_gives_rooms_opened_meanwhile_paused_recordings(world: World) -> None:
    host, _alice, _bob, m, _rooms = await meeting_with_rooms(world)
    await host.client(START, m=m["id"])
    await host.client(PAUSE, m=m["id"])
    await host.client(OPEN, i={"meetingId": m["id"]})
    listed = by_room((await host.client(LIST, m=m["id"]))["recordings"])
    assert listed["Design"]["status"] == "PAUSED" and listed["Design"]["recordedSeconds"] == 0


async def test_ending_the_meeting_stops_every_rooms_recording(world: World) -> None:
    host, _alice, _bob, m, _rooms = await meeting_with_rooms(world)
    await host.client(START, m=m["id"])
    await host.client(OPEN, i={"meetingId": m["id"]})
    await host.client(END, m=m["id"])
    listed = by_room((await host.client(LIST, m=m["id"]))["recordings"])
    assert {k: r["status"] for k, r in listed.items()} == {None: "STOPPED", "Design": "STOPPED"}


async def test_edges_learn_each_rooms_recording(server: RunningServer, world: World) -> None:
    host, _alice, bob, m, (design, sales) = await meeting_with_rooms(world)
    main = (await host.client(START, m=m["id"]))["startRecording"]
    async with feed(server.url, EDGE_SECRET) as ws:
        await ws.send(encode(Watch(m["id"])))
        state = await recv(ws)
        assert isinstance(state, MediaState) and state.recording_id == main["id"] and state.room_recordings == ()
        await host.client(OPEN, i={"meetingId": m["id"]})
        room = by_room((await host.client(LIST, m=m["id"]))["recordings"])["Design"]
        assert await recv(ws) == RecordingChanged(m["id"], room["id"], design["id"])
        await host.client(MOVE, p=bob.participant_id, r=sales["id"])
        sales_rec = by_room((await host.client(LIST, m=m["id"]))["recordings"])["Sales"]
        assert await recv(ws) == RecordingChanged(m["id"], sales_rec["id"], sales["id"])
        await host.client(PAUSE, m=m["id"])
        paused = {await recv(ws) for _ in range(3)}
        assert paused == {
            RecordingChanged(m["id"], None),
            RecordingChanged(m["id"], None, design["id"]),
            RecordingChanged(m["id"], None, sales["id"]),
        }
        await host.client(RESUME, m=m["id"])
        resumed = {await recv(ws) for _ in range(3)}
        assert RecordingChanged(m["id"], sales_rec["id"], sales["id"]) in resumed and len(resumed) == 3

    # An edge that starts watching now learns every room's recording at once.
    async with feed(server.url, EDGE_SECRET) as ws:
        await ws.send(encode(Watch(m["id"])))
        state = await recv(ws)
        assert isinstance(state, MediaState) and state.recording_id == main["id"]
        assert set(state.room_recordings) == {
            RoomRecording(design["id"], room["id"]),
            RoomRecording(sales["id"], sales_rec["id"]),
        }
        await host.client(CLOSE, m=m["id"], g=0)
        closed = set()
        while len(closed) < 2:  # the room's people coming back are participant events the edge is told too
            msg = await recv(ws)
            if isinstance(msg, RecordingChanged):
                closed.add(msg)
        assert closed == {RecordingChanged(m["id"], None, design["id"]), RecordingChanged(m["id"], None, sales["id"])}


# -- verify_action: the recording events replayed on the list before give a fresh query's answer -----------------

REPLAY_FIELDS = "id status breakoutRoom { id name }"
REPLAY_EVENTS = f"""subscription($m: ID!, $after: Int) {{ meetingEvents(meetingId: $m, afterSeq: $after) {{
  type seq ... on RecordingEvent {{ recording {{ {REPLAY_FIELDS} }} }} }} }}"""
REPLAY_LIST = f"query($m: ID!) {{ recordings(meetingId: $m) {{ {REPLAY_FIELDS} }} }}"


async def test_recording_events_replay_to_the_fresh_list(world: World) -> None:
    host, alice, bob, m, (_design, sales) = await meeting_with_rooms(world)
    before = {r["id"]: r for r in (await alice.client(REPLAY_LIST, m=m["id"]))["recordings"]}
    steps = [
        (START, {"m": m["id"]}),
        (OPEN, {"i": {"meetingId": m["id"]}}),
        (MOVE, {"p": bob.participant_id, "r": sales["id"]}),
        (PAUSE, {"m": m["id"]}),
        (RESUME, {"m": m["id"]}),
        (CLOSE, {"m": m["id"], "g": 0}),
        (OPEN, {"i": {"meetingId": m["id"]}}),  # a new opening: new room recordings
        (STOP, {"m": m["id"]}),
        (END, {"m": m["id"]}),
    ]
    async with host.client.subscribe(REPLAY_EVENTS, m=m["id"], after=await seq(host, m)) as sub:  # sees all
        state = dict(before)
        for query, variables in steps:
            await host.client(query, **variables)
            fresh = {r["id"]: r for r in (await host.client(REPLAY_LIST, m=m["id"]))["recordings"]}
            last = (await host.client("query($m: ID!) { meeting(id: $m) { eventSeq } }", m=m["id"]))["meeting"]
            # Everything up to the meeting's last event, folded in: a change without an event fails here.
            while True:
                item = await sub.next()
                assert item is not None
                e = item["meetingEvents"]
                if "recording" in e:
                    state[e["recording"]["id"]] = e["recording"]
                if e["seq"] >= last["eventSeq"]:
                    break
            assert state == fresh, (query, state, fresh)
    # The main one, Design and Sales in the first opening, Design again in the second (Bob has no planned room).
    assert len(state) == 4 and {r["status"] for r in state.values()} == {"STOPPED"}


async def test_breakout_changes_cost_one_look_up_while_nothing_records(server: RunningServer, world: World) -> None:
    # Every move between rooms asks whether a room needs a recording: while the meeting does not record, that is
    # one indexed SELECT of its open recordings and nothing else.
    host, _alice, bob, m, (_design, sales) = await meeting_with_rooms(world)
    await host.client(OPEN, i={"meetingId": m["id"]})
    with statements(server) as sql:
        await host.client(MOVE, p=bob.participant_id, r=sales["id"])
    idle, idle_total = [s for s in sql if "recordings" in s], len(sql)
    assert len(idle) == 1 and idle[0].startswith("SELECT"), idle
    await host.client(MOVE, p=bob.participant_id, r=None)
    await host.client(START, m=m["id"])
    with statements(server) as sql:
        await host.client(MOVE, p=bob.participant_id, r=sales["id"])
    busy = [s for s in sql if "recordings" in s or "breakout" in s]
    assert any(s.startswith("INSERT INTO recordings") for s in busy), busy  # Sales's recording began
    print(f"move between rooms: {idle_total} statements not recording (1 of them ours), {len(sql)} while recording")

"""Annotation documents (``annotate:<participantId>``, api/collab/access.py) over the real WebSocket: everyone in
the sharer's room draws, the sharer turns annotation off (the document lock) and the server refuses the others'
marks, meeting hosts may turn it back on, and a participant who is not in the meeting is NOT_FOUND."""

from __future__ import annotations

import asyncio
import json
import time

from pycrdt import Array, Map

from api.recordings.service import recording_dir
from protocol.screen_marks import FILE
from testkit.collab_peer import CollabPeer
from tests.conftest import RunningServer
from tests.support.world import Person, World, live_meeting


def peer(url: str, meeting: dict[str, str], who: Person, doc: str) -> CollabPeer:
    return CollabPeer(url, meeting["id"], doc, who.client.token)


async def lock(p: CollabPeer, locked: bool) -> None:
    assert p.ws is not None
    await p.ws.send(json.dumps({"type": "lock", "locked": locked}))


def strokes(p: CollabPeer) -> Array[Map]:
    return p.doc.get("strokes", type=Array)


async def test_the_sharer_turns_annotation_of_their_screen_off_for_everyone_else(
    world: World, server: RunningServer
) -> None:
    host, m = await live_meeting(world)
    sharer, _ = await world.join(None, m, name="Sharer")
    viewer, _ = await world.join(None, m, name="Viewer")
    doc = f"annotate:{sharer.participant_id}"

    async with peer(server.url, m, sharer, doc) as s, peer(server.url, m, viewer, doc) as v:
        # Everyone in the sharer's room draws; the sharer (not a meeting host) may turn annotation off.
        assert s.ready["writable"] is True and s.ready["host"] is True
        assert v.ready["writable"] is True and v.ready["host"] is False
        strokes(v).append(Map({"points": [[0.25, 0.5], [0.75, 0.5]]}))
        await s.wait_for(lambda: len(strokes(s)) == 1)
        await lock(v, True)  # a viewer may not turn it off
        await v.wait_for(lambda: any(c.get("code") == "FORBIDDEN" for c in v.control))
        await lock(s, True)
        await v.wait_for(lambda: {"type": "locked", "locked": True, "presenters": False} in v.control)
        strokes(v).append(Map({"points": [[0.1, 0.1]]}))
        await v.wait_for(lambda: bool(v.denied))
        assert v.denied[-1].startswith("locked")
        strokes(s).append(Map({"points": [[0.9, 0.9]]}))  # the sharer still draws
        await v.wait_for(lambda: len(strokes(v)) == 3)
    async with peer(server.url, m, host, doc) as h:
        await h.wait_for(lambda: len(strokes(h)) == 2)  # the refused mark never got in
        assert h.ready["host"] is True and h.ready["locked"] is True  # meeting hosts may turn it back on
        await lock(h, False)
        await h.wait_for(lambda: {"type": "locked", "locked": False, "presenters": False} in h.control)
    async with peer(server.url, m, viewer, "annotate:nobody") as gone:
        await gone.wait_for(lambda: gone.closed is not None)
    assert gone.closed is not None and gone.closed[0] == 4404 and gone.closed[1].startswith("NOT_FOUND")


async def test_marks_over_a_screen_in_a_breakout_room_are_for_that_room(world: World, server: RunningServer) -> None:
    host, m = await live_meeting(world)
    sharer, _ = await world.join(None, m, name="Sharer")
    outsider, _ = await world.join(None, m, name="Outsider")
    rooms = await host.client(
        "mutation($i: CreateBreakoutRoomsInput!) { createBreakoutRooms(input: $i) { rooms { id } } }",
        i={"meetingId": m["id"], "count": 2},
    )
    r1 = rooms["createBreakoutRooms"]["rooms"][0]["id"]
    await host.client(
        "mutation($i: AssignBreakoutRoomsInput!) { assignBreakoutRooms(input: $i) { status } }",
        i={"meetingId": m["id"], "assignments": [{"participantId": sharer.participant_id, "roomId": r1}]},
    )
    await host.client(
        "mutation($i: OpenBreakoutRoomsInput!) { openBreakoutRooms(input: $i) { status } }", i={"meetingId": m["id"]}
    )
    doc = f"annotate:{sharer.participant_id}"
    async with peer(server.url, m, sharer, doc) as s, peer(server.url, m, host, doc) as h:
        assert s.ready["writable"] is True and h.ready["writable"] is True
    async with peer(server.url, m, outsider, doc) as o:  # not in that room: the screen is not shown to them
        await o.wait_for(lambda: o.closed is not None)
    assert o.closed is not None and o.closed[0] == 4403


RECORDING = "mutation($m: ID!) { %s(meetingId: $m) { id status } }"


def events(server: RunningServer, recording_id: str) -> list[dict[str, object]]:
    path = recording_dir(server.app.state.services, recording_id) / FILE
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


async def test_marks_go_into_the_recording_capturing_the_shared_screen(world: World, server: RunningServer) -> None:
    host, m = await live_meeting(world)
    sharer, _ = await world.join(None, m, name="Sharer")
    viewer, _ = await world.join(None, m, name="Viewer")
    doc = f"annotate:{sharer.participant_id}"
    mark = {"color": "#d1242f", "size": 0.006, "points": [[0.25, 0.5], [0.75, 0.5]], "by": 7.0}
    async with peer(server.url, m, sharer, doc) as s, peer(server.url, m, viewer, doc) as v:
        strokes(v).append(Map({**mark, "points": [[0.1, 0.1]]}))  # before any recording: kept nowhere
        await s.wait_for(lambda: len(strokes(s)) == 1)
        rec = (await host.client(RECORDING % "startRecording", m=m["id"]))["startRecording"]["id"]
        t0 = time.time()
        strokes(v).append(Map(mark))
        await s.wait_for(lambda: len(strokes(s)) == 2)
        await asyncio.sleep(0.2)  # the file is appended off the event loop
        (added,) = events(server, rec)
        assert added["op"] == "add" and added["sharer"] == sharer.participant_id and added["mark"] == mark
        assert t0 - 0.5 <= float(added["at"]) <= time.time()  # wall clock, as the track captures
        # Cleared by its author (as when it fades): the same mark, removed.
        del strokes(v)[1]
        await s.wait_for(lambda: len(strokes(s)) == 1)
        await asyncio.sleep(0.2)
        assert [(e["op"], e["mark"]) for e in events(server, rec)] == [("add", mark), ("remove", mark)]
        # Paused: nothing is written (paused time is cut from the recording).
        await host.client(RECORDING % "pauseRecording", m=m["id"])
        strokes(s).append(Map({**mark, "color": "#0969da"}))
        await v.wait_for(lambda: len(strokes(v)) == 2)
        await asyncio.sleep(0.2)
        assert len(events(server, rec)) == 2
        await host.client(RECORDING % "stopRecording", m=m["id"])

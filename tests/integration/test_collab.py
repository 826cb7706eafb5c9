"""Shared documents over the real WebSocket (api/collab): pycrdt clients against the API on SQLite and
PostgreSQL, restarts, and two API processes sharing documents through a real Redis."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pycrdt import Array, Map, create_update_message
from sqlalchemy import func, select

from api.db import make_engine
from dbschema.collab import CollabDocument, CollabUpdate
from testkit.collab_peer import CollabPeer
from testkit.server import ApiProcess, running_api
from tests.conftest import RunningServer, make_settings
from tests.support.gql import Client
from tests.support.scaled import api_pair as running_pair
from tests.support.world import Person, World, live_meeting, seq

LEAVE = "mutation($m: ID!) { leaveMeeting(meetingId: $m) { state } }"
END = "mutation($m: ID!) { endMeeting(id: $m) { status } }"


def peer(url: str, meeting: dict[str, str], who: Person, doc: str = "notes") -> CollabPeer:
    return CollabPeer(url, meeting["id"], doc, who.client.token)


async def test_two_clients_sync_and_a_late_joiner_gets_everything(world: World, server: RunningServer) -> None:
    host, m = await live_meeting(world)
    guest, _ = await world.join(None, m, name="Ada")
    async with peer(server.url, m, host) as a, peer(server.url, m, guest) as b:
        assert a.ready == {
            "type": "ready",
            "writable": True,
            "name": "Host",
            "host": True,
            "presenter": False,
            "locked": False,
            "presenters": False,
        }
        assert b.ready["host"] is False and b.ready["writable"] is True
        a.text().insert(0, "hello ")
        await b.wait_for(lambda: str(b.text()) == "hello ")
        b.text().insert(6, "world")
        await a.wait_for(lambda: str(a.text()) == "hello world")
        # Concurrent edits at the same place converge to the same text on both.
        a.text().insert(0, "A")
        b.text().insert(0, "B")
        await a.wait_for(lambda: len(str(a.text())) == 13)
        await b.wait_for(lambda: str(b.text()) == str(a.text()))
        late_guest, _ = await world.join(None, m)
        async with peer(server.url, m, late_guest) as late:
            await late.wait_for(lambda: str(late.text()) == str(a.text()))


async def test_cursors_carry_the_authenticated_name_and_leave_with_the_connection(
    world: World, server: RunningServer
) -> None:
    host, m = await live_meeting(world)
    guest, _ = await world.join(None, m, name="Grace")
    async with peer(server.url, m, host, "board:main") as a:
        async with peer(server.url, m, guest, "board:main") as b:
            await b.set_cursor({"user": {"name": "The Host (really)", "color": "#f00"}, "cursor": {"x": 1, "y": 2}})
            cid = b.awareness.client_id
            await a.wait_for(lambda: cid in a.awareness.states)
            assert a.awareness.states[cid]["user"] == {"name": "Grace", "color": "#f00", "editor": True}
            # Nobody may move someone else's cursor: the server drops an update for a client id it did not see
            # from this connection.
            assert cid not in a.awareness.states or a.awareness.states[cid]["cursor"] == {"x": 1, "y": 2}
        await a.wait_for(lambda: cid not in a.awareness.states)


async def test_someone_who_left_may_watch_but_their_updates_are_refused(world: World, server: RunningServer) -> None:
    host, m = await live_meeting(world)
    guest, _ = await world.join(None, m, name="Leaver")
    await guest.client(LEAVE, m=m["id"])
    async with peer(server.url, m, host) as a, peer(server.url, m, guest) as viewer:
        assert viewer.ready["writable"] is False
        a.text().insert(0, "from the host")
        await viewer.wait_for(lambda: str(viewer.text()) == "from the host")
        viewer.text().insert(0, "vandal ")
        await viewer.wait_for(lambda: bool(viewer.denied))
        assert "read-only" in viewer.denied[0]
        # The refused update reached nobody: a fresh reader sees the host's text only.
        async with peer(server.url, m, host) as fresh:
            await fresh.wait_for(lambda: str(fresh.text()) == "from the host")
        assert str(a.text()) == "from the host"
        assert viewer.closed is None  # refused, not disconnected


async def test_after_the_meeting_ends_documents_are_read_only(world: World, server: RunningServer) -> None:
    host, m = await live_meeting(world)
    async with peer(server.url, m, host) as a:
        a.text().insert(0, "minutes")
        await asyncio.sleep(0)
    await host.client(END, m=m["id"])
    async with peer(server.url, m, host) as again:
        assert again.ready["writable"] is False
        await again.wait_for(lambda: str(again.text()) == "minutes")


async def test_refusals_close_with_codes(world: World, server: RunningServer) -> None:
    host, m = await live_meeting(world)
    stranger_host, other = await live_meeting(world)
    # A member of another meeting.
    async with peer(server.url, m, stranger_host) as p:
        await p.wait_for(lambda: p.closed is not None)
    assert p.closed is not None and p.closed[0] == 4403 and p.closed[1].startswith("FORBIDDEN")
    # No token, a bad token, a bad document name, an unknown meeting and an unknown breakout room.
    cases = [
        (m["id"], "notes", None, 4401),
        (m["id"], "notes", "not-a-token", 4401),
        (m["id"], "whiteboard", host.client.token, 4400),
        ("nosuchmeeting", "notes", host.client.token, 4404),
        (m["id"], "board:nosuchroom", host.client.token, 4404),
    ]
    for meeting_id, doc, token, code in cases:
        async with CollabPeer(server.url, meeting_id, doc, token) as p:
            await p.wait_for(lambda p=p: p.closed is not None)  # type: ignore[misc]
        assert p.closed is not None and p.closed[0] == code, (doc, token, p.closed)
    assert other["id"] != m["id"]


async def test_malformed_messages_close_with_bad_input(world: World, server: RunningServer) -> None:
    host, m = await live_meeting(world)
    for junk in (b"\x00\x02\x05abc", b"\x09", create_update_message(b"\x07\x07\x07\x07")):
        async with peer(server.url, m, host) as p:
            await p.send_raw(junk)
            await p.wait_for(lambda p=p: p.closed is not None)  # type: ignore[misc]
        assert p.closed is not None and p.closed[0] == 4400, (junk, p.closed)
    # The document still works for everyone else.
    async with peer(server.url, m, host) as ok:
        ok.text().insert(0, "fine")
        async with peer(server.url, m, host) as other:
            await other.wait_for(lambda: str(other.text()) == "fine")


async def test_a_reconnecting_client_merges_its_offline_edits(world: World, server: RunningServer) -> None:
    host, m = await live_meeting(world)
    guest, _ = await world.join(None, m)
    async with peer(server.url, m, host) as a:
        b = peer(server.url, m, guest)
        await b.connect()
        a.text().insert(0, "shared")
        await b.wait_for(lambda: str(b.text()) == "shared")
        await b.close()
        b.text().insert(6, " offline-edit")  # made while disconnected
        a.text().insert(0, "online ")
        await b.connect()
        await a.wait_for(lambda: "offline-edit" in str(a.text()))
        await b.wait_for(lambda: str(b.text()) == str(a.text()))
        assert str(a.text()) == "online shared offline-edit"
        await b.close()


async def test_a_breakout_rooms_board_is_for_its_members_and_hosts(world: World, server: RunningServer) -> None:
    host, m = await live_meeting(world)
    guest, _ = await world.join(None, m)
    rooms = await host.client(
        "mutation($i: CreateBreakoutRoomsInput!) { createBreakoutRooms(input: $i) { rooms { id } } }",
        i={"meetingId": m["id"], "count": 2},
    )
    r1, r2 = (r["id"] for r in rooms["createBreakoutRooms"]["rooms"])
    await host.client(
        "mutation($i: AssignBreakoutRoomsInput!) { assignBreakoutRooms(input: $i) { status } }",
        i={"meetingId": m["id"], "assignments": [{"participantId": guest.participant_id, "roomId": r1}]},
    )
    await host.client(
        "mutation($i: OpenBreakoutRoomsInput!) { openBreakoutRooms(input: $i) { status } }",
        i={"meetingId": m["id"]},
    )
    async with peer(server.url, m, guest, f"board:{r1}") as mine, peer(server.url, m, host, f"board:{r1}") as h:
        assert mine.ready["writable"] is True and h.ready["writable"] is True
        strokes = mine.doc.get("strokes", type=Array)
        strokes.append(Map({"kind": "pen", "points": [[0, 0], [5, 5]]}))
        await h.wait_for(lambda: len(h.doc.get("strokes", type=Array)) == 1)
    async with peer(server.url, m, guest, f"board:{r2}") as theirs:
        await theirs.wait_for(lambda: theirs.closed is not None)
    assert theirs.closed is not None and theirs.closed[0] == 4403
    async with peer(server.url, m, guest, "board:main") as main:
        assert main.ready["writable"] is False  # in a breakout room now: the main board is watched, not drawn on


@pytest.mark.parametrize("backend_name", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_a_restart_loses_nothing(backend_name: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue("pg_database") if backend_name == "postgres" else ""
    settings = make_settings(tmp_path, url, collab_compact_after=5)
    srv = RunningServer(settings)
    await srv.start()
    async with httpx.AsyncClient(timeout=30, trust_env=False) as http:
        world = World(Client(srv.url, http))
        host, m = await live_meeting(world)
        async with peer(srv.url, m, host) as a:
            for i in range(40):  # spread over several flushes, so compaction runs in between
                a.text().insert(len(str(a.text())), f"line {i}\n")
                if i % 8 == 0:
                    await asyncio.sleep(settings.collab_flush_ms / 1000 * 1.5)
            expected = str(a.text())
            async with peer(srv.url, m, host) as check:  # the server has applied everything
                await check.wait_for(lambda: str(check.text()) == expected)
        await srv.stop()  # a graceful stop stores what is pending
        engine = make_engine(settings.sqlalchemy_url)
        try:
            async with engine.connect() as conn:
                snapshots = (
                    await conn.execute(select(func.count()).where(CollabDocument.meeting_id == m["id"]))
                ).scalar_one()
        finally:
            await engine.dispose()
        assert snapshots == 1  # five batches stored (one per pause above): folded into a snapshot on the way
        srv2 = RunningServer(make_settings(tmp_path, url, port=settings.port))
        await srv2.start()
        try:
            async with peer(srv2.url, m, host) as b:
                await b.wait_for(lambda: str(b.text()) == expected)
        finally:
            await srv2.stop()


async def test_a_killed_api_loses_nothing_its_editors_still_hold(tmp_path: Path) -> None:
    # The API process is killed (SIGKILL: no graceful flush) while the last edits are not stored yet - they had
    # reached another participant, so people saw them. When the editors reconnect to the restarted API, their
    # documents hand the server what it lacks (Yjs sync step 2): nothing anyone saw is lost.
    data = tmp_path / "data"
    slow_flush = {"API_COLLAB_FLUSH_MS": "60000"}  # nothing reaches the database before the kill
    with running_api("meetmesh-collab-kill-", data_dir=data, extra_env=slow_flush) as first:
        async with httpx.AsyncClient(timeout=30, trust_env=False) as http:
            world = World(Client(first.url, http))
            host, m = await live_meeting(world)
            guest, _ = await world.join(None, m, name="Ada")
        a, b = peer(first.url, m, host), peer(first.url, m, guest)
        await a.connect()
        await b.connect()
        for i in range(30):
            a.text().insert(len(str(a.text())), f"line {i}\n")
        lines = "".join(f"line {i}\n" for i in range(30))
        await b.wait_for(lambda: str(b.text()) == lines)  # then B's heading goes before them, not beside
        b.text().insert(0, "# Minutes\n")
        expected = "# Minutes\n" + lines
        await a.wait_for(lambda: str(a.text()) == expected)
        await b.wait_for(lambda: str(b.text()) == expected)
        os.kill(first.pid, signal.SIGKILL)
        for p in (a, b):
            await p.wait_for(lambda p=p: p.closed is not None)  # type: ignore[misc]
    with running_api("meetmesh-collab-kill-", data_dir=data) as second:
        async with peer(second.url, m, host) as fresh:
            await fresh.wait_for(lambda: fresh.ready.get("type") == "ready")
            await asyncio.sleep(0.3)
            assert str(fresh.text()) == ""  # the kill did lose the server's copy ...
            for p in (a, b):
                p.url = f"{second.url.replace('http', 'ws', 1)}/collab/{m['id']}/notes"
                await p.connect()  # ... and the editors' documents bring it back
            await fresh.wait_for(lambda: str(fresh.text()) == expected)
            await a.close()
            await b.close()
        async with peer(second.url, m, guest) as later:  # and it is stored from there
            await later.wait_for(lambda: str(later.text()) == expected)


REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="module")
def api_pair(pg_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ApiProcess, ApiProcess]]:
    with running_pair(pg_database, tmp_path_factory.mktemp("collab-pair"), "collab") as pair:
        yield pair


@pytest.mark.postgres
async def test_two_api_processes_share_a_document_through_redis(api_pair: tuple[ApiProcess, ApiProcess]) -> None:
    a, b = api_pair
    async with httpx.AsyncClient(timeout=30, trust_env=False) as http:
        world = World(Client(a.url, http))
        host, m = await live_meeting(world)
        guest, _ = await world.join(None, m, name=f"G{secrets.token_hex(2)}")
        async with peer(a.url, m, host, "board:main") as on_a, peer(b.url, m, guest, "board:main") as on_b:
            on_a.text("title").insert(0, "from A")
            await on_b.wait_for(lambda: str(on_b.text("title")) == "from A")
            on_b.text("title").insert(6, " and B")
            await on_a.wait_for(lambda: str(on_a.text("title")) == "from A and B")
            await on_b.set_cursor({"cursor": {"x": 3, "y": 4}})
            await on_a.wait_for(lambda: on_b.awareness.client_id in on_a.awareness.states)
            # A late joiner on B right after an edit on A (not stored yet: the hello exchange covers it).
            on_a.text("title").insert(0, "> ")
            async with peer(b.url, m, host, "board:main") as late:
                await late.wait_for(lambda: str(late.text("title")) == "> from A and B")
            # A host's lock on A reaches the guest on B, whose edits B then refuses.
            assert on_a.ws is not None
            await on_a.ws.send(json.dumps({"type": "lock", "locked": True}))
            await on_b.wait_for(lambda: {"type": "locked", "locked": True, "presenters": False} in on_b.control)
            on_b.text("title").insert(0, "nope ")
            await on_b.wait_for(lambda: bool(on_b.denied))
            await on_a.ws.send(json.dumps({"type": "lock", "locked": False}))
            await on_b.wait_for(lambda: {"type": "locked", "locked": False, "presenters": False} in on_b.control)
        # Once both let go, a fresh open on either process comes from the database.
        await asyncio.sleep(1.0)
        async with peer(b.url, m, host, "board:main") as again:
            await again.wait_for(lambda: str(again.text("title")) == "> from A and B")


async def test_strokes_cost_no_meeting_event_and_are_stored_in_batches(world: World, server: RunningServer) -> None:
    host, m = await live_meeting(world)
    before = await seq(host, m)
    async with peer(server.url, m, host, "board:main") as a, peer(server.url, m, host, "board:main") as b:
        strokes = a.doc.get("strokes", type=Array)
        for i in range(100):
            strokes.append(Map({"kind": "pen", "points": [[i, i], [i + 1, i + 2]]}))
        await b.wait_for(lambda: len(b.doc.get("strokes", type=Array)) == 100)
        await asyncio.sleep(server.settings.collab_flush_ms / 1000 * 3)
    assert await seq(host, m) == before  # no event-log row, no sequence bump per stroke
    engine = make_engine(server.settings.sqlalchemy_url)
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(func.count()).where(CollabUpdate.meeting_id == m["id"], CollabUpdate.name == "board:main")
                )
            ).scalar_one()
            folded = (await conn.execute(select(func.count()).where(CollabDocument.meeting_id == m["id"]))).scalar_one()
    finally:
        await engine.dispose()
    # 100 updates in well under a second: a handful of flush batches (or one snapshot), never 100 rows.
    assert 1 <= rows + folded <= 20, (rows, folded)


async def test_floods_and_huge_messages_close_the_connection(world: World, server: RunningServer) -> None:
    host, m = await live_meeting(world)
    s = server.settings
    async with peer(server.url, m, host) as flood:
        for _ in range(s.collab_message_burst + 200):
            if flood.closed is not None:
                break
            try:
                await flood.send_raw(b"\x03")  # query-awareness: cheap to send, each one counts
            except Exception:
                break
        await flood.wait_for(lambda: flood.closed is not None)
    assert flood.closed is not None and flood.closed[0] == 4429 and flood.closed[1].startswith("RATE_LIMITED")
    async with peer(server.url, m, host) as huge:
        await huge.send_raw(create_update_message(b"\x00" * (s.collab_max_message_bytes + 1)))
        await huge.wait_for(lambda: huge.closed is not None)
    assert huge.closed is not None and huge.closed[0] == 1009


async def test_access_is_decided_again_while_connected(tmp_path: Path) -> None:
    srv = RunningServer(make_settings(tmp_path, collab_access_recheck_s=0.3))
    await srv.start()
    try:
        async with httpx.AsyncClient(timeout=30, trust_env=False) as http:
            world = World(Client(srv.url, http))
            host, m = await live_meeting(world)
            guest, _ = await world.join(None, m, name="Soon removed")
            other, _ = await world.join(None, m, name="Stays")
            async with peer(srv.url, m, guest) as removed, peer(srv.url, m, other) as stays:
                await host.client(
                    "mutation($p: ID!) { removeParticipant(participantId: $p) { state } }", p=guest.participant_id
                )
                await asyncio.sleep(0.5)
                removed.text().insert(0, "after removal")
                await removed.wait_for(lambda: removed.closed is not None)
                assert removed.closed is not None and removed.closed[0] == 4403
                # When the meeting ends, a connected editor is told it may now only watch, and is refused.
                await host.client(END, m=m["id"])
                await stays.wait_for(lambda: {"type": "access", "writable": False, "presenter": False} in stays.control)
                stays.text().insert(0, "too late")
                await stays.wait_for(lambda: bool(stays.denied))
            async with peer(srv.url, m, host) as check:
                await check.wait_for(lambda: check.ready.get("type") == "ready")
                await asyncio.sleep(0.3)
                assert str(check.text()) == ""  # neither the removed guest's nor the late edit got in
    finally:
        await srv.stop()


async def test_a_host_locks_a_board_for_everyone_but_hosts(world: World, server: RunningServer) -> None:
    host, m = await live_meeting(world)
    guest, _ = await world.join(None, m, name="Drawer")

    async def lock(p: CollabPeer, locked: bool) -> None:
        assert p.ws is not None
        await p.ws.send(json.dumps({"type": "lock", "locked": locked}))

    async with peer(server.url, m, host, "board:main") as h, peer(server.url, m, guest, "board:main") as g:
        assert h.ready["host"] is True and g.ready["host"] is False and g.ready["locked"] is False
        await lock(g, True)
        await g.wait_for(lambda: any(c.get("code") == "FORBIDDEN" for c in g.control))
        await lock(h, True)
        for p in (h, g):
            await p.wait_for(lambda p=p: {"type": "locked", "locked": True, "presenters": False} in p.control)  # type: ignore[misc]
        g.text("title").insert(0, "guest while locked")
        await g.wait_for(lambda: bool(g.denied))
        assert g.denied[-1].startswith("locked")
        h.text("other").insert(0, "host while locked")
        await g.wait_for(lambda: str(g.text("other")) == "host while locked")
    async with peer(server.url, m, guest, "board:main") as again, peer(server.url, m, host, "board:main") as h2:
        assert again.ready["locked"] is True  # stored: a reconnect (or another process) sees the lock
        await h2.wait_for(lambda: str(h2.text("other")) == "host while locked")  # synced
        assert str(h2.text("title")) == ""  # the guest's edit while locked never got in
        await lock(h2, False)
        await again.wait_for(lambda: {"type": "locked", "locked": False, "presenters": False} in again.control)
        again.text("title").insert(0, "unlocked")
        await h2.wait_for(lambda: str(h2.text("title")) == "unlocked")


MEDIA = "mutation($m: ID!, $i: UpdateMyMediaInput!) { updateMyMedia(meetingId: $m, input: $i) { sharing } }"


async def test_a_host_limits_a_board_to_hosts_and_presenters(world: World, server: RunningServer) -> None:
    # Presenters are the people sharing their screen now: they may draw on a board locked "for hosts and
    # presenters"; others may not. Starting or stopping a share is acted on at once (the meeting's events wake
    # the connection), not at the periodic access check (10 s here).
    assert server.settings.collab_access_recheck_s >= 10
    await _presenters_only(server, world)


async def _presenters_only(srv: RunningServer, world: World) -> None:
    host, m = await live_meeting(world)
    sharer, _ = await world.join(None, m, name="Presenter")
    watcher, _ = await world.join(None, m, name="Watcher")
    await sharer.client(MEDIA, m=m["id"], i={"sharing": True})

    async def send(p: CollabPeer, frame: dict[str, object]) -> None:
        assert p.ws is not None
        await p.ws.send(json.dumps(frame))

    async with (
        peer(srv.url, m, host, "board:main") as h,
        peer(srv.url, m, sharer, "board:main") as s,
        peer(srv.url, m, watcher, "board:main") as w,
    ):
        assert s.ready["presenter"] is True and w.ready["presenter"] is False and h.ready["presenter"] is False
        limited = {"type": "locked", "locked": True, "presenters": True}
        await send(h, {"type": "lock", "locked": True, "presenters": True})
        for p in (h, s, w):
            await p.wait_for(lambda p=p: limited in p.control)  # type: ignore[misc]
        s.text("by-presenter").insert(0, "drawn while presenting")
        await h.wait_for(lambda: str(h.text("by-presenter")) == "drawn while presenting")
        w.text("by-watcher").insert(0, "not a presenter")
        await w.wait_for(lambda: bool(w.denied))
        assert "hosts and presenters" in w.denied[-1]
        h.text("by-host").insert(0, "hosts always may")
        await s.wait_for(lambda: str(s.text("by-host")) == "hosts always may")
        # The presenter stops sharing: told so at once, and their next edit is refused.
        await sharer.client(MEDIA, m=m["id"], i={"sharing": False})
        await s.wait_for(lambda: {"type": "access", "writable": True, "presenter": False} in s.control, timeout=3)
        s.text("after").insert(0, "no longer presenting")
        await s.wait_for(lambda: bool(s.denied))
        # The watcher starts sharing: a presenter now, at once (on a new connection: the refused edit closed
        # the old one's right to edit until it opens the document again).
        async with peer(srv.url, m, watcher, "board:main") as w_again:
            await watcher.client(MEDIA, m=m["id"], i={"sharing": True})
            presenting = {"type": "access", "writable": True, "presenter": True}
            await w_again.wait_for(lambda: presenting in w_again.control, timeout=3)
            w_again.text("by-new-presenter").insert(0, "now presenting")
            await h.wait_for(lambda: str(h.text("by-new-presenter")) == "now presenting")
        # A lock frame that is not as documented closes the connection with BAD_INPUT.
        await send(h, {"type": "lock", "locked": True, "presenters": "yes"})
        await h.wait_for(lambda: h.closed is not None)
        assert h.closed is not None and h.closed[0] == 4400
    async with peer(srv.url, m, host, "board:main") as h2, peer(srv.url, m, watcher, "board:main") as w2:
        assert h2.ready["locked"] is True and h2.ready["presenters"] is True  # stored with the document
        assert str(h2.text("by-presenter")) == "drawn while presenting" and str(h2.text("by-watcher")) == ""
        assert str(h2.text("after")) == ""
        await send(h2, {"type": "lock", "locked": False, "presenters": True})  # unlocked: "presenters" means nothing
        await w2.wait_for(lambda: {"type": "locked", "locked": False, "presenters": False} in w2.control)
        w2.text("by-watcher").insert(0, "open again")
        await h2.wait_for(lambda: str(h2.text("by-watcher")) == "open again")

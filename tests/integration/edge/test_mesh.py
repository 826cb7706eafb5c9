"""A meeting across two real edges linked by the QUIC relay: the API tells each edge the other (``MeetingEdges``)
and signs their relay tokens; aiortc participants on both edges see and hear everyone; the trunk carries one copy
of each stream however many subscribers sit behind it; key frame requests cross the hop; a host mute holds on the
other edge too."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiortc.rtp import RtcpSrPacket
from websockets.asyncio.client import connect

from protocol.signalling import VideoSize, encode
from sfu.bandwidth import BandwidthEstimate
from sfu.room import TrackRef
from tests.conftest import RunningServer
from tests.support.edge import Client
from tests.support.gql import Client as GqlClient
from tests.support.gql import eventually
from tests.support.mesh import ToneClient, av_client, frames_from, mesh_api, mesh_edge, mesh_of, tone_client
from tests.support.simulcast import SIZES, SimulcastClient, vp8_layers
from tests.support.world import World, live_meeting

pytestmark = pytest.mark.timeout(90)

MUTE = "mutation($p: ID!) { muteParticipant(participantId: $p) { id } }"
REFRESH = "mutation($m: ID!) { refreshJoinToken(meetingId: $m) { token } }"


@pytest.fixture
async def api(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningServer]:
    srv = await mesh_api(tmp_path_factory)
    yield srv
    await srv.stop()


@pytest.fixture
async def world(api: RunningServer) -> AsyncIterator[World]:
    async with httpx.AsyncClient(timeout=30) as http:
        yield World(GqlClient(api.url, http))


async def test_a_meeting_spans_two_edges(api: RunningServer, world: World) -> None:
    host, m = await live_meeting(world)
    alice, alice_join = await world.join(await world.user("Alice"), m)
    bob, bob_join = await world.join(await world.user("Bob"), m)
    host_token = str((await host.client(REFRESH, m=m["id"]))["refreshJoinToken"]["token"])
    h, a, b = (str(p.participant_id) for p in (host, alice, bob))

    async with mesh_edge(api, "mesh-a", "eu") as edge_a, mesh_edge(api, "mesh-b", "us") as edge_b:
        mesh_a, mesh_b = mesh_of(edge_a), mesh_of(edge_b)
        assert edge_a.rooms is not None and edge_b.rooms is not None
        rooms_a, rooms_b = edge_a.rooms, edge_b.rooms
        # The host on edge A; Alice and Bob both on edge B (two subscribers behind one trunk).
        clients: list[Client] = []
        try:
            ch = await av_client(edge_a, host_token)
            clients.append(ch)
            ca = await av_client(edge_b, str(alice_join["joinToken"]["token"]))
            clients.append(ca)
            cb = await av_client(edge_b, str(bob_join["joinToken"]["token"]))
            clients.append(cb)
            where = {h: (rooms_a, ch), a: (rooms_b, ca), b: (rooms_b, cb)}

            def seen(listener: str, speaker: str, kind: str = "video") -> int:
                rooms, client = where[listener]
                return frames_from(rooms, m["id"], listener, speaker, kind, client)

            # Everyone decodes everyone else's video, across the trunk both ways and on the same edge.
            pairs = [(x, y) for x in (h, a, b) for y in (h, a, b) if x != y]
            await eventually(lambda: all(seen(x, y) >= 10 for x, y in pairs), 40)
            await eventually(lambda: all(seen(x, y, "audio") >= 10 for x, y in pairs), 10)

            # One copy per stream: the host's camera crossed to B once, for two subscribers there.
            (cam,) = [t for t in mesh_a.local.values() if t.ref.publisher_id == h and t.ref.kind == "video"]
            remote = mesh_b.remote[cam.track_id]
            assert mesh_a.node is not None
            before = (cam.relayed, mesh_a.node.copies_sent[(cam.track_id, "mesh-b")], remote.received)
            seen_before = (seen(a, h), seen(b, h))
            await asyncio.sleep(2.0)
            relayed = cam.relayed - before[0]
            sent = mesh_a.node.copies_sent[(cam.track_id, "mesh-b")] - before[1]
            received = remote.received - before[2]
            assert relayed > 20, relayed
            assert sent == relayed, (sent, relayed)  # each packet of the camera went to B exactly once
            assert abs(received - sent) <= 10, (received, sent)  # and arrived once (a few still in flight)
            assert seen(a, h) > seen_before[0] and seen(b, h) > seen_before[1]
            assert [k for k in mesh_a.node.copies_sent if k[0] == cam.track_id] == [(cam.track_id, "mesh-b")]
            # B holds one remote track per stream of the host, not one per subscriber.
            assert sorted(t.ref.kind for t in mesh_b.remote.values() if t.info.participant_id == h) == [
                "audio",
                "video",
            ]

            # A key frame request of a subscriber on B reaches the publisher's edge A, which asks the publisher.
            session_a = rooms_a.sessions[(m["id"], h)]
            published = next(p for p in session_a.published.values() if p.codec and "VP8" in p.codec.mimeType)
            asked_before, pli_before = mesh_a.keyframes_for_peers, published.keyframe_requests_sent
            await asyncio.sleep(1.0)  # past both edges' key frame request throttles
            receiver = next(
                t.receiver
                for t in ca.peer.pc.getTransceivers()
                if t.kind == "video"
                and t.receiver.track is not None
                and t.mid is not None
                and any(
                    k.publisher_id == h and tr.mid == t.mid
                    for k, (tr, _) in rooms_b.sessions[(m["id"], a)].subscribed.items()
                )
            )
            ssrc = next(iter(receiver._RTCRtpReceiver__remote_streams))  # type: ignore[attr-defined]
            await receiver._send_rtcp_pli(ssrc)
            await eventually(lambda: mesh_a.keyframes_for_peers > asked_before, 5)
            await eventually(lambda: published.keyframe_requests_sent > pli_before, 5)

            # Lip-sync across the hop (RFC 3550 section 6.4.1): B holds the publisher's NTP <-> RTP mapping as A
            # has it from the host's SRs (the pair A sends is extrapolated, so it lies on the same line), and the
            # SRs B sends Alice for the host's camera carry that mapping, not B's own clock.
            origin_clock, remote_clock = published.clock, remote.published.clock
            assert origin_clock is not None and remote_clock is not None

            def on_origin_line(pair: tuple[int, int] | None) -> bool:
                origin = origin_clock.reported
                if pair is None or origin is None:
                    return False
                expected = origin[1] + round((pair[0] - origin[0]) / 2**32 * 90_000)
                return abs(((pair[1] - expected + 2**31) % 2**32) - 2**31) <= 2

            await eventually(lambda: on_origin_line(remote_clock.reported), 6)
            ((_, alice_sub),) = [
                e
                for k, e in rooms_b.sessions[(m["id"], a)].subscribed.items()
                if isinstance(k, TrackRef) and k.publisher_id == h and k.kind == "video"
            ]
            reports: list[tuple[RtcpSrPacket, tuple[int, int] | None]] = []
            original_rtcp = receiver._handle_rtcp_packet

            async def capture(packet: Any) -> None:
                if isinstance(packet, RtcpSrPacket):
                    reports.append((packet, remote_clock.reported))
                await original_rtcp(packet)

            receiver._handle_rtcp_packet = capture  # type: ignore[method-assign]
            await eventually(lambda: len(reports) >= 2, 8)
            sr, pair = reports[-1]
            down_track = alice_sub.down_track
            assert pair is not None and down_track is not None
            expected_out = down_track.timestamp_out(
                round(pair[1] + (sr.sender_info.ntp_timestamp - pair[0]) / 2**32 * 90_000)
            )
            assert abs(((sr.sender_info.rtp_timestamp - expected_out + 2**31) % 2**32) - 2**31) <= 2

            # REMB across the hop: the host's camera has no subscriber on A; its REMB follows the downlinks of
            # Alice and Bob on B. Their REMBs are replaced by fixed rates (as links of that speed would report):
            # both fast, the publisher is asked for that; Alice slow, for Alice's rate; Alice recovering, for more
            # again (as fast as the loss-based controller climbs: 5 % a receiver report, draft-ietf-rmcat-gcc).
            class FixedLink(BandwidthEstimate):
                rate = 2_000_000.0

                def on_remb(self, bitrate_bps: float) -> None:
                    BandwidthEstimate.on_remb(self, self.rate)

            ((_, bob_sub),) = [
                e
                for k, e in rooms_b.sessions[(m["id"], b)].subscribed.items()
                if isinstance(k, TrackRef) and k.publisher_id == h and k.kind == "video"
            ]
            alice_link, bob_link = FixedLink(), FixedLink()
            alice_sub.estimate, bob_sub.estimate = alice_link, bob_link
            ceiling = published.publish_ceiling_bps
            await eventually(lambda: published.remote_limit_bps == 2_000_000 and published.remb_bps() == 2_000_000, 10)
            alice_link.rate = 400_000.0
            await eventually(lambda: published.remb_bps() == 400_000, 10)
            alice_link.rate = 10e6
            await eventually(lambda: 500_000 < (published.remb_bps() or 0) <= ceiling, 15)

            # The host mutes Alice (on B): her audio stops for the host on A and for Bob on B.
            await host.client(MUTE, p=a)
            await asyncio.sleep(0.8)
            stalled = (seen(h, a, "audio"), seen(b, a, "audio"), seen(h, b, "audio"))
            await asyncio.sleep(1.0)
            assert seen(h, a, "audio") == stalled[0], "muted audio crossed the trunk"
            assert seen(b, a, "audio") == stalled[1]
            assert seen(h, b, "audio") >= stalled[2] + 20, "Bob's audio must keep flowing to A"
        finally:
            for client in clients:
                await client.close()


async def test_every_edge_names_the_same_dominant_speaker(api: RunningServer, world: World) -> None:
    host, m = await live_meeting(world)
    alice, alice_join = await world.join(await world.user("Alice"), m)
    _bob, bob_join = await world.join(await world.user("Bob"), m)
    host_token = str((await host.client(REFRESH, m=m["id"]))["refreshJoinToken"]["token"])
    h, a = str(host.participant_id), str(alice.participant_id)

    async with mesh_edge(api, "mesh-a", "eu") as edge_a, mesh_edge(api, "mesh-b", "us") as edge_b:
        assert edge_a.rooms is not None and edge_b.rooms is not None
        rooms_a, rooms_b = edge_a.rooms, edge_b.rooms
        clients: list[ToneClient] = []
        try:
            ch = await tone_client(edge_a, host_token)
            clients.append(ch)
            ca = await tone_client(edge_b, str(alice_join["joinToken"]["token"]))
            clients.append(ca)
            clients.append(await tone_client(edge_b, str(bob_join["joinToken"]["token"])))

            def dominant() -> tuple[str | None, str | None]:
                la, lb = rooms_a.rooms.get((m["id"], None)), rooms_b.rooms.get((m["id"], None))
                return (la.speakers.dominant if la else None, lb.speakers.dominant if lb else None)

            # The host (on A) talks: B, whose own participants are silent, names the host too.
            ch.tone.amplitude = 0.8
            await eventually(lambda: dominant() == (h, h), 20)
            # Alice (on B) takes over: A names her, from levels that crossed the trunk.
            ch.tone.amplitude = 0.0
            ca.tone.amplitude = 0.8
            await eventually(lambda: dominant() == (a, a), 10)
            # One edge reports for the meeting: the API hears of each change once, not once per edge.
            assert mesh_of(edge_a).reports_speakers(m["id"]) != mesh_of(edge_b).reports_speakers(m["id"])
        finally:
            for client in clients:
                await client.close()


async def test_the_pulling_edge_asks_only_for_the_layers_its_subscribers_need(api: RunningServer, world: World) -> None:
    host, m = await live_meeting(world)
    viewer, viewer_join = await world.join(await world.user("Viewer"), m)
    host_token = str((await host.client(REFRESH, m=m["id"]))["refreshJoinToken"]["token"])
    layers = vp8_layers()  # encoded before any socket waits on them
    async with mesh_edge(api, "mesh-a", "eu") as edge_a, mesh_edge(api, "mesh-b", "us") as edge_b:
        mesh_b = mesh_of(edge_b)
        assert edge_b.rooms is not None
        publisher = SimulcastClient(await connect(edge_a.url), clips=layers)
        watcher: Client | None = None
        try:
            await publisher.start(host_token)  # three layers on edge A
            watcher = Client(await connect(edge_b.url))
            await watcher.start(str(viewer_join["joinToken"]["token"]))
            vid = str(viewer.participant_id)

            def size() -> tuple[int, int] | None:
                sizes = list(watcher.peer.frame_sizes.values()) if watcher else []
                return sizes[0] if sizes else None

            await eventually(lambda: size() is not None, 30)
            (cam,) = [t for t in mesh_b.remote.values() if t.ref.kind == "video"]
            session = edge_b.rooms.sessions[(m["id"], vid)]
            ((transceiver, _),) = [e for e in session.subscribed.values() if e[0].kind == "video"]
            assert transceiver.mid is not None

            # Shown at 160x90: the edge pulls the smallest layer and the one above it (so it could move up), never
            # the biggest.
            await watcher.ws.send(encode(VideoSize(mid=transceiver.mid, width=160, height=90)))
            # Settled: until the layers' sizes are known (from their key frames) the viewer's selector may try a
            # bigger one, and the edge pulls what it tries; from then on, for 1.5 s, only the two smallest.
            loop = asyncio.get_running_loop()
            since: list[float] = []

            def settled() -> bool:
                ok = (
                    size() == SIZES["q"]
                    and cam.wanted == frozenset({0, 1})
                    and all(x.height for x in cam.published.layers.values())
                )
                if not ok:
                    since.clear()
                    return False
                since[:] = since or [loop.time()]
                return loop.time() - since[0] >= 1.5

            await eventually(settled, 20)
            before = dict(cam.received_by_layer)
            await asyncio.sleep(2.0)
            assert cam.received_by_layer.get(2, 0) == before.get(2, 0), "the biggest layer crossed for nobody"
            assert cam.received_by_layer[0] > before[0]

            # Full screen: the biggest layer is pulled and shown.
            await watcher.ws.send(encode(VideoSize(mid=transceiver.mid, width=1920, height=1080)))
            await eventually(lambda: size() == SIZES["f"], 20)
            assert 2 in cam.wanted

            # A loss B's history cannot answer, on the biggest layer, reaches the publisher's edge with its layer,
            # and A asks the publisher for that layer's stream (its own sequence numbers).
            assert edge_a.rooms is not None
            mesh_a = mesh_of(edge_a)
            (origin,) = edge_a.rooms.sessions[(m["id"], str(host.participant_id))].published.values()
            assert origin.simulcast is not None
            layers_a = dict(origin.layers)
            big = layers_a[origin.simulcast.rids[2]]  # relay layer 2: the offer's third RID
            asked = (mesh_a.nacks_for_peers, big.nacks_sent, sum(x.nacks_sent for x in layers_a.values()))
            cam.published.layers["2"].request_retransmission([1234])
            await eventually(lambda: mesh_a.nacks_for_peers > asked[0], 5)
            await eventually(lambda: big.nacks_sent > asked[1], 5)
            assert sum(x.nacks_sent for x in layers_a.values()) == asked[2] + 1  # that layer only
        finally:
            if watcher is not None:
                await watcher.close()
            await publisher.close()


BREAKOUT_CREATE = "mutation($i: CreateBreakoutRoomsInput!) { createBreakoutRooms(input: $i) { rooms { id } } }"
BREAKOUT_ASSIGN = "mutation($i: AssignBreakoutRoomsInput!) { assignBreakoutRooms(input: $i) { status } }"
BREAKOUT_OPEN = "mutation($i: OpenBreakoutRoomsInput!) { openBreakoutRooms(input: $i) { status } }"


async def test_a_breakout_room_spans_edges_and_its_media_stays_in_it(api: RunningServer, world: World) -> None:
    # Alice (edge A) and Bob (edge B) in "Room 1"; the host (A) and Carol (B) stay in the main room. Each room's
    # members see each other across the trunk; no track crosses into the other room, on either edge.
    host, m = await live_meeting(world)
    alice, _ = await world.join(await world.user("Alice"), m)
    bob, _ = await world.join(await world.user("Bob"), m)
    carol, _ = await world.join(await world.user("Carol"), m)
    created = await host.client(BREAKOUT_CREATE, i={"meetingId": m["id"], "names": ["Room 1"]})
    room_id = created["createBreakoutRooms"]["rooms"][0]["id"]
    plan = [{"participantId": p.participant_id, "roomId": room_id} for p in (alice, bob)]
    await host.client(BREAKOUT_ASSIGN, i={"meetingId": m["id"], "assignments": plan})
    await host.client(BREAKOUT_OPEN, i={"meetingId": m["id"]})
    tokens = [str((await p.client(REFRESH, m=m["id"]))["refreshJoinToken"]["token"]) for p in (host, alice, bob, carol)]
    h, a, b, c = (str(p.participant_id) for p in (host, alice, bob, carol))

    async with mesh_edge(api, "mesh-a", "eu") as edge_a, mesh_edge(api, "mesh-b", "us") as edge_b:
        mesh_a, mesh_b = mesh_of(edge_a), mesh_of(edge_b)
        assert edge_a.rooms is not None and edge_b.rooms is not None
        rooms_a, rooms_b = edge_a.rooms, edge_b.rooms
        clients: list[Client] = []
        try:
            for edge, token in zip((edge_a, edge_a, edge_b, edge_b), tokens, strict=True):
                clients.append(await av_client(edge, token))
            ch, ca, cb, cc = clients
            where = {h: (rooms_a, ch), a: (rooms_a, ca), b: (rooms_b, cb), c: (rooms_b, cc)}

            def seen(listener: str, speaker: str, kind: str = "video") -> int:
                rooms, client = where[listener]
                return frames_from(rooms, m["id"], listener, speaker, kind, client)

            together = [(a, b), (b, a), (h, c), (c, h)]
            await eventually(lambda: all(seen(x, y) >= 10 and seen(x, y, "audio") >= 10 for x, y in together), 40)

            # Rooms on both edges: the main room and Room 1 each span A and B.
            assert {key[1] for key in rooms_a.rooms} == {None, room_id} == {key[1] for key in rooms_b.rooms}
            # Each remote track is offered in its own room only.
            for mesh in (mesh_a, mesh_b):
                for track in mesh.remote.values():
                    in_room = track.info.participant_id in (a, b)
                    assert track.info.room == (room_id if in_room else ""), track.info
            for rooms in (rooms_a, rooms_b):
                for (_meeting, room), live in rooms.rooms.items():
                    publishers = {t.publisher_id for t in live.policy.tracks}
                    assert publishers == ({a, b} if room == room_id else {h, c}), (room, publishers)
            # Nobody is subscribed to anyone in the other room, and nothing of theirs is decoded.
            others = {h: (a, b), c: (a, b), a: (h, c), b: (h, c)}
            for listener, strangers in others.items():
                session = where[listener][0].sessions[(m["id"], listener)]
                subscribed = {k.publisher_id for k in session.subscribed if isinstance(k, TrackRef)}
                assert not subscribed & set(strangers), (listener, subscribed)
                assert all(seen(listener, s, kind) == 0 for s in strangers for kind in ("audio", "video"))
            # Room 1's media crossed the trunk: Bob's camera reached A once, for Alice.
            (bob_cam,) = [t for t in mesh_b.local.values() if t.ref.publisher_id == b and t.ref.kind == "video"]
            assert bob_cam.room == room_id
            assert mesh_b.node is not None and mesh_b.node.copies_sent[(bob_cam.track_id, "mesh-a")] > 10
        finally:
            for client in clients:
                await client.close()


async def test_past_the_top_audio_threshold_every_edge_forwards_the_same_loudest_speaker(
    api: RunningServer, world: World
) -> None:
    # Four people, two on each edge, in a meeting past the threshold (3) with one speaker heard (top 1): each edge
    # holds only two of them, so it must count the meeting (the API's size), and rank the speakers from every
    # microphone, its own and those crossing the trunk, to forward what one edge would.
    host, m = await live_meeting(world)
    people = [host] + [(await world.join(await world.user(n), m))[0] for n in ("Alice", "Bob", "Carol")]
    tokens = [str((await p.client(REFRESH, m=m["id"]))["refreshJoinToken"]["token"]) for p in people]
    h, a, b, c = (str(p.participant_id) for p in people)
    small = {"top_audio_threshold": 3, "top_audio_n": 1}
    async with (
        mesh_edge(api, "mesh-a", "eu", **small) as edge_a,
        mesh_edge(api, "mesh-b", "us", **small) as edge_b,
    ):
        assert edge_a.rooms is not None and edge_b.rooms is not None
        rooms_of = {h: edge_a.rooms, a: edge_a.rooms, b: edge_b.rooms, c: edge_b.rooms}
        clients: list[ToneClient] = []
        try:
            for pid, token in zip((h, a, b, c), tokens, strict=True):
                clients.append(await tone_client(edge_a if rooms_of[pid] is edge_a.rooms else edge_b, token))
            tones = dict(zip((h, a, b, c), clients, strict=True))

            def heard(listener: str) -> set[str]:
                session = rooms_of[listener].sessions.get((m["id"], listener))
                subscribed = session.subscribed if session is not None else {}
                return {k.publisher_id for k in subscribed if isinstance(k, TrackRef) and k.kind == "audio"}

            def everyone_hears(speaker: str) -> bool:
                return all(heard(x) == {speaker} for x in (h, a, b, c) if x != speaker)

            # The host (edge A) talks: everybody else, on both edges, hears the host and only the host.
            tones[h].tone.amplitude = 0.8
            await eventually(lambda: everyone_hears(h), 25)
            # Carol (edge B) takes over: A's members switch to her too, from levels that crossed the trunk.
            tones[h].tone.amplitude = 0.0
            tones[c].tone.amplitude = 0.8
            await eventually(lambda: everyone_hears(c), 20)
        finally:
            for client in clients:
                await client.close()

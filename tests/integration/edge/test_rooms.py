"""Rooms end to end: the real API issues join tokens, the edge (``edge.app.build_edge``)
runs under uvicorn on loopback, and three synthetic aiortc participants publish VP8 over the signalling socket
and decode each other's video through the edge."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest
from aiortc import RTCSessionDescription
from websockets.asyncio.client import connect

from edge import session as edge_session
from edge.codecs import prefer_codec
from edge.synthetic import encode_vp8_clip
from protocol.signalling import Answer, Join, Joined, Offer, TrackInfo, VideoSize, encode, parse_edge_message
from tests.conftest import RunningServer
from tests.support.edge import Client, rooms_edge
from tests.support.gql import eventually
from tests.support.media import CodecSpy, ToneTrack
from tests.support.world import World

pytestmark = pytest.mark.timeout(30)


def video_counts(client: Client) -> dict[str, int]:
    return dict(client.peer.frames_by_track)


async def test_three_participants_receive_each_other_and_a_leaver_stops(
    server: RunningServer,
    world: World,
    codec_spy: CodecSpy,
) -> None:
    host = await world.user()
    meeting = await world.meeting(host)
    people = [host, await world.user(), await world.user()]
    tokens = []
    for person in people:
        _, data = await world.join(person, meeting)
        assert data["status"] == "ADMITTED", data
        tokens.append(str(data["joinToken"]["token"]))

    async with rooms_edge(server) as (edge, rooms):
        clients = [Client(await connect(edge.url)) for _ in tokens]
        try:
            for client, token in zip(clients, tokens, strict=True):
                await client.start(token)
            # Each decodes a rising number of frames from both others. (A liveness bound, not a speed test: a CI
            # run on a host-contended VM once needed more than 15 s for three aiortc peers to decode 5 frames each.)
            try:
                await eventually(
                    lambda: all(
                        len(c.peer.frames_by_track) == 2 and min(c.peer.frames_by_track.values()) >= 5 for c in clients
                    ),
                    timeout=30,
                )
            except AssertionError:
                raise AssertionError(f"frames decoded per client: {[video_counts(c) for c in clients]}") from None
            before = [video_counts(c) for c in clients]
            await eventually(
                lambda: all(
                    all(n >= before[i][t] + 5 for t, n in video_counts(c).items()) for i, c in enumerate(clients)
                ),
                timeout=5,
            )
            # The edge neither decoded nor encoded: decoders only in the clients (2 each), encoders only for the
            # clients' packetizers (1 each).
            client_pcs = {id(t.sender) for c in clients for t in c.peer.pc.getTransceivers()}
            assert all(id(s) in client_pcs for s in codec_spy.encoder_senders)
            for session in rooms.sessions.values():
                for published in session.published.values():
                    assert codec_spy.decoders_for(published.receiver) == 0
                    assert published.not_forwarded == 0
            assert len(codec_spy.decoder_threads) == 6

            # The third leaves: the other two stop receiving its track but keep receiving each other.
            leaver = clients.pop()
            await leaver.close()
            await asyncio.sleep(1.0)  # let in-flight packets drain
            stalled = [video_counts(c) for c in clients]
            await asyncio.sleep(1.0)
            after = [video_counts(c) for c in clients]
            for s, a in zip(stalled, after, strict=True):
                rising = [t for t in a if a[t] > s[t]]
                assert len(rising) == 1, (s, a)
            assert all(not c.errors for c in clients), [c.errors for c in clients]
            assert len(rooms.sessions) == 2
        finally:
            await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)


async def _joined(client: Client, token: str) -> None:
    """``join`` and its ``joined``, without offering yet: the moment between the two is what is tested."""
    await client.ws.send(encode(Join(token=token)))
    assert isinstance(parse_edge_message(await asyncio.wait_for(client.ws.recv(), 5)), Joined)


async def _offer(client: Client) -> None:
    client.peer.publish(encode_vp8_clip(frames=30, fps=15, gop=15))
    await client.peer.pc.setLocalDescription(await client.peer.pc.createOffer())
    await client.ws.send(encode(Offer(sdp=client.peer.pc.localDescription.sdp)))
    client._reader = asyncio.create_task(client._read())


@pytest.mark.parametrize("order", ["join before the first offer", "leave before the first offer"])
async def test_a_joined_participant_keeps_its_room_until_it_offers(
    server: RunningServer, world: World, order: str
) -> None:
    # The room is the meeting's media, not its publishers: someone who was told `joined` but has not offered
    # yet (a browser still asking for its camera) is in it. Another participant's arrival or departure in that
    # moment must not close the room under them, or their offer finds no room and media never flows.
    host = await world.user()
    meeting = await world.meeting(host)
    tokens = []
    for person in (host, await world.user(), await world.user()):
        _, data = await world.join(person, meeting)
        tokens.append(str(data["joinToken"]["token"]))
    async with rooms_edge(server) as (edge, rooms):
        first, second = Client(await connect(edge.url)), Client(await connect(edge.url))
        passer = Client(await connect(edge.url))
        try:
            if order == "leave before the first offer":
                await passer.start(tokens[2])
            await _joined(first, tokens[0])
            await eventually(lambda: len(rooms.rooms) == 1, timeout=5)
            room = next(iter(rooms.rooms.values()))
            await _joined(second, tokens[1])
            if order == "leave before the first offer":
                await passer.close()
            await eventually(lambda: len(rooms.sessions) == 2, timeout=5)
            assert list(rooms.rooms.values()) == [room], "the room was closed under a joined participant"
            await _offer(first)
            await _offer(second)
            try:
                await eventually(
                    lambda: all(sum(c.peer.frames_by_track.values()) >= 5 for c in (first, second)), timeout=20
                )
            except AssertionError:
                raise AssertionError(
                    f"frames decoded: {video_counts(first)}, {video_counts(second)}; rooms: {list(rooms.rooms)}"
                ) from None
            assert not first.errors and not second.errors, (first.errors, second.errors)
        finally:
            await asyncio.gather(first.close(), second.close(), passer.close(), return_exceptions=True)


class DeafOnce(Client):
    """Ignores the edge's first offer (as a client stalled in a slow tab might): the negotiation times out."""

    ignored = 0

    async def _read(self) -> None:
        pc = self.peer.pc
        async for text in self.ws:
            msg = parse_edge_message(text)
            if isinstance(msg, Answer):
                await pc.setRemoteDescription(RTCSessionDescription(sdp=msg.sdp, type="answer"))
            elif isinstance(msg, Offer) and not self.ignored:
                self.ignored += 1
            elif isinstance(msg, Offer):
                await pc.setRemoteDescription(RTCSessionDescription(sdp=msg.sdp, type="offer"))
                await pc.setLocalDescription(await pc.createAnswer())
                await self.ws.send(encode(Answer(sdp=pc.localDescription.sdp)))


async def test_a_failed_negotiation_is_retried_so_nobody_stays_without_a_track(
    server: RunningServer, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(edge_session, "NEGOTIATION_TIMEOUT_S", 1.5)
    host = await world.user()
    meeting = await world.meeting(host)
    tokens = []
    for person in (host, await world.user()):
        _, data = await world.join(person, meeting)
        tokens.append(str(data["joinToken"]["token"]))
    async with rooms_edge(server) as (edge, _rooms):
        first, deaf = Client(await connect(edge.url)), DeafOnce(await connect(edge.url))
        try:
            await first.start(tokens[0])
            await deaf.start(tokens[1])
            # The first offer carrying `first`'s camera goes unanswered and times out; the edge offers it again.
            await eventually(lambda: deaf.ignored == 1, timeout=10)
            await eventually(lambda: sum(deaf.peer.frames_by_track.values()) >= 5, timeout=15)
            await eventually(lambda: sum(first.peer.frames_by_track.values()) >= 5, timeout=10)
        finally:
            await asyncio.gather(first.close(), deaf.close(), return_exceptions=True)


@dataclass(eq=False)
class SpeakingClient(Client):
    """Publishes a camera (a clip of its own size, to tell whose picture arrives) and a tone it can turn up."""

    size: tuple[int, int] = (320, 240)
    voice: ToneTrack = field(default_factory=lambda: ToneTrack(amplitude=0.0))

    async def start(self, token: str) -> None:
        await self.ws.send(encode(Join(token=token)))
        assert isinstance(parse_edge_message(await asyncio.wait_for(self.ws.recv(), 5)), Joined)
        width, height = self.size
        self.peer.publish(encode_vp8_clip(frames=30, fps=15, width=width, height=height, gop=15))
        prefer_codec(self.peer.pc.addTransceiver(self.voice, direction="sendonly"), "audio/opus")
        await self.peer.pc.setLocalDescription(await self.peer.pc.createOffer())
        await self.ws.send(encode(Offer(sdp=self.peer.pc.localDescription.sdp)))
        self._reader = asyncio.create_task(self._read())


async def test_a_last_n_swap_moves_the_sender_to_the_new_speaker_without_renegotiating(
    server: RunningServer, world: World
) -> None:
    host = await world.user()
    meeting = await world.meeting(host)
    people = [host, await world.user(), await world.user()]
    tokens = []
    for person in people:
        _, data = await world.join(person, meeting)
        tokens.append(str(data["joinToken"]["token"]))
    async with rooms_edge(server, last_n=1) as (edge, rooms):
        ada = SpeakingClient(await connect(edge.url), size=(320, 240), voice=ToneTrack(amplitude=0.5))
        bob = SpeakingClient(await connect(edge.url), size=(160, 120))
        cleo = SpeakingClient(await connect(edge.url), size=(192, 144))
        clients = [ada, bob, cleo]
        try:
            for client, token in zip(clients, tokens, strict=True):
                await client.start(token)
            pids = {c: pid for c, (_, pid) in zip(clients, rooms.sessions, strict=True)}
            session = rooms.sessions[(meeting["id"], pids[cleo])]

            def cleo_sees() -> set[tuple[int, int]]:
                return set(cleo.peer.frame_sizes.values())  # one camera (last-N is 1): one remote video track

            # Ada speaks: Cleo's one camera slot shows Ada.
            await eventually(lambda: cleo_sees() == {(320, 240)}, timeout=15)
            await eventually(lambda: all(c.peer.pc.signalingState == "stable" for c in clients))
            offers = cleo.offers
            cameras = [(m, i) for m, i in session.track_info().items() if i.source == "camera"]
            ((mid, info),) = cameras
            assert info.participant_id == pids[ada]

            # Ada stops, Bob speaks: the same sender now carries Bob's camera; Cleo is told so, with no offer.
            ada.voice.amplitude, bob.voice.amplitude = 0.0, 0.5
            await eventually(lambda: cleo_sees() == {(160, 120)}, timeout=15)
            assert cleo.relabels, "no tracks message"
            assert cleo.relabels[-1].tracks[mid] == TrackInfo(source="camera", participant_id=pids[bob])
            assert cleo.offers == offers
            before = cleo.peer.frames_received["video"]
            await eventually(lambda: cleo.peer.frames_received["video"] >= before + 10, timeout=5)
            assert cleo_sees() == {(160, 120)}
            assert not cleo.errors
        finally:
            await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)


async def test_a_video_the_viewer_does_not_show_is_not_sent_until_shown_again(
    server: RunningServer,
    world: World,
) -> None:
    # A whole-track (not simulcast) video: a tile on another gallery page costs nothing; shown again, it resumes
    # from a key frame with its sequence numbers continuing (simulcast: test_simulcast).
    host = await world.user()
    meeting = await world.meeting(host)
    joins = [(await world.join(p, meeting))[1] for p in (host, await world.user())]
    tokens = [str(j["joinToken"]["token"]) for j in joins]
    async with rooms_edge(server) as (edge, rooms):
        publisher, viewer = Client(await connect(edge.url)), Client(await connect(edge.url))
        try:
            await publisher.start(tokens[0])
            await viewer.start(tokens[1])
            await eventually(lambda: sum(viewer.peer.frames_by_track.values()) >= 5, timeout=20)
            session = rooms.sessions[(str(meeting["id"]), str(joins[1]["participant"]["id"]))]
            ((transceiver, subscribed),) = [v for v in session.subscribed.values() if v[0].kind == "video"]
            down_track = subscribed.down_track
            assert down_track is not None and subscribed.group is None
            await viewer.ws.send(encode(VideoSize(mid=transceiver.mid, width=0, height=0)))
            await eventually(lambda: subscribed.hidden, timeout=5)
            sent, frames = down_track.packets, sum(viewer.peer.frames_by_track.values())
            await asyncio.sleep(1.0)
            assert down_track.packets == sent
            assert sum(viewer.peer.frames_by_track.values()) <= frames + 1
            seq_at_hide = down_track.last_sent[0]
            await viewer.ws.send(encode(VideoSize(mid=transceiver.mid, width=640, height=360)))
            await eventually(lambda: sum(viewer.peer.frames_by_track.values()) >= frames + 5, timeout=10)
            assert not subscribed.hidden and down_track.packets > sent
            # No hole for the viewer to NACK: one sequence number per packet sent, across the hidden time.
            assert (down_track.last_sent[0] - seq_at_hide) % 65536 == down_track.packets - sent
            assert not viewer.errors, viewer.errors
        finally:
            await asyncio.gather(publisher.close(), viewer.close(), return_exceptions=True)

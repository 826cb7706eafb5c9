"""Host controls bind media: the real API's control feed tells the real edge, which stops forwarding a muted
participant's audio (whatever its client does), disconnects a removed one and refuses its old token, and
closes everyone when the meeting ends. Synthetic aiortc participants publish Opus through the edge."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from edge.control import ControlFeed
from edge.rooms import Rooms
from edge.synthetic import encode_opus_clip
from protocol.media_control import FEED_PATH, ParticipantMedia
from protocol.signalling import Join, Joined, Offer, encode, parse_edge_message
from sfu.room import TrackRef
from tests.conftest import EDGE_SECRET, RunningServer, _free_port
from tests.support.edge import Client, RunningEdge, running_edge
from tests.support.gql import eventually
from tests.support.world import Person, World, live_meeting

pytestmark = pytest.mark.timeout(60)

MUTE = "mutation($p: ID!) { muteParticipant(participantId: $p) { id } }"
UNMUTE_SELF = "mutation($m: ID!) { updateMyMedia(meetingId: $m, input: {audioMuted: false}) { id } }"
REMOVE = "mutation($p: ID!) { removeParticipant(participantId: $p, block: true) { id } }"
END = "mutation($m: ID!) { endMeeting(id: $m) { id } }"
REFRESH = "mutation($m: ID!) { refreshJoinToken(meetingId: $m) { token } }"


@contextlib.asynccontextmanager
async def policed_edge(api: RunningServer) -> AsyncIterator[tuple[RunningEdge, Rooms, ControlFeed]]:
    """The edge as ``python -m edge`` builds it: rooms plus the control feed to the API."""
    async with running_edge(api, control_secret=EDGE_SECRET) as edge:
        assert edge.settings.control_feed_url == api.url.replace("http", "ws", 1) + FEED_PATH
        assert edge.rooms is not None and edge.control is not None
        yield edge, edge.rooms, edge.control


class AudioClient(Client):
    """Publishes an Opus tone instead of video."""

    async def start(self, token: str) -> None:
        await self.ws.send(encode(Join(token=token)))
        assert isinstance(parse_edge_message(await asyncio.wait_for(self.ws.recv(), 5)), Joined)
        self.peer.publish(encode_opus_clip(frames=50))
        await self.peer.pc.setLocalDescription(await self.peer.pc.createOffer())
        await self.ws.send(encode(Offer(sdp=self.peer.pc.localDescription.sdp)))
        self._reader = asyncio.create_task(self._read())

    async def closed(self, timeout: float = 5) -> int | None:
        """The close code the edge ended this session with (waits for the reader to see the close)."""
        assert self._reader is not None
        with contextlib.suppress(ConnectionClosed):  # the reader ends with the close it saw
            await asyncio.wait_for(asyncio.shield(self._reader), timeout)
        return self.ws.close_code


def audio_from(rooms: Rooms, meeting_id: str, listener: str, speaker: str, client: Client) -> int:
    """Audio frames ``client`` (``listener``) decoded from ``speaker``'s track, matched through the edge's mid."""
    session = rooms.sessions.get((meeting_id, listener))
    if session is None:
        return 0
    for key, (transceiver, _) in session.subscribed.items():
        if isinstance(key, TrackRef) and key.publisher_id == speaker and key.kind == "audio":
            for t in client.peer.pc.getTransceivers():
                if t.mid == transceiver.mid and t.receiver.track is not None:
                    return client.peer.frames_by_track.get(t.receiver.track.id, 0)
    return 0


async def refused_with(ws: ClientConnection, timeout: float = 5) -> int | None:
    with contextlib.suppress(ConnectionClosed):
        while True:
            await asyncio.wait_for(ws.recv(), timeout)
    return ws.close_code


async def test_mute_remove_and_end_bind_media(server: RunningServer, world: World) -> None:
    host, m = await live_meeting(world, allowSelfUnmute=True)
    alice, alice_join = await world.join(await world.user("Alice"), m)
    bob, bob_join = await world.join(await world.user("Bob"), m)
    host_token = str(
        (await host.client("mutation($m: ID!) { refreshJoinToken(meetingId: $m) { token } }", m=m["id"]))[
            "refreshJoinToken"
        ]["token"]
    )
    people: list[tuple[Person, str]] = [
        (host, host_token),
        (alice, str(alice_join["joinToken"]["token"])),
        (bob, str(bob_join["joinToken"]["token"])),
    ]
    ids = [str(p.participant_id) for p, _ in people]
    h, a, b = ids

    async with policed_edge(server) as (edge, rooms, _control):
        clients = [AudioClient(await connect(edge.url)) for _ in people]
        try:
            for client, (_, token) in zip(clients, people, strict=True):
                await client.start(token)
            ch, ca, cb = clients

            def heard(listener: str, speaker: str, client: Client) -> int:
                return audio_from(rooms, m["id"], listener, speaker, client)

            await eventually(lambda: heard(b, a, cb) >= 10 and heard(b, h, cb) >= 10 and heard(h, a, ch) >= 10, 15)

            # Muted by the host: Alice's client keeps sending, but nobody receives her audio any more.
            await host.client(MUTE, p=a)
            await asyncio.sleep(0.6)  # the feed's hop plus packets already in flight
            stalled = (heard(b, a, cb), heard(h, a, ch), heard(b, h, cb))
            await asyncio.sleep(1.0)
            assert heard(b, a, cb) == stalled[0] and heard(h, a, ch) == stalled[1], "muted audio was forwarded"
            assert heard(b, h, cb) >= stalled[2] + 20, "the host's own audio must keep flowing"
            assert ca.peer.published[0].sent > 0

            # She unmutes herself (allowed here): her audio flows again.
            await alice.client(UNMUTE_SELF, m=m["id"])
            await eventually(lambda: heard(b, a, cb) >= stalled[0] + 10, 5)

            # Removed: Bob's socket closes with 4403, and his still-valid token no longer gets him in.
            await host.client(REMOVE, p=b)
            assert await cb.closed() == 4403
            async with connect(edge.url) as again:
                await again.send(encode(Join(token=people[2][1])))
                assert await refused_with(again) == 4403
            await eventually(lambda: (m["id"], b) not in rooms.sessions, 5)

            # Ended: everyone still there is closed with 4410.
            await host.client(END, m=m["id"])
            assert await ch.closed() == 4410
            assert await ca.closed() == 4410
            await eventually(lambda: not rooms.sessions and m["id"] not in rooms.enforced, 5)
        finally:
            await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)


async def answer_to_join(edge_url: str, token: str, timeout: float = 8) -> tuple[list[str], int | None]:
    """Join with ``token``; every message type the edge sent, and its close code (None: still open)."""
    seen: list[str] = []
    async with connect(edge_url) as ws:
        await ws.send(encode(Join(token=token)))
        with contextlib.suppress(ConnectionClosed, TimeoutError):
            while True:
                seen.append(parse_edge_message(await asyncio.wait_for(ws.recv(), timeout)).TYPE)
        return seen, ws.close_code


async def test_a_removed_participant_is_refused_before_joined(server: RunningServer, world: World) -> None:
    host, m = await live_meeting(world)
    bob, joined = await world.join(await world.user("Bob"), m)
    token = str(joined["joinToken"]["token"])
    async with policed_edge(server) as (edge, rooms, _control):
        async with connect(edge.url) as ws:
            await ws.send(encode(Join(token=token)))
            assert isinstance(parse_edge_message(await asyncio.wait_for(ws.recv(), 5)), Joined)
            await host.client(REMOVE, p=bob.participant_id)
            assert await refused_with(ws) == 4403
        # Watched meeting, removal learned from the feed: the old token gets no `joined`, only the close.
        assert await answer_to_join(edge.url, token) == ([], 4403)
        assert (m["id"], bob.participant_id) not in rooms.sessions

    # An edge started after the removal (a restart, another edge) learns it from the meeting's mediaState.
    async with policed_edge(server) as (edge, _rooms, _control):
        assert await answer_to_join(edge.url, token) == ([], 4403)


async def test_removal_missed_while_the_feed_was_down_is_refused_after_it_reconnects(
    server: RunningServer, world: World
) -> None:
    host, m = await live_meeting(world)
    host_token = str(
        (await host.client("mutation($m: ID!) { refreshJoinToken(meetingId: $m) { token } }", m=m["id"]))[
            "refreshJoinToken"
        ]["token"]
    )
    bob, joined = await world.join(await world.user("Bob"), m)
    async with policed_edge(server) as (edge, rooms, control):
        async with connect(edge.url) as host_ws:  # the host keeps the meeting watched on this edge
            await host_ws.send(encode(Join(token=host_token)))
            assert isinstance(parse_edge_message(await asyncio.wait_for(host_ws.recv(), 5)), Joined)
            await eventually(lambda: m["id"] in rooms.enforced, 5)
            # Cut the feed and keep it cut while the host removes Bob: the edge misses the event.
            real_url, control.url = control.url, f"ws://127.0.0.1:{_free_port()}/nowhere"
            assert control._ws is not None
            await control._ws.close()
            await eventually(lambda: not control.connected.is_set(), 5)
            await host.client(REMOVE, p=bob.participant_id)
            control.url = real_url
            await asyncio.wait_for(control.connected.wait(), 15)
            assert await answer_to_join(edge.url, str(joined["joinToken"]["token"])) == ([], 4403)


async def test_an_edge_remembers_removals_while_it_cannot_reach_the_api(server: RunningServer, world: World) -> None:
    host, m = await live_meeting(world)
    bob, joined = await world.join(await world.user("Bob"), m)
    token = str(joined["joinToken"]["token"])
    async with policed_edge(server) as (edge, rooms, control):
        async with connect(edge.url) as ws:
            await ws.send(encode(Join(token=token)))
            assert isinstance(parse_edge_message(await asyncio.wait_for(ws.recv(), 5)), Joined)
            await host.client(REMOVE, p=bob.participant_id)
            assert await refused_with(ws) == 4403
        await eventually(lambda: m["id"] not in rooms.enforced, 5)  # nobody left here: unwatched
        control.url = f"ws://127.0.0.1:{_free_port()}/nowhere"  # and the API becomes unreachable
        assert control._ws is not None
        await control._ws.close()
        await eventually(lambda: not control.connected.is_set(), 5)
        # Without the API the edge cannot learn the meeting's state (it would serve it unpoliced after
        # WATCH_TIMEOUT_S), but it has not forgotten the removal: the old token is still refused.
        assert await answer_to_join(edge.url, token) == ([], 4403)


async def test_removed_without_a_block_and_back_in_the_waiting_room_is_refused(
    server: RunningServer, world: World
) -> None:
    """A removal without a block lets Bob ask again, into the waiting room; the token from his first admission
    still verifies for minutes, but waiting is not being in the meeting: the edge refuses it until a host
    admits him again (then his new token works)."""
    host, m = await live_meeting(world, waitingRoom=True)
    bob, first = await world.join(await world.user("Bob"), m)
    assert first["status"] == "WAITING"
    await host.client("mutation($p: ID!) { admitParticipant(participantId: $p) { id } }", p=bob.participant_id)
    refresh = "mutation($m: ID!) { refreshJoinToken(meetingId: $m) { token } }"
    old = str((await bob.client(refresh, m=m["id"]))["refreshJoinToken"]["token"])
    async with policed_edge(server) as (edge, _rooms, _control):
        remove = "mutation($p: ID!) { removeParticipant(participantId: $p, block: false) { id } }"
        await host.client(remove, p=bob.participant_id)
        assert (await world.join(bob, m))[1]["status"] == "WAITING"
        assert await answer_to_join(edge.url, old) == ([], 4403)
        async with policed_edge(server) as (fresh, _r, _c):  # from the meeting's mediaState, not an event
            assert await answer_to_join(fresh.url, old) == ([], 4403)
        await host.client("mutation($p: ID!) { admitParticipant(participantId: $p) { id } }", p=bob.participant_id)
        new = str((await bob.client(refresh, m=m["id"]))["refreshJoinToken"]["token"])
        async with connect(edge.url) as ws:
            await ws.send(encode(Join(token=new)))
            assert isinstance(parse_edge_message(await asyncio.wait_for(ws.recv(), 5)), Joined)


async def test_an_admission_that_reaches_the_edge_after_the_client_is_not_refused(
    server: RunningServer, world: World
) -> None:
    """The admitted client can connect before the feed tells the edge about the admission (another API
    process, a slow bus): the edge still believes it is waiting. It is let in once the news arrives."""
    host, m = await live_meeting(world)
    bob, joined = await world.join(await world.user("Bob"), m)
    pid = str(bob.participant_id)
    async with policed_edge(server) as (edge, rooms, _control):
        async with connect(edge.url) as host_ws:  # the meeting is watched
            host_token = str((await host.client(REFRESH, m=m["id"]))["refreshJoinToken"]["token"])
            await host_ws.send(encode(Join(token=host_token)))
            assert isinstance(parse_edge_message(await asyncio.wait_for(host_ws.recv(), 5)), Joined)
            await rooms.on_control(ParticipantMedia(m["id"], pid, False, True))  # stale: "still waiting"
            attempt = asyncio.create_task(answer_to_join(edge.url, str(joined["joinToken"]["token"]), timeout=2))
            await asyncio.sleep(0.3)
            await rooms.on_control(ParticipantMedia(m["id"], pid, False, False))  # the admission arrives
            assert (await attempt)[0] == ["joined"]

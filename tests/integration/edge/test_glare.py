"""Renegotiation glare through the real edge: a client offer sent while the edge's own offer is outstanding.

The edge (impolite) ignores it at once instead of holding it behind its negotiation lock (which used to stall
the socket reader until the 10 s answer timeout); the synthetic client (polite, :class:`PoliteNegotiator`)
drops its unapplied offer, answers the edge's and offers again. Both sides end up stable within a second or
two, and the re-offered screen share reaches the other participant labelled as such."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from edge.synthetic import PoliteNegotiator, SyntheticParticipant, encode_vp8_clip
from protocol.signalling import Answer, Join, Joined, Leave, Offer, encode, parse_edge_message
from tests.conftest import RunningServer
from tests.support.edge import rooms_edge
from tests.support.gql import eventually
from tests.support.world import World


@dataclass(eq=False)
class PoliteClient:
    ws: ClientConnection
    peer: SyntheticParticipant = field(default_factory=SyntheticParticipant)
    hold_next_edge_offer: bool = False
    held: asyncio.Queue[Offer] = field(default_factory=asyncio.Queue)
    errors: list[Any] = field(default_factory=list)
    negotiator: PoliteNegotiator = field(init=False)
    _reader: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        async def send(msg: Offer | Answer) -> None:
            await self.ws.send(encode(msg))

        self.negotiator = PoliteNegotiator(self.peer.pc, send)

    async def start(self, token: str) -> None:
        await self.ws.send(encode(Join(token=token)))
        assert isinstance(parse_edge_message(await asyncio.wait_for(self.ws.recv(), 5)), Joined)
        sender = self.peer.publish(encode_vp8_clip(frames=30, fps=15, gop=15))
        self.negotiator.label(self._transceiver_of(sender), "camera")
        await self.negotiator.offer()
        self._reader = asyncio.create_task(self._read())

    def _transceiver_of(self, sender: object) -> Any:
        return next(t for t in self.peer.pc.getTransceivers() if t.sender is sender)

    async def share_screen(self) -> None:
        sender = self.peer.publish(encode_vp8_clip(frames=30, fps=15, gop=15, width=640, height=360))
        self.negotiator.label(self._transceiver_of(sender), "screen")
        await self.negotiator.offer()

    async def _read(self) -> None:
        async for text in self.ws:
            msg = parse_edge_message(text)
            if isinstance(msg, Offer) and self.hold_next_edge_offer:
                self.hold_next_edge_offer = False
                self.held.put_nowait(msg)  # the test decides when it arrives
            elif isinstance(msg, Offer | Answer):
                await self.negotiator.handle(msg)
            else:
                self.errors.append(msg)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.ws.send(encode(Leave()))
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        await self.peer.close()


async def test_a_client_offer_colliding_with_an_edge_offer_completes_quickly(
    server: RunningServer, world: World
) -> None:
    host = await world.user()
    meeting = await world.meeting(host)
    tokens, pids = [], []
    for person in (host, await world.user()):
        _, data = await world.join(person, meeting)
        tokens.append(str(data["joinToken"]["token"]))
        pids.append(str(data["participant"]["id"]))

    async with rooms_edge(server) as (edge, rooms):
        alice, bob = [PoliteClient(await connect(edge.url)) for _ in tokens]
        try:
            alice.hold_next_edge_offer = True  # Bob's camera, offered to Alice once Bob publishes
            await alice.start(tokens[0])
            await bob.start(tokens[1])
            edge_offer = await asyncio.wait_for(alice.held.get(), 10)
            alice_session = next(s for s in rooms.sessions.values() if s.participant_id == pids[0])
            assert alice_session.negotiating  # the edge's offer is outstanding: it waits for Alice's answer

            # Glare: Alice offers a screen share before she has seen the edge's offer.
            started = time.monotonic()
            await alice.share_screen()
            await eventually(lambda: alice_session.ignored_offers == 1, timeout=2)
            await alice.negotiator.handle(edge_offer)  # now it arrives: polite Alice drops hers, answers, re-offers

            await eventually(
                lambda: alice.negotiator.stable and not alice_session.negotiating and len(alice_session.published) == 2,
                timeout=5,
            )
            elapsed = time.monotonic() - started
            assert alice.negotiator.collisions == 1
            assert elapsed < 3, f"glare took {elapsed:.1f} s to resolve"
            assert sorted(alice_session.sources.values()) == ["camera", "screen"]

            # Bob receives Alice's camera and screen, labelled with who and what they are, and decodes both.
            await eventually(
                lambda: (
                    sorted((i.participant_id, i.source) for i in bob.negotiator.remote_tracks.values())
                    == [(pids[0], "camera"), (pids[0], "screen")]
                ),
                timeout=10,
            )
            await eventually(
                lambda: len(bob.peer.frames_by_track) == 2 and min(bob.peer.frames_by_track.values()) >= 5,
                timeout=15,
            )
            assert bob.negotiator.stable
            assert not alice.errors and not bob.errors, (alice.errors, bob.errors)
        finally:
            await asyncio.gather(alice.close(), bob.close(), return_exceptions=True)

"""Relay nodes of several edges over real UDP on loopback: a track published on one edge reaches the edges that
want it, one copy per stream per link, also through a cascade; key frame requests travel back to the origin;
a withdrawn track and a lost link are noticed."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from relay.auth import RelayTokenVerifier, issue_relay_token
from relay.certs import self_signed
from relay.frames import Hello
from relay.mesh import TrackInfo
from relay.node import NodeHooks, Peer, RelayNode
from relay.protocol import RelayEndpoint

pytestmark = pytest.mark.timeout(30)


@dataclass
class Edge:
    name: str
    node: RelayNode
    peer: Peer
    got: Counter[str] = field(default_factory=Counter)
    remote: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    key_frames: list[tuple[str, int]] = field(default_factory=list)


async def _edges(names: list[str], fanout: int) -> list[Edge]:
    key = Ed25519PrivateKey.generate()
    out = []
    for name in names:
        cert = self_signed(name)
        endpoint = RelayEndpoint(
            lambda name=name: Hello(name, "r", issue_relay_token(key, name, "r", now=time.time())),
            RelayTokenVerifier(key.public_key()),
            cert,
        )
        host, port = await endpoint.start()
        node = RelayNode(endpoint, name, fanout=fanout)
        edge = Edge(name, node, Peer(name, f"{host}:{port}", cert.fingerprint))
        node.hooks = NodeHooks(
            remote_track=lambda t, e=edge: e.remote.append(t.track_id),
            remote_track_gone=lambda t, e=edge: e.gone.append(t),
            remote_packet=lambda t, layer, key, p, e=edge: e.got.update([t]),
            key_frame_wanted=lambda t, layer, e=edge: e.key_frames.append((t, layer)),
        )
        out.append(edge)
    peers = [e.peer for e in out]
    for e in out:
        e.node.set_meeting_edges("m1", peers)
    return out


async def _until(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def _close(edges: list[Edge]) -> None:
    for e in edges:
        e.node.endpoint.close()


@pytest.mark.parametrize("fanout", [8, 1], ids=["star", "chain"])
async def test_a_track_reaches_every_edge_that_wants_it_one_copy_per_link(fanout: int) -> None:
    edges = await _edges(["e1", "e2", "e3"], fanout)
    origin, others = edges[0], edges[1:]
    try:
        cam = TrackInfo("e1/ada/cam", "m1", "e1", "ada", "video", "camera", 1)
        origin.node.publish(cam)
        await _until(lambda: all(cam.track_id in e.remote for e in others))
        for e in others:
            e.node.want(cam.track_id, frozenset({0}))
        await _until(lambda: len(origin.node.router.forward_to(cam.track_id, 0)) == (2 if fanout > 1 else 1))
        if fanout == 1:  # e2 passes it on to e3
            await _until(lambda: others[0].node.router.forward_to(cam.track_id, 0) == ["e3"])
        for seq in range(300):
            origin.node.forward(cam.track_id, bytes((0x80, 96)) + seq.to_bytes(2, "big") + bytes(900))
            if seq % 20 == 19:
                await asyncio.sleep(0.005)
        await _until(lambda: all(e.got[cam.track_id] == 300 for e in others))
        # Exactly one copy of each packet on each link that carries the track, whoever is behind it.
        sent = {peer: n for (track, peer), n in origin.node.copies_sent.items() if track == cam.track_id}
        assert sent == ({"e2": 300, "e3": 300} if fanout > 1 else {"e2": 300})
        if fanout == 1:
            assert others[0].node.copies_sent[(cam.track_id, "e3")] == 300

        # A key frame wanted at the far end reaches the origin edge, whatever the path.
        others[-1].node.request_key_frame(cam.track_id, 0)
        await _until(lambda: origin.key_frames == [(cam.track_id, 0)])

        # The publisher leaves: every edge hears the track is gone.
        origin.node.unpublish(cam.track_id)
        await _until(lambda: all(e.gone == [cam.track_id] for e in others))
    finally:
        _close(edges)


async def test_edges_that_want_nothing_get_nothing() -> None:
    edges = await _edges(["e1", "e2"], 8)
    try:
        cam = TrackInfo("e1/bob/cam", "m1", "e1", "bob", "video", "camera", 1)
        edges[0].node.publish(cam)
        await _until(lambda: cam.track_id in edges[1].remote)
        assert edges[0].node.forward(cam.track_id, bytes(100)) == 0
        await asyncio.sleep(0.2)
        assert edges[1].got[cam.track_id] == 0 and not edges[0].node.copies_sent
    finally:
        _close(edges)

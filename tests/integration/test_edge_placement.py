"""Edges register over the control feed and joins are placed on them: the nearest by the client's measured
round-trip times, weighed against load; relay credentials are issued to registered edges; a meeting's edges
are told to each edge watching it. Each test runs its own API (registrations would otherwise steer other tests'
joins)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from websockets.asyncio.client import connect

from protocol.media_control import MediaState, MeetingEdges, Register, RelayCredentials, Watch, encode
from protocol.signalling import Join, Joined, parse_edge_message
from protocol.signalling import encode as encode_signal
from relay.auth import RelayTokenVerifier
from tests.conftest import EDGE_SECRET, RunningServer, _free_port, make_settings
from tests.support.edge import running_edge
from tests.support.edge_feed import feed, recv_until, recv_until_any
from tests.support.gql import Client, eventually
from tests.support.world import World

pytestmark = pytest.mark.timeout(60)

EDGES = "{ mediaEdges { id region probeUrl } }"


@pytest.fixture
async def own_api(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningServer]:
    srv = RunningServer(make_settings(Path(tmp_path_factory.mktemp("placement")), edge_secret=EDGE_SECRET))
    await srv.start()
    yield srv
    await srv.stop()


@pytest.fixture
async def own_world(own_api: RunningServer) -> AsyncIterator[World]:
    async with httpx.AsyncClient(timeout=30) as http:
        yield World(Client(own_api.url, http))


def register(edge_id: str, region: str, *, cpu: float = 0.1, sessions: int = 0) -> Register:
    return Register(
        edge_id,
        region,
        f"ws://{edge_id}.test:7000/edge/signal",
        f"10.0.0.{len(edge_id)}:4433",
        "cd" * 32,
        sessions,
        100.0,
        cpu,
        100,
    )


async def test_joins_go_to_the_nearest_edge_unless_it_is_busy(own_api: RunningServer, own_world: World) -> None:
    host = await own_world.user()
    m = await own_world.meeting(host)
    # Nothing registered: the configured edge, as on a one-edge setup.
    _, data = await own_world.join(host, m)
    assert data["joinToken"]["edgeUrl"] == own_api.settings.signalling_url
    assert (await own_world.anon(EDGES))["mediaEdges"] == []

    async with feed(own_api.url, EDGE_SECRET) as eu, feed(own_api.url, EDGE_SECRET) as us:
        await eu.send(encode(register("eu-a", "eu")))
        await us.send(encode(register("us-a", "us")))
        creds = await recv_until(eu, RelayCredentials)
        await recv_until(us, RelayCredentials)
        edges = {e["id"]: e for e in (await own_world.anon(EDGES))["mediaEdges"]}
        assert set(edges) == {"eu-a", "us-a"} and edges["eu-a"]["probeUrl"] == "http://eu-a.test:7000/healthz"

        # The relay token verifies with the key join tokens are checked with, for the relay audience only.
        async with httpx.AsyncClient() as http:
            pem = (await http.get(own_api.url + "/.well-known/meetmesh/join-token-key")).text
        key = load_pem_public_key(pem.encode())
        peer = RelayTokenVerifier(key).verify(creds.token, creds.expires_at - 60)  # type: ignore[arg-type]
        assert peer.edge_id == "eu-a" and peer.region == "eu"

        guest = {"edgeRtts": [{"edgeId": "eu-a", "rttMs": 140}, {"edgeId": "us-a", "rttMs": 18}]}
        _, data = await own_world.join(None, m, extra=guest)
        assert data["joinToken"]["edgeUrl"] == "ws://us-a.test:7000/edge/signal"
        _, data = await own_world.join(None, m, extra={"region": "eu"})
        assert data["joinToken"]["edgeUrl"] == "ws://eu-a.test:7000/edge/signal"

        # us-a gets busy (its next heartbeat says so): the same client now goes to eu-a.
        await us.send(encode(register("us-a", "us", cpu=0.92)))
        await asyncio.sleep(0.2)
        _, data = await own_world.join(None, m, extra=guest)
        assert data["joinToken"]["edgeUrl"] == "ws://eu-a.test:7000/edge/signal"


async def test_each_edge_is_told_which_edges_share_its_meetings(own_api: RunningServer, own_world: World) -> None:
    host = await own_world.user()
    m = await own_world.meeting(host)
    await own_world.join(host, m)
    async with feed(own_api.url, EDGE_SECRET) as a, feed(own_api.url, EDGE_SECRET) as b:
        await a.send(encode(register("mesh-a", "eu")))
        await b.send(encode(register("mesh-b", "us")))
        for ws in (a, b):
            await recv_until(ws, RelayCredentials)
        await a.send(encode(Watch(m["id"])))
        # Both come, in either order (the edges are told at once, while the state is read).
        first = await recv_until_any(a, (MediaState, MeetingEdges))
        if isinstance(first, MediaState):
            told = await recv_until(a, MeetingEdges, timeout=10)
        else:
            told = first
            await recv_until(a, MediaState)
        assert [e.edge_id for e in told.edges] == ["mesh-a"]
        await b.send(encode(Watch(m["id"])))
        told_b = await recv_until(b, MeetingEdges, timeout=10)
        told_a = await recv_until(a, MeetingEdges, timeout=10)
        assert [e.edge_id for e in told_a.edges] == [e.edge_id for e in told_b.edges] == ["mesh-a", "mesh-b"]
        assert told_a.edges[1].relay_addr and told_a.edges[1].relay_fingerprint == "cd" * 32
    # a and b hung up: a new watcher hears of neither (their watches went with their feeds).
    async with feed(own_api.url, EDGE_SECRET) as c:
        await c.send(encode(register("mesh-c", "ap")))
        await c.send(encode(Watch(m["id"])))
        # c is told at once; a list that still names b (its feed's close was being handled on the server) is
        # followed by one without it as soon as that close completes.
        told = await recv_until(c, MeetingEdges, timeout=10)
        if [e.edge_id for e in told.edges] != ["mesh-c"]:
            told = await recv_until(c, MeetingEdges, timeout=3)
        assert [e.edge_id for e in told.edges] == ["mesh-c"]


@pytest.mark.parametrize(
    "rtts",
    [
        [{"edgeId": "x", "rttMs": -1}],
        [{"edgeId": "x", "rttMs": 1e12}],
        [{"edgeId": f"e{i}", "rttMs": 1} for i in range(33)],
    ],
    ids=["negative", "absurd", "too many"],
)
async def test_bad_measurements_are_refused_with_bad_input(own_world: World, rtts: list[dict[str, object]]) -> None:
    host = await own_world.user()
    m = await own_world.meeting(host)
    error = await own_world.anon.error(
        "mutation($i: JoinMeetingInput!) { joinMeeting(input: $i) { status } }",
        i={"number": m["number"], "displayName": "G", "edgeRtts": rtts},
    )
    assert error.code == "BAD_INPUT", error


async def test_a_real_edge_registers_itself_and_joins_are_sent_to_it(own_api: RunningServer, own_world: World) -> None:
    port = _free_port()
    public = f"ws://127.0.0.1:{port}/edge/signal"
    async with running_edge(
        own_api, port=port, control_secret=EDGE_SECRET, public_url=public, edge_id="real-1", region="eu-real"
    ) as edge:
        await eventually(lambda: edge.control is not None and edge.control.relay_credentials is not None, timeout=5)
        edges = (await own_world.anon(EDGES))["mediaEdges"]
        assert {"id": "real-1", "region": "eu-real", "probeUrl": f"http://127.0.0.1:{port}/healthz"} in edges
        host = await own_world.user()
        m = await own_world.meeting(host)
        _, data = await own_world.join(host, m, extra={"region": "eu-real"})
        assert data["joinToken"]["edgeUrl"] == public
        # The URL the API handed out is one a client can use: the edge accepts the token on it.
        async with connect(data["joinToken"]["edgeUrl"]) as ws:
            await ws.send(encode_signal(Join(token=data["joinToken"]["token"])))
            assert isinstance(parse_edge_message(await asyncio.wait_for(ws.recv(), 5)), Joined)
        async with httpx.AsyncClient() as http:
            assert (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200

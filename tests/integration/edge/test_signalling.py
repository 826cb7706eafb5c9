"""The edge's signalling WebSocket, end to end: the real API issues join tokens and serves its public key, the
edge (the production signalling app, without rooms) runs under uvicorn on loopback, clients speak real WebSockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from edge.signalling import NoMedia, Refusal
from edge.tokens import JoinTokenVerifier
from protocol.errors import ErrorCode
from protocol.signalling import (
    CloseCode,
    Error,
    Join,
    Joined,
    Leave,
    Offer,
    encode,
    parse_edge_message,
)
from protocol.tokens import JoinClaims
from tests.conftest import RunningServer, _free_port
from tests.support.edge import KEY_PATH, RunningEdge, running_edge
from tests.support.gql import eventually
from tests.support.tokens import sign
from tests.support.world import World


@pytest.fixture
async def edge(server: RunningServer) -> AsyncIterator[RunningEdge]:
    async with running_edge(server, media=False) as e:
        yield e


async def admitted(world: World) -> tuple[str, dict[str, Any]]:
    """A real join token for a new host in a new meeting, and the joinMeeting payload."""
    host = await world.user()
    meeting = await world.meeting(host)
    _, data = await world.join(host, meeting)
    assert data["status"] == "ADMITTED", data
    return str(data["joinToken"]["token"]), data


async def recv(ws: ClientConnection) -> Any:
    return parse_edge_message(await asyncio.wait_for(ws.recv(), 5))


async def closed_with(ws: ClientConnection) -> tuple[int, str]:
    with pytest.raises(ConnectionClosed) as info:
        await asyncio.wait_for(ws.recv(), 5)
    assert info.value.rcvd is not None, "closed without a close frame"
    return info.value.rcvd.code, info.value.rcvd.reason


async def test_public_key_from_the_api_verifies_its_join_tokens(
    server: RunningServer, http: httpx.AsyncClient, world: World
) -> None:
    token, data = await admitted(world)
    pem = (await http.get(server.url + KEY_PATH)).text
    claims = JoinTokenVerifier(pem).verify(token)
    assert claims.participant_id == data["participant"]["id"]
    assert claims.meeting_id == data["meetingId"]
    assert claims.role == "host"


async def test_join_with_an_api_token_replies_joined(edge: RunningEdge, world: World) -> None:
    token, data = await admitted(world)
    async with connect(edge.url) as ws:
        await ws.send(encode(Join(token=token)))
        joined = await recv(ws)
        assert isinstance(joined, Joined)
        assert joined.participant_id == data["participant"]["id"]
        assert joined.meeting_id == data["meetingId"]
        assert joined.role == "host"
        assert set(joined.publish) == {"audio", "video", "screen"}
        registered = edge.signalling.registry.participants(data["meetingId"])
        assert [c.participant_id for c in registered] == [joined.participant_id]
        await ws.send(encode(Leave()))
        assert await closed_with(ws) == (CloseCode.NORMAL, "left")
    await eventually(lambda: not edge.signalling.registry.participants(data["meetingId"]))


async def test_tampered_token_closes_4401(edge: RunningEdge, world: World) -> None:
    token, _ = await admitted(world)
    header, payload, signature = token.split(".")
    async with connect(edge.url) as ws:
        await ws.send(encode(Join(token=f"{header}.{payload}x.{signature}")))
        code, reason = await closed_with(ws)
    assert code == CloseCode.UNAUTHENTICATED
    assert "invalid join token" in reason


async def test_token_signed_with_another_key_closes_4401(edge: RunningEdge) -> None:
    async with connect(edge.url) as ws:
        await ws.send(encode(Join(token=sign(Ed25519PrivateKey.generate()))))
        code, reason = await closed_with(ws)
    assert code == CloseCode.UNAUTHENTICATED
    assert "Signature verification failed" in reason


async def test_silence_closes_4408(server: RunningServer) -> None:
    async with running_edge(server, media=False, join_timeout_s=0.3) as edge, connect(edge.url) as ws:
        started = asyncio.get_running_loop().time()
        code, reason = await closed_with(ws)
        elapsed = asyncio.get_running_loop().time() - started
    assert code == CloseCode.JOIN_TIMEOUT
    assert reason == "no join within 0.3 s"
    assert 0.2 < elapsed < 2


async def test_second_connection_replaces_the_first_with_4409(edge: RunningEdge, world: World) -> None:
    token, data = await admitted(world)
    async with connect(edge.url) as first, connect(edge.url) as second:
        await first.send(encode(Join(token=token)))
        assert isinstance(await recv(first), Joined)
        await second.send(encode(Join(token=token)))
        assert isinstance(await recv(second), Joined)
        code, _ = await closed_with(first)
        assert code == CloseCode.REPLACED
        # The replaced socket's clean-up must not unregister its successor. It must change nothing, so there is
        # nothing to wait for with eventually(): give it a moment, then check.
        await asyncio.sleep(0.1)
        registered = edge.signalling.registry.participants(data["meetingId"])
        assert len(registered) == 1 and not registered[0].closed
        await second.send("not json")
        assert isinstance(await recv(second), Error)


async def test_garbage_gets_error_and_the_socket_stays_usable(edge: RunningEdge, world: World) -> None:
    token, _ = await admitted(world)
    async with connect(edge.url) as ws:
        # Before joining: refused frame by frame, the join deadline keeps running.
        await ws.send("{not json")
        err = await recv(ws)
        assert isinstance(err, Error) and err.code == ErrorCode.BAD_INPUT and "not JSON" in err.message
        await ws.send(encode(Offer(sdp="v=0")))
        err = await recv(ws)
        assert isinstance(err, Error) and "send 'join' first" in err.message
        await ws.send(encode(Join(token=token)))
        assert isinstance(await recv(ws), Joined)
        # After joining.
        cases: list[tuple[str | bytes, str]] = [
            ('{"type":"dance"}', "unknown message type 'dance'"),
            (b"\x00\x01", "binary frames are not accepted"),
            ("[" * 50_000, "nested too deeply"),
            (encode(Offer(sdp="v=0")), "does not forward media"),
        ]
        for frame, why in cases:
            await ws.send(frame)
            err = await recv(ws)
            assert isinstance(err, Error) and err.code == ErrorCode.BAD_INPUT and why in err.message, err
        await ws.send(encode(Join(token=token)))
        err = await recv(ws)
        assert isinstance(err, Error) and err.code == ErrorCode.CONFLICT
        await ws.send(encode(Leave()))
        assert (await closed_with(ws))[0] == CloseCode.NORMAL


async def test_unreachable_api_key_closes_1013(server: RunningServer, world: World) -> None:
    token, _ = await admitted(world)
    dead = f"http://127.0.0.1:{_free_port()}{KEY_PATH}"
    async with running_edge(server, media=False, join_key_url=dead) as edge:
        # The start-up fetch failed; later joins are refused (whether the retry is rate-limited or tried again)
        # instead of hanging or crashing.
        for _ in range(2):
            async with connect(edge.url) as ws:
                await ws.send(encode(Join(token=token)))
                assert (await closed_with(ws))[0] == CloseCode.TRY_AGAIN_LATER


async def test_oversized_frame_closes_1009(server: RunningServer, world: World) -> None:
    token, _ = await admitted(world)
    async with running_edge(server, media=False, max_message_bytes=4096) as edge, connect(edge.url) as ws:
        await ws.send(encode(Join(token=token)))
        assert isinstance(await recv(ws), Joined)
        await ws.send(encode(Offer(sdp="a" * 8192)))
        assert (await closed_with(ws))[0] == 1009  # RFC 6455 section 7.4.1: message too big


class RefuseSecondComer(NoMedia):
    """Hooks that admit a participant's first connection and refuse every later one (as rooms refuse a
    removed participant's token)."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    async def admit(self, claims: JoinClaims) -> Refusal | None:
        if claims.participant_id in self.seen:
            return CloseCode.FORBIDDEN, "you were removed from this meeting"
        self.seen.add(claims.participant_id)
        return None


async def test_a_refused_join_gets_only_the_close_and_replaces_nobody(server: RunningServer, world: World) -> None:
    token, data = await admitted(world)
    async with running_edge(server, media=False) as edge:
        edge.signalling.hooks = RefuseSecondComer()
        async with connect(edge.url) as first:
            await first.send(encode(Join(token=token)))
            assert isinstance(await recv(first), Joined)
            async with connect(edge.url) as second:
                await second.send(encode(Join(token=token)))
                # The close is the first and only frame: no `joined`, no `error` before it.
                assert await closed_with(second) == (CloseCode.FORBIDDEN, "you were removed from this meeting")
            # The refused socket did not replace (4409) the participant's open connection.
            registered = edge.signalling.registry.participants(data["meetingId"])
            assert [c.socket is not None and not c.closed for c in registered] == [True]
            await first.send(encode(Leave()))
            assert await closed_with(first) == (CloseCode.NORMAL, "left")

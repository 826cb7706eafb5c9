"""The edge registry in memory and on the real Redis: heartbeats keep an edge live, silence drops it, a meeting's
edges come back in the order they started watching it."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import pytest

from api.media.registry import EdgeInfo, EdgeRegistry, MemoryEdgeRegistry, RedisEdgeRegistry
from protocol.media_control import EDGE_TTL_S, Register

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(params=["memory", "redis"])
async def registry(request: pytest.FixtureRequest) -> AsyncIterator[EdgeRegistry]:
    reg: EdgeRegistry = (
        MemoryEdgeRegistry() if request.param == "memory" else RedisEdgeRegistry(REDIS_URL, f"t{secrets.token_hex(4)}:")
    )
    yield reg
    await reg.close()


def info(edge_id: str, now: float, region: str = "eu", sessions: int = 0) -> EdgeInfo:
    msg = Register(edge_id, region, f"ws://{edge_id}:1/edge/signal", f"{edge_id}:4433", "ab" * 32, sessions)
    return EdgeInfo.from_register(msg, now)


async def test_heartbeats_keep_an_edge_live_and_silence_drops_it(registry: EdgeRegistry) -> None:
    await registry.put(info("a", 1000.0))
    await registry.put(info("b", 1000.0, "us"))
    assert [e.edge_id for e in await registry.live(1000.0 + EDGE_TTL_S)] == ["a", "b"]
    await registry.put(info("a", 1010.0, sessions=7))  # a's heartbeat; b is silent
    live = await registry.live(1000.0 + EDGE_TTL_S + 1)
    assert [(e.edge_id, e.sessions) for e in live] == [("a", 7)]
    assert live[0].probe_url == "http://a:1/healthz"


async def test_a_meetings_edges_keep_their_start_order_and_only_live_ones_count(registry: EdgeRegistry) -> None:
    for e in ("c", "a", "b"):
        await registry.put(info(e, 2000.0))
    await registry.watch("m1", "c", 2000.0)
    await registry.watch("m1", "a", 2001.0)
    await registry.watch("m1", "b", 2002.0)
    await registry.watch("m1", "c", 2005.0)  # watching again does not move it to the back
    assert [e.edge_id for e in await registry.meeting_edges("m1", 2003.0)] == ["c", "a", "b"]
    await registry.unwatch("m1", "a")
    assert [e.edge_id for e in await registry.meeting_edges("m1", 2003.0)] == ["c", "b"]
    await registry.put(info("c", 2010.0))
    # b went quiet: it is no longer one of the meeting's edges, whatever it watched.
    assert [e.edge_id for e in await registry.meeting_edges("m1", 2000.0 + EDGE_TTL_S + 1)] == ["c"]
    assert await registry.meeting_edges("nobody", 2003.0) == []


async def test_a_closed_feed_drops_its_edge_at_once_unless_it_registered_again(registry: EdgeRegistry) -> None:
    await registry.put(info("a", 1000.0))
    await registry.put(info("b", 1000.0))
    await registry.drop("a", 1000.0)  # a's feed closed: its process died or stopped
    assert [e.edge_id for e in await registry.live(1001.0)] == ["b"]
    await registry.put(info("b", 1002.0))  # b re-registered through another feed meanwhile
    await registry.drop("b", 1000.0)  # the old feed's close must not drop it
    assert [e.edge_id for e in await registry.live(1003.0)] == ["b"]

"""The edge registry: which media edges are up, where, how loaded, and which meetings each one serves.

Edges report themselves over the control feed (``protocol.media_control.Register``, every few seconds); an edge
not heard from for ``EDGE_TTL_S`` drops out, so joins stop being placed on a dead edge within that time. A
meeting's edges are those watching it (an edge watches a meeting while it has participants in it), in the order
they started, which is the order the relay mesh builds its trees from.

In process memory for the embedded default; in Redis (``REDIS_URL``) so every API process sees every edge,
whichever process its feed is connected to. ``now`` is passed in (wall-clock seconds) so expiry is testable.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Protocol

from protocol.media_control import EDGE_TTL_S, EdgeRef, Register


@dataclass(frozen=True, slots=True)
class EdgeInfo:
    edge_id: str
    region: str
    signalling_url: str
    relay_addr: str
    relay_fingerprint: str
    sessions: int
    forwarded_pps: float
    cpu: float
    capacity: int
    seen_at: float

    @classmethod
    def from_register(cls, msg: Register, now: float) -> EdgeInfo:
        return cls(
            msg.edge_id,
            msg.region,
            msg.signalling_url,
            msg.relay_addr,
            msg.relay_fingerprint,
            msg.sessions,
            msg.forwarded_pps,
            msg.cpu,
            msg.capacity,
            now,
        )

    @property
    def load(self) -> float:
        """0 idle … 1 full: the larger of CPU busy and sessions over capacity."""
        return min(1.0, max(self.cpu, self.sessions / self.capacity))

    @property
    def probe_url(self) -> str:
        """Where a client measures its round-trip time to this edge (the edge's health check)."""
        base = self.signalling_url.replace("ws", "http", 1)
        return base.rsplit("/edge/", 1)[0] + "/healthz"

    def ref(self) -> EdgeRef:
        return EdgeRef(self.edge_id, self.region, self.relay_addr, self.relay_fingerprint)


class EdgeRegistry(Protocol):
    async def put(self, info: EdgeInfo) -> None: ...

    async def live(self, now: float) -> list[EdgeInfo]:
        """Edges heard from within ``EDGE_TTL_S``, by id."""
        ...

    async def drop(self, edge_id: str, seen_at: float) -> None:
        """The edge's control feed closed: forget it now unless it registered again since ``seen_at`` (through
        another feed), so joins stop going to a dead edge at once rather than after ``EDGE_TTL_S``."""
        ...

    async def watch(self, meeting_id: str, edge_id: str, now: float) -> None: ...

    async def unwatch(self, meeting_id: str, edge_id: str) -> None: ...

    async def meeting_edges(self, meeting_id: str, now: float) -> list[EdgeInfo]:
        """The live edges serving ``meeting_id``, first to start first."""
        ...

    async def close(self) -> None: ...


def _alive(infos: Iterable[EdgeInfo], now: float) -> list[EdgeInfo]:
    return sorted((i for i in infos if now - i.seen_at <= EDGE_TTL_S), key=lambda i: i.edge_id)


class MemoryEdgeRegistry:
    def __init__(self) -> None:
        self._edges: dict[str, EdgeInfo] = {}
        self._meetings: dict[str, dict[str, float]] = {}

    async def put(self, info: EdgeInfo) -> None:
        self._edges[info.edge_id] = info

    async def live(self, now: float) -> list[EdgeInfo]:
        for edge_id in [e for e, i in self._edges.items() if now - i.seen_at > EDGE_TTL_S * 4]:
            del self._edges[edge_id]  # long dead: forget it (the window keeps memory bounded)
        return _alive(self._edges.values(), now)

    async def drop(self, edge_id: str, seen_at: float) -> None:
        info = self._edges.get(edge_id)
        if info is not None and info.seen_at <= seen_at:
            del self._edges[edge_id]

    async def watch(self, meeting_id: str, edge_id: str, now: float) -> None:
        self._meetings.setdefault(meeting_id, {}).setdefault(edge_id, now)

    async def unwatch(self, meeting_id: str, edge_id: str) -> None:
        edges = self._meetings.get(meeting_id, {})
        edges.pop(edge_id, None)
        if not edges:
            self._meetings.pop(meeting_id, None)

    async def meeting_edges(self, meeting_id: str, now: float) -> list[EdgeInfo]:
        order = sorted(self._meetings.get(meeting_id, {}).items(), key=lambda kv: (kv[1], kv[0]))
        live = {i.edge_id: i for i in _alive(self._edges.values(), now)}
        return [live[e] for e, _ in order if e in live]

    async def close(self) -> None:
        return None


class RedisEdgeRegistry:
    """Edges in one hash (field = edge id, value = JSON), meetings in one sorted set each (score = start)."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis.asyncio as redis

        self._redis = redis.Redis.from_url(url)
        self._edges_key = f"{prefix}edges"
        self._prefix = prefix

    def _meeting_key(self, meeting_id: str) -> str:
        return f"{self._prefix}meeting-edges:{meeting_id}"

    async def put(self, info: EdgeInfo) -> None:
        await self._redis.hset(self._edges_key, info.edge_id, json.dumps(asdict(info)))

    async def _all(self) -> list[EdgeInfo]:
        raw = await self._redis.hgetall(self._edges_key)
        return [EdgeInfo(**json.loads(v)) for v in raw.values()]

    async def live(self, now: float) -> list[EdgeInfo]:
        infos = await self._all()
        dead = [i.edge_id for i in infos if now - i.seen_at > EDGE_TTL_S * 4]
        if dead:
            await self._redis.hdel(self._edges_key, *dead)
        return _alive(infos, now)

    async def drop(self, edge_id: str, seen_at: float) -> None:
        raw = await self._redis.hget(self._edges_key, edge_id)
        # Not atomic with a concurrent re-registration through another API process: that one's next heartbeat
        # (every REGISTER_EVERY_S) puts the edge back.
        if raw is not None and EdgeInfo(**json.loads(raw)).seen_at <= seen_at:
            await self._redis.hdel(self._edges_key, edge_id)

    async def watch(self, meeting_id: str, edge_id: str, now: float) -> None:
        key = self._meeting_key(meeting_id)
        await self._redis.zadd(key, {edge_id: now}, nx=True)
        await self._redis.expire(key, 24 * 3600)  # a meeting whose edges all vanished does not stay forever

    async def unwatch(self, meeting_id: str, edge_id: str) -> None:
        await self._redis.zrem(self._meeting_key(meeting_id), edge_id)

    async def meeting_edges(self, meeting_id: str, now: float) -> list[EdgeInfo]:
        order = [e.decode() for e in await self._redis.zrange(self._meeting_key(meeting_id), 0, -1)]
        live = {i.edge_id: i for i in _alive(await self._all(), now)}
        return [live[e] for e in order if e in live]

    async def close(self) -> None:
        await self._redis.aclose()

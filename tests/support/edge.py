"""The edge under test: built by the production factory (:func:`edge.app.build_edge`) and served by uvicorn on
loopback against the test API, plus a synthetic participant that speaks the signalling protocol."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any

import uvicorn
from aiortc import RTCSessionDescription
from litestar import Litestar
from websockets.asyncio.client import ClientConnection

from edge.app import build_edge
from edge.control import ControlFeed
from edge.rooms import Rooms
from edge.settings import Settings
from edge.signalling import SIGNAL_PATH, SignallingServer, create_app
from edge.synthetic import SyntheticParticipant, encode_vp8_clip
from protocol.signalling import Answer, Join, Joined, Leave, Offer, Tracks, encode, parse_edge_message
from tests.conftest import RunningServer, _free_port
from tests.support.gql import eventually

KEY_PATH = "/.well-known/meetmesh/join-token-key"
"""Where the API serves the public key its join tokens verify against."""


def edge_settings(api: RunningServer, **overrides: Any) -> Settings:
    """Settings for an edge on a free loopback port that trusts ``api``'s join tokens."""
    return replace(Settings(port=_free_port(), join_key_url=api.url + KEY_PATH, join_timeout_s=5), **overrides)


class RunningEdge:
    """One edge app under uvicorn (not started yet: :func:`running_edge` serves it)."""

    def __init__(self, settings: Settings, *, media: bool = True) -> None:
        self.settings = settings
        self.rooms: Rooms | None = None
        self.control: ControlFeed | None = None
        if media:
            built = build_edge(settings)
            self.app: Litestar = built.app
            self.rooms, self.control = built.rooms, built.control
        else:  # the signalling layer alone (it refuses media negotiation)
            self.app = create_app(settings)
        self.signalling: SignallingServer = self.app.state.signalling
        self.url = f"ws://127.0.0.1:{settings.port}{SIGNAL_PATH}"
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=settings.port,
            log_level="warning",
            ws="websockets-sansio",
            ws_max_size=settings.max_message_bytes,
            lifespan="on",
        )
        self.server = uvicorn.Server(config)


@contextlib.asynccontextmanager
async def running_edge(api: RunningServer, *, media: bool = True, **overrides: Any) -> AsyncIterator[RunningEdge]:
    """Serve an edge until the block ends; with a control secret, only once its control feed is connected.
    ``media=False`` serves the signalling layer without rooms."""
    edge = RunningEdge(edge_settings(api, **overrides), media=media)
    task = asyncio.create_task(edge.server.serve())
    try:
        await eventually(lambda: edge.server.started or task.done(), timeout=5, interval=0.01)
        if task.done():
            task.result()
        if edge.control is not None:
            await asyncio.wait_for(edge.control.connected.wait(), 5)
        yield edge
    finally:
        edge.server.should_exit = True
        await task


@contextlib.asynccontextmanager
async def rooms_edge(api: RunningServer, **overrides: Any) -> AsyncIterator[tuple[RunningEdge, Rooms]]:
    """:func:`running_edge` with media, and its rooms."""
    async with running_edge(api, **overrides) as edge:
        assert edge.rooms is not None
        yield edge, edge.rooms


@dataclass(eq=False)
class Client:
    """A synthetic participant speaking the signalling protocol: offers what it publishes, answers edge offers."""

    ws: ClientConnection
    peer: SyntheticParticipant = field(default_factory=SyntheticParticipant)
    errors: list[Any] = field(default_factory=list)
    offers: int = 0
    """Edge offers received."""
    relabels: list[Tracks] = field(default_factory=list)
    """``tracks`` messages received (senders moved without an offer)."""
    _reader: asyncio.Task[None] | None = None

    async def start(self, token: str) -> None:
        await self.ws.send(encode(Join(token=token)))
        assert isinstance(parse_edge_message(await asyncio.wait_for(self.ws.recv(), 5)), Joined)
        self.peer.publish(encode_vp8_clip(frames=30, fps=15, gop=15))
        await self.peer.pc.setLocalDescription(await self.peer.pc.createOffer())
        await self.ws.send(encode(Offer(sdp=self.peer.pc.localDescription.sdp)))
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        pc = self.peer.pc
        async for text in self.ws:
            msg = parse_edge_message(text)
            if isinstance(msg, Answer):
                await pc.setRemoteDescription(RTCSessionDescription(sdp=msg.sdp, type="answer"))
            elif isinstance(msg, Tracks):
                self.relabels.append(msg)
            elif isinstance(msg, Offer):
                self.offers += 1
                await pc.setRemoteDescription(RTCSessionDescription(sdp=msg.sdp, type="offer"))
                await pc.setLocalDescription(await pc.createAnswer())
                await self.ws.send(encode(Answer(sdp=pc.localDescription.sdp)))
            else:
                self.errors.append(msg)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.ws.send(encode(Leave()))
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        await self.peer.close()

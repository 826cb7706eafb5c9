"""The edge's one app factory: ``python -m edge`` and the tests build the edge here, so they run the same wiring.

:func:`build_edge` joins the signalling app (``edge.signalling.create_app``) to the rooms that make it an SFU
(``edge.rooms.Rooms``) and, when ``EDGE_CONTROL_SECRET`` is set, to the API's control feed that makes media obey
host controls. Process-wide choices (logging, the ICE addresses aiortc may gather) stay in ``__main__``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from litestar import Litestar

from edge.control import ControlFeed
from edge.mesh import EdgeMesh, start_when_key_loads
from edge.rooms import Rooms
from edge.settings import Settings
from edge.signalling import JoinKeyUnavailableError, SignallingServer, create_app
from protocol.media_control import Register


@dataclass(frozen=True, slots=True)
class Edge:
    """One built edge: its ASGI app and the parts a caller may want to watch."""

    app: Litestar
    rooms: Rooms
    """The rooms behind the signalling socket (sessions, forwarding, recording taps, captions)."""
    control: ControlFeed | None
    """The API's control feed (None without ``EDGE_CONTROL_SECRET``: media then ignores host controls)."""
    mesh: EdgeMesh | None = None
    """The relay to the other edges of its meetings (None unless registered with the API: ``EDGE_PUBLIC_URL``,
    ``EDGE_CONTROL_SECRET`` and ``EDGE_RELAY`` on)."""


class Registration:
    """What the edge tells the API about itself on the control feed (``protocol.media_control.Register``): who
    and where it is, and how loaded since the last report (sessions, CPU busy fraction of this process)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.rooms: Rooms | None = None
        self.mesh: EdgeMesh | None = None
        self._cpu = time.process_time()
        self._wall: float | None = None
        """Start of the interval measured for the next report; None before the first report."""

    def __call__(self) -> Register:
        cpu, wall = time.process_time(), time.monotonic()
        # The first report (the feed just connected) measures nothing yet: the process's start - imports, the
        # relay certificate, uvicorn - is not load, and counting it made a new edge look full (CPU ~1.0) so
        # placement passed it over.
        busy = (cpu - self._cpu) / (wall - self._wall) if self._wall is not None and wall > self._wall else 0.0
        self._cpu, self._wall = cpu, wall
        s = self.settings
        return Register(
            edge_id=s.registry_id,
            region=s.region,
            signalling_url=s.public_url,
            relay_addr=self.mesh.relay_addr if self.mesh is not None else "",
            relay_fingerprint=self.mesh.fingerprint if self.mesh is not None and self.mesh.relay_addr else "",
            sessions=len(self.rooms.sessions) if self.rooms is not None else 0,
            cpu=round(min(max(busy, 0.0), 64.0), 3),
            capacity=s.capacity,
        )


def build_edge(settings: Settings) -> Edge:
    """The edge for ``settings``; the control feed runs for the app's lifetime (its lifespan starts it)."""
    registration = Registration(settings) if settings.public_url else None
    control = (
        ControlFeed(settings.control_feed_url, settings.control_secret, registration)
        if settings.control_secret
        else None
    )
    rooms = Rooms(control, settings)
    if registration is not None:
        registration.rooms = rooms
    mesh: EdgeMesh | None = None
    if settings.relay and control is not None and registration is not None:
        feed = control
        mesh = EdgeMesh(settings, lambda: feed.relay_credentials, rooms=rooms)
        rooms.mesh = registration.mesh = mesh
    tasks: set[asyncio.Task[None]] = set()

    async def on_start(server: SignallingServer) -> None:
        if mesh is None:
            return
        try:
            verifier = await server.keys.verifier()
        except JoinKeyUnavailableError:  # the API is not up yet: the relay opens once its key loads
            task = asyncio.create_task(start_when_key_loads(mesh, _api_key(server)), name="relay-start")
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            return
        await mesh.start(verifier.public_key)

    app = create_app(
        settings, hooks=rooms, control=control, on_start=on_start, relay_stats=mesh.stats if mesh else None
    )
    return Edge(app=app, rooms=rooms, control=control, mesh=mesh)


def _api_key(server: SignallingServer) -> Callable[[], Awaitable[Ed25519PublicKey]]:
    async def key() -> Ed25519PublicKey:
        return (await server.keys.verifier()).public_key

    return key

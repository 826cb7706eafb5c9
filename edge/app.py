"""The edge's one app factory: ``python -m edge`` and the tests build the edge here, so they run the same wiring.

:func:`build_edge` joins the signalling app (``edge.signalling.create_app``) to the rooms that make it an SFU
(``edge.rooms.Rooms``) and, when ``EDGE_CONTROL_SECRET`` is set, to the API's control feed that makes media obey
host controls. Process-wide choices (logging, the ICE addresses aiortc may gather) stay in ``__main__``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from litestar import Litestar

from edge.control import ControlFeed
from edge.rooms import Rooms
from edge.settings import Settings
from edge.signalling import create_app
from protocol.media_control import Register


@dataclass(frozen=True, slots=True)
class Edge:
    """One built edge: its ASGI app and the parts a caller may want to watch."""

    app: Litestar
    rooms: Rooms
    """The rooms behind the signalling socket (sessions, forwarding, recording taps, captions)."""
    control: ControlFeed | None
    """The API's control feed (None without ``EDGE_CONTROL_SECRET``: media then ignores host controls)."""


class Registration:
    """What the edge tells the API about itself on the control feed (``protocol.media_control.Register``): who
    and where it is, and how loaded since the last report (sessions, CPU busy fraction of this process)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.rooms: Rooms | None = None
        self._cpu = time.process_time()
        self._wall = time.monotonic()

    def __call__(self) -> Register:
        cpu, wall = time.process_time(), time.monotonic()
        busy = (cpu - self._cpu) / (wall - self._wall) if wall > self._wall else 0.0
        self._cpu, self._wall = cpu, wall
        s = self.settings
        return Register(
            edge_id=s.registry_id,
            region=s.region,
            signalling_url=s.public_url,
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
    return Edge(app=create_app(settings, hooks=rooms, control=control), rooms=rooms, control=control)

"""The edge's one app factory: ``python -m edge`` and the tests build the edge here, so they run the same wiring.

:func:`build_edge` joins the signalling app (``edge.signalling.create_app``) to the rooms that make it an SFU
(``edge.rooms.Rooms``) and, when ``EDGE_CONTROL_SECRET`` is set, to the API's control feed that makes media obey
host controls. Process-wide choices (logging, the ICE addresses aiortc may gather) stay in ``__main__``.
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Litestar

from edge.control import ControlFeed
from edge.rooms import Rooms
from edge.settings import Settings
from edge.signalling import create_app


@dataclass(frozen=True, slots=True)
class Edge:
    """One built edge: its ASGI app and the parts a caller may want to watch."""

    app: Litestar
    rooms: Rooms
    """The rooms behind the signalling socket (sessions, forwarding, recording taps, captions)."""
    control: ControlFeed | None
    """The API's control feed (None without ``EDGE_CONTROL_SECRET``: media then ignores host controls)."""


def build_edge(settings: Settings) -> Edge:
    """The edge for ``settings``; the control feed runs for the app's lifetime (its lifespan starts it)."""
    control = ControlFeed(settings.control_feed_url, settings.control_secret) if settings.control_secret else None
    rooms = Rooms(control, settings)
    return Edge(app=create_app(settings, hooks=rooms, control=control), rooms=rooms, control=control)

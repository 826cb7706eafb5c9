"""``python -m edge``: serve the edge's signalling WebSocket (``/edge/signal``) on ``EDGE_HOST:EDGE_PORT``."""

from __future__ import annotations

import logging

import uvicorn

from edge.control import ControlFeed
from edge.ice import use_host_addresses
from edge.rooms import Rooms
from edge.settings import Settings
from edge.signalling import SIGNAL_PATH, create_app


def main() -> None:
    settings = Settings.from_env()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    use_host_addresses(settings.ice_addresses)
    control = ControlFeed(settings.control_feed_url, settings.control_secret) if settings.control_secret else None
    if control is None:
        logging.getLogger("meetmesh.edge").warning(
            "EDGE_CONTROL_SECRET is unset: no control feed, so media will not enforce host mutes, removals or ends"
        )
    # Rooms make it an SFU (create_app alone refuses media); the control feed makes media obey host controls.
    app = create_app(settings, hooks=Rooms(control, settings), control=control)
    print(f"\n  meetmesh edge: ws://{settings.host}:{settings.port}{SIGNAL_PATH}\n", flush=True)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        ws="websockets-sansio",
        ws_max_size=settings.max_message_bytes,
    )


if __name__ == "__main__":
    main()

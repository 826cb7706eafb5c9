"""``python -m edge``: serve the edge's signalling WebSocket (``/edge/signal``) on ``EDGE_HOST:EDGE_PORT``."""

from __future__ import annotations

import logging

import uvicorn

from edge.app import build_edge
from edge.ice import use_host_addresses
from edge.settings import Settings
from edge.signalling import SIGNAL_PATH


def main() -> None:
    settings = Settings.from_env()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    use_host_addresses(settings.ice_addresses)
    edge = build_edge(settings)
    if edge.control is None:
        logging.getLogger("meetmesh.edge").warning(
            "EDGE_CONTROL_SECRET is unset: no control feed, so media will not enforce host mutes, removals or ends"
        )
    print(f"\n  meetmesh edge: ws://{settings.host}:{settings.port}{SIGNAL_PATH}\n", flush=True)
    uvicorn.run(
        edge.app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        ws="websockets-sansio",
        ws_max_size=settings.max_message_bytes,
    )


if __name__ == "__main__":
    main()

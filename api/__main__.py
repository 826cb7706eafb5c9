"""``python -m api``: serve the API (and, until the edge and workers exist as processes, only the API)."""

from __future__ import annotations

import logging
import sys
from typing import Any

import uvicorn

from api.app import create_app
from api.settings import Settings


def main() -> None:
    settings = Settings.from_env()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    problem = settings.several_processes_problem()
    if problem:
        print(f"meetmesh: {problem}", file=sys.stderr)
        sys.exit(2)
    # Several processes: uvicorn imports the factory in each (one listening socket, shared); each process reads
    # the same environment, so they are configured alike.
    app: Any = "api.app:create_app" if settings.workers > 1 else create_app(settings)
    # GraphiQL is off unless API_GRAPHIQL=1: its page loads JavaScript from a CDN (docs/api-limits.md).
    ide = f"  (GraphiQL at {settings.base_url}/graphql)" if settings.graphiql else ""
    print(f"\n  meetmesh is up: open {settings.base_url}/{ide}\n", flush=True)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        ws="websockets-sansio",
        # No permessage-deflate (RFC 7692): each connection has its own compressor, so one event to 1,000
        # subscribers meant 1,000 compressions of the same ~300-byte frame - a fifth of the fan-out's CPU
        # (issue 16) - to save a few hundred bytes a frame.
        ws_per_message_deflate=False,
        ws_ping_interval=settings.ws_ping_interval_s or None,
        ws_ping_timeout=settings.ws_ping_timeout_s or None,
        # uvicorn would otherwise rewrite the client address from X-Forwarded-For for any peer in
        # forwarded_allow_ips (127.0.0.1 by default); API_TRUSTED_PROXIES decides that (api/client_address.py).
        proxy_headers=False,
        workers=settings.workers if settings.workers > 1 else None,
        factory=settings.workers > 1,
    )


if __name__ == "__main__":
    main()

"""The idle-subscription benchmark's client against a real API process whose WebSocket keepalive is fast
(``API_WS_PING_INTERVAL_S``): connections opened first must stay open while the rest are still being opened,
which needs each one read - its pings answered - from the moment it is live. No timing is asserted."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from bench.idle_subscriptions import _fixture, open_all
from testkit.server import running_api

PING_S = 0.1
"""Ping interval and pong timeout: a connection nobody reads is closed about 0.2 s after it opened."""
SUBSCRIPTIONS = 40


def test_subscriptions_opened_first_answer_pings_while_the_rest_open() -> None:
    env = {"API_WS_PING_INTERVAL_S": str(PING_S), "API_WS_PING_TIMEOUT_S": str(PING_S)}
    with running_api("meetmesh-test-idle-", extra_env=env) as api:

        async def scenario() -> None:
            token, meeting_id, seq = await _fixture(api.url)
            url = urlsplit(api.url)
            spec = {
                "host": url.hostname,
                "port": url.port,
                "token": token,
                "meeting_id": meeting_id,
                "after": seq,
                "subscribers": SUBSCRIPTIONS,
            }
            loop = asyncio.get_running_loop()
            started = loop.time()
            # One at a time: opening lasts well beyond the first connections' ping deadlines.
            conns, listeners = await open_all(spec, concurrency=1)
            opening_s = loop.time() - started
            await asyncio.sleep(4 * PING_S)
            try:
                assert len(conns) == SUBSCRIPTIONS
                # The first connections saw several ping deadlines pass while the others were opened (else this
                # test shows nothing: raise SUBSCRIPTIONS).
                assert opening_s > 3 * PING_S, opening_s
                closed = [c.close_reason for c, t in zip(conns, listeners, strict=True) if t.done()]
                assert closed == [], closed  # e.g. b'\x03\xf3keepalive ping timeout' from an unread connection
            finally:
                for t in listeners:
                    t.cancel()
                for c in conns:
                    c.writer.close()

        asyncio.run(scenario())

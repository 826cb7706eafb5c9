"""Per-client limits key on the real client: a client on 127.0.0.1 cannot shed the passcode limit by sending a
new ``X-Forwarded-For`` (or ``Forwarded``) each time, while behind a configured trusted proxy the forwarded
address is the client. Real uvicorn (started like ``python -m api``), both databases."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from tests.conftest import RunningServer
from tests.support.world import JOIN, World

_spoof = itertools.count(1)


@contextmanager
def trusting(server: RunningServer, *proxies: str) -> Iterator[None]:
    # Settings are read per request from the running server's services: no second server needed.
    svc = server.app.state.services
    before = svc.settings
    svc.settings = dataclasses.replace(before, trusted_proxies=proxies)
    try:
        yield
    finally:
        svc.settings = before


async def join_code(http: httpx.AsyncClient, server: RunningServer, number: str, headers: dict[str, str]) -> str:
    """The error code of a guest's join with a wrong passcode, sent with ``headers``."""
    variables: dict[str, Any] = {"i": {"number": number, "passcode": "Wrong1", "displayName": "G"}}
    res = await http.post(f"{server.url}/graphql", json={"query": JOIN, "variables": variables}, headers=headers)
    assert res.status_code < 500, res.text
    errors = res.json().get("errors")
    assert errors, res.text
    return str(errors[0]["extensions"]["code"])


def spoofed() -> dict[str, str]:
    n = next(_spoof)
    return {"x-forwarded-for": f"198.51.{n // 250}.{n % 250 + 1}"}


async def passcode_meeting(world: World) -> str:
    host = await world.user()
    m = await world.meeting(host, passcode="Right1", joinBeforeHost=True)
    return str(m["number"])


async def test_rotating_forwarded_headers_do_not_reset_the_passcode_limit(
    server: RunningServer, world: World, http: httpx.AsyncClient
) -> None:
    attempts = server.settings.passcode_attempts
    number = await passcode_meeting(world)

    def forms(k: int) -> dict[str, str]:
        n = next(_spoof) % 250 + 1
        return [
            spoofed(),
            {"forwarded": f"for=203.0.113.{n}"},
            {"x-forwarded-for": f"2001:db8::{n:x}", "forwarded": 'for="[2001:db8::1]"'},
            {"x-real-ip": f"192.0.2.{n}"},
        ][k % 4]

    codes = [await join_code(http, server, number, forms(k)) for k in range(attempts + 3)]
    assert codes[:attempts] == ["BAD_PASSCODE"] * attempts
    assert codes[attempts:] == ["RATE_LIMITED"] * 3, codes


async def test_behind_a_trusted_proxy_the_forwarded_client_is_limited_on_its_own(
    server: RunningServer, world: World, http: httpx.AsyncClient
) -> None:
    attempts = server.settings.passcode_attempts
    number = await passcode_meeting(world)
    with trusting(server, "127.0.0.1/32", "10.0.0.0/8"):
        # One client behind the proxy (and another proxy hop of ours) uses up its attempts...
        alice = {"x-forwarded-for": "203.0.113.7, 10.1.2.3"}
        codes = [await join_code(http, server, number, alice) for _ in range(attempts + 1)]
        assert codes == ["BAD_PASSCODE"] * attempts + ["RATE_LIMITED"]
        # ...whatever she prepends to the header (the proxy appends what it saw: she is still the right-most)...
        forged = {"x-forwarded-for": "192.0.2.99, 203.0.113.7, 10.1.2.3"}
        assert await join_code(http, server, number, forged) == "RATE_LIMITED"
        # ...while another client behind the same proxy still gets its own attempts, also via RFC 7239.
        assert await join_code(http, server, number, {"x-forwarded-for": "203.0.113.8"}) == "BAD_PASSCODE"
        bob = {"forwarded": 'for="[2001:db8:cafe::17]:4711";proto=https, for=10.9.9.9'}
        assert await join_code(http, server, number, bob) == "BAD_PASSCODE"
    # Trust withdrawn: the header is ignored again, and the peer (127.0.0.1) has its own fresh count.
    assert await join_code(http, server, number, alice) == "BAD_PASSCODE"

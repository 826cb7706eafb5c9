"""A signed-in SDK client outlives its access token: calls and event streams refresh it once and go on
(a server whose access tokens last 3 s: long enough that a retry right after a refresh holds on a loaded box)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from meetmesh import AsyncClient, UnauthenticatedError

from tests.conftest import RunningServer, make_settings


@pytest.fixture
async def short_tokens(tmp_path: Path) -> AsyncIterator[RunningServer]:
    srv = RunningServer(make_settings(tmp_path, access_token_ttl_s=3))
    await srv.start()
    yield srv
    await srv.stop()


async def test_expired_access_tokens_are_refreshed(short_tokens: RunningServer) -> None:
    async with AsyncClient(short_tokens.url) as mm, AsyncClient(short_tokens.url) as guest:
        first = await mm.sign_up(f"ttl{secrets.token_hex(5)}@example.test", "correct horse", "Ttl")
        m = await mm.create_meeting("Long", passcode="", settings={"guestWaitingRoom": False})
        await mm.join(m.number)
        async with mm.events(m.id) as stream:
            await asyncio.sleep(4)  # the token expires
            me = await mm.me()
            assert me is not None and me.id == first.user.id and mm.token != first.access_token
            await asyncio.sleep(4)
            before = mm.token
            await stream.drop_connection()  # the reconnection presents an expired token: refreshed, resumed
            await guest.join(m.number, display_name="Late")
            e = await asyncio.wait_for(stream.__anext__(), 10)
            assert e.participant is not None and e.participant.display_name == "Late"
            assert mm.token != before and stream.connections >= 3  # refused with the old token, then refreshed
        # Without a session (a bare expired token) nothing can be refreshed: the error reaches the caller.
        async with AsyncClient(short_tokens.url, token=first.access_token) as bare:
            with pytest.raises(UnauthenticatedError):
                await bare.me()

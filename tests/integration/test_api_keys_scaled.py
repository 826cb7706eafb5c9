"""API keys across two real API processes (one PostgreSQL, one Redis): a key's rate is one count for the whole
deployment (the Redis Lua limiter, taken before the work), and a revocation through one process holds at once in
the other (the key row is read on every request; nothing caches it)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from testkit.server import ApiProcess
from tests.support.gql import Client
from tests.support.rest import REVOKE_KEY, Rest, api_key
from tests.support.scaled import api_pair as running_pair
from tests.support.world import World

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def api_pair(pg_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ApiProcess, ApiProcess]]:
    with running_pair(pg_database, tmp_path_factory.mktemp("keys-pair")) as pair:
        yield pair


async def test_one_rate_and_one_revocation_for_all_processes(api_pair: tuple[ApiProcess, ApiProcess]) -> None:
    a, b = api_pair
    async with httpx.AsyncClient(timeout=30) as http:
        ada = await World(Client(a.url, http)).user("Ada")
        secret, key_id = await api_key(ada, ["users:read"], rate=6)
        on_a, on_b = Rest(a.url, http, secret), Rest(b.url, http, secret)
        # 14 at once, 7 through each process: exactly 6 pass in all.
        answers = await asyncio.gather(*((on_a if i % 2 else on_b)("GET", "/me") for i in range(14)))
        assert sorted(r.status_code for r in answers) == [200] * 6 + [429] * 8
        other, other_id = await api_key(ada, ["users:read"])
        assert (await Rest(b.url, http, other).ok("GET", "/me"))["id"] == ada.user_id
        await ada.client(REVOKE_KEY, id=other_id)  # through process A
        await Rest(b.url, http, other).error("GET", "/me", 401, "UNAUTHENTICATED")
        assert key_id != other_id

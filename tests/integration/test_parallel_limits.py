"""Limits a parallel attacker cannot outrun: every guess is counted before its secret is checked, in one process
and across processes sharing Redis."""

from __future__ import annotations

import asyncio
import math
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.limits import DEFAULTS
from testkit.server import ApiProcess
from tests.conftest import RunningServer, make_settings
from tests.support.gql import Client, GraphQLError
from tests.support.scaled import api_pair as running_pair
from tests.support.world import JOIN, World

REDIS_URL = "redis://127.0.0.1:6379/0"
ATTEMPTS = 5  # API_PASSCODE_ATTEMPTS' default


async def _outcome(client: Client, query: str, **variables: Any) -> str:
    body = await client.raw(query, **variables)
    if body.get("errors"):
        return str(GraphQLError(body["errors"]).code)
    return "OK"


async def _guess_in_parallel(clients: list[Client], number: str, right: str, n: int = 40) -> Counter[str]:
    """``n`` parallel joins, all wrong but the last, spread over ``clients`` (all on one address)."""
    guesses = [f"Wrong{k:03d}" for k in range(n - 1)] + [right]
    return Counter(
        await asyncio.gather(
            *(
                _outcome(clients[k % len(clients)], JOIN, i={"number": number, "passcode": g, "displayName": f"G{k}"})
                for k, g in enumerate(guesses)
            )
        )
    )


def _checked(outcomes: Counter[str]) -> int:
    """How many guesses reached the passcode check (the rest were refused before it)."""
    return outcomes["BAD_PASSCODE"] + outcomes["OK"]


async def test_parallel_wrong_passcodes_are_counted_before_they_are_checked(world: World, anon: Client) -> None:
    host = await world.user()
    m = await world.meeting(host, passcode="Right7", joinBeforeHost=True, waitingRoom=False)
    outcomes = await _guess_in_parallel([anon], m["number"], "Right7")
    assert _checked(outcomes) <= ATTEMPTS, outcomes
    assert outcomes["RATE_LIMITED"] >= 40 - ATTEMPTS, outcomes
    assert set(outcomes) <= {"BAD_PASSCODE", "OK", "RATE_LIMITED"}, outcomes


async def test_a_right_passcode_gives_its_attempt_back(world: World, anon: Client) -> None:
    """Reserve-then-refund: people who type the passcode right never use up the limit, however many they are."""
    host = await world.user()
    m = await world.meeting(host, passcode="Right8", joinBeforeHost=True, waitingRoom=False)
    for k in range(ATTEMPTS * 2):
        _, data = await world.join(None, m, name=f"Friend {k}", passcode="Right8")
        assert data["status"] == "ADMITTED"
    # …and the wrong ones still count, up to the limit.
    results = [
        await _outcome(anon, JOIN, i={"number": m["number"], "passcode": f"Nope{k}", "displayName": "X"})
        for k in range(ATTEMPTS + 1)
    ]
    assert results == ["BAD_PASSCODE"] * ATTEMPTS + ["RATE_LIMITED"]


SHARE = """mutation($r: ID!, $p: String) { createRecordingShare(recordingId: $r, passcode: $p) { id } }"""


@pytest.fixture(scope="module")
def redis_pair(pg_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ApiProcess, ApiProcess]]:
    with running_pair(pg_database, tmp_path_factory.mktemp("limits-pair"), "limits") as pair:
        yield pair


@pytest.mark.postgres
async def test_parallel_wrong_passcodes_through_two_processes_on_redis(
    redis_pair: tuple[ApiProcess, ApiProcess],
) -> None:
    a, b = redis_pair
    async with httpx.AsyncClient(timeout=60, trust_env=False) as http:
        ca, cb = Client(a.url, http), Client(b.url, http)
        world = World(ca)
        host = await world.user()
        m = await world.meeting(host, passcode="Right9", joinBeforeHost=True, waitingRoom=False)
        outcomes = await _guess_in_parallel([ca, cb], m["number"], "Right9")
        assert _checked(outcomes) <= ATTEMPTS, outcomes
        assert outcomes["RATE_LIMITED"] >= 40 - ATTEMPTS, outcomes
        # Log-in guessing is limited across both processes too: per account, before the password is checked.
        email = f"victim-{secrets.token_hex(4)}@example.test"
        await ca(
            "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }",
            i={"email": email, "password": "the right one", "displayName": "Victim"},
        )
        login = "mutation($i: LogInInput!) { logIn(input: $i) { accessToken } }"
        started = time.monotonic()
        tries = await asyncio.gather(
            *(_outcome((ca, cb)[k % 2], login, i={"email": email, "password": f"guess number {k}"}) for k in range(30))
        )
        elapsed = time.monotonic() - started
        wrong = Counter(tries)
        # 5 free failures, then one more after 1 s, 2 s, 4 s ... (the growing delay): on a slow host the burst
        # may last long enough for a few of those.
        extra = math.floor(math.log2(1 + elapsed / DEFAULTS["login-account"].backoff_s))
        assert wrong["UNAUTHENTICATED"] <= ATTEMPTS + extra, (wrong, elapsed)
        assert wrong["RATE_LIMITED"] >= 30 - ATTEMPTS - extra, (wrong, elapsed)


# -- per-address limits, on a server with the default limits (the shared test server lifts them) ------------


@pytest.fixture
async def strict(tmp_path: Path) -> AsyncIterator[Client]:
    srv = RunningServer(make_settings(tmp_path, rate_limits=""))
    await srv.start()
    try:
        async with httpx.AsyncClient(timeout=30, trust_env=False) as http:
            yield Client(srv.url, http)
    finally:
        await srv.stop()


SIGN_UP = "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }"
LOG_IN = "mutation($i: LogInInput!) { logIn(input: $i) { accessToken } }"
LOBBY = "query($n: String!) { meetingLobby(number: $n) { title } }"


async def test_sign_ups_per_address_are_limited(strict: Client) -> None:
    limit = DEFAULTS["signup-address"].limit
    outcomes = await asyncio.gather(
        *(
            _outcome(
                strict,
                SIGN_UP,
                i={"email": f"n{k}-{secrets.token_hex(3)}@example.test", "password": "long enough", "displayName": "N"},
            )
            for k in range(limit + 5)
        )
    )
    assert Counter(outcomes) == {"OK": limit, "RATE_LIMITED": 5}


async def test_failed_log_ins_slow_down_per_account_and_a_right_password_does_not_count(strict: Client) -> None:
    email = f"slow-{secrets.token_hex(3)}@example.test"
    await strict(SIGN_UP, i={"email": email, "password": "the real password", "displayName": "S"})
    # Right passwords give their attempt back: any number of them.
    for _ in range(8):
        await strict(LOG_IN, i={"email": email, "password": "the real password"})
    free = DEFAULTS["login-account"].limit
    for k in range(free):
        assert await _outcome(strict, LOG_IN, i={"email": email, "password": f"wrong {k}"}) == "UNAUTHENTICATED"
    err = await strict.error(LOG_IN, i={"email": email, "password": "the real password"})
    assert err.code == "RATE_LIMITED"
    retry = err.errors[0]["extensions"]["retryAfter"]
    assert 0 < retry <= DEFAULTS["login-account"].backoff_s + 0.5  # a growing delay, not the whole window
    await asyncio.sleep(retry + 0.05)
    assert await _outcome(strict, LOG_IN, i={"email": email, "password": "wrong again"}) == "UNAUTHENTICATED"
    err = await strict.error(LOG_IN, i={"email": email, "password": "wrong again"})
    assert err.code == "RATE_LIMITED" and err.errors[0]["extensions"]["retryAfter"] > retry  # it grew
    # Unknown accounts are limited the same way (the answer does not tell which emails have accounts).
    ghost = f"ghost-{secrets.token_hex(3)}@example.test"
    codes = [await _outcome(strict, LOG_IN, i={"email": ghost, "password": "x" * 9}) for _ in range(free + 1)]
    assert codes == ["UNAUTHENTICATED"] * free + ["RATE_LIMITED"]


async def test_meeting_number_look_ups_are_limited_per_address(strict: Client) -> None:
    limit = DEFAULTS["lobby-address"].limit
    numbers = [f"{secrets.randbelow(10**10) + 10**10}" for _ in range(limit + 3)]
    outcomes = Counter([await _outcome(strict, LOBBY, n=n) for n in numbers])
    assert outcomes == {"NOT_FOUND": limit, "RATE_LIMITED": 3}


async def test_joins_per_address_are_limited(strict: Client) -> None:
    limit = DEFAULTS["join-address"].limit
    numbers = [f"{secrets.randbelow(10**10) + 10**10}" for _ in range(limit + 2)]
    outcomes = Counter(
        await asyncio.gather(*(_outcome(strict, JOIN, i={"number": n, "displayName": "Walker"}) for n in numbers))
    )
    assert outcomes == {"NOT_FOUND": limit, "RATE_LIMITED": 2}

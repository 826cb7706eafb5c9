"""Document limits on a real server: hostile documents are refused quickly with BAD_INPUT and never stall the
event loop (/healthz keeps answering), the cost limit, and the size limits applied before parsing."""

from __future__ import annotations

import asyncio
import time

import httpx

from bench.graphql_validation import SHAPES, doubling_fragments
from tests.conftest import RunningServer
from tests.support.gql import Client
from tests.support.world import World

HEALTHZ_BOUND_S = 1.0
"""Generous for a loaded CI host; the old validators stalled the loop 10 s on the 20-level document."""


async def test_hostile_documents_do_not_stall_the_event_loop(server: RunningServer, anon: Client) -> None:
    # 20 levels: ~10 s for the old validators (2^20 walks); the other shapes at a moderate size beside it.
    others = [make(60) for name, make in SHAPES.items() if name != "doubling_fragments"]
    documents = [doubling_fragments(20), *others]
    gaps: list[float] = []
    done = asyncio.Event()

    async def probe() -> None:
        # The server shares this event loop, so a stall shows as a long gap between two answers (whether the
        # probe was waiting for an answer or sleeping). A fresh connection each time: a pooled one may have
        # been closed by the server meanwhile.
        async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_keepalive_connections=0)) as fresh:
            last = time.perf_counter()
            while not done.is_set():
                res = await fresh.get(f"{server.url}/healthz")
                assert res.status_code == 200
                now = time.perf_counter()
                gaps.append(now - last)
                last = now
                await asyncio.sleep(0.02)

    took: list[float] = []

    async def attack() -> list[dict[str, object]]:
        answers = []
        try:
            for doc in documents:
                start = time.perf_counter()
                answers.append(await anon.raw(doc))
                took.append(time.perf_counter() - start)
            return answers
        finally:
            done.set()

    await anon.raw("{ __typename }")  # the session's first request may pay for warm-up
    prober = asyncio.create_task(probe())
    started = time.perf_counter()
    answers = await attack()
    elapsed = time.perf_counter() - started
    await prober
    assert max(gaps) < HEALTHZ_BOUND_S, (
        f"/healthz went {max(gaps):.2f} s without answering while hostile documents ran; they took {took}"
    )
    assert elapsed < 5 * HEALTHZ_BOUND_S, f"{len(documents)} hostile documents took {elapsed:.1f} s"
    for doc, body in zip(documents, answers, strict=True):
        for error in body.get("errors") or []:  # type: ignore[attr-defined]
            assert error["extensions"]["code"] == "BAD_INPUT", (doc[:60], error)
    exponential = answers[0]
    assert exponential["errors"][0]["message"] == "a selection set spreads 9 fragments; the limit is 8"  # type: ignore[index]


async def test_cost_limit_is_enforced_with_the_cost_in_the_message(world: World) -> None:
    host = await world.user()
    # myMeetings pages by `first`; each meeting's participants count as 20 (no page argument).
    people = "{ id displayName role state audioMuted mutedByHost videoOn sharing handRaisedAt }"
    over = (
        f"query($f: Int!) {{ myMeetings(first: $f) {{ items {{ id participants {people} raisedHands {people} }} }} }}"
    )
    err = await host.client.error(over, f=3)
    assert err.code == "BAD_INPUT"
    # myMeetings 1 + 100 (a variable page size counts as the largest) x items (1 + id 1 + participants
    # (1 + 20 x 9) + raisedHands (1 + 20 x 9)) = 36,401.
    assert str(err) == "BAD_INPUT: the operation costs 36,401; the limit is 20,000"
    under = f"{{ myMeetings(first: 10) {{ items {{ id participants {people} raisedHands {people} }} }} }}"
    assert (await host.client(under))["myMeetings"]["items"] == []


async def test_depth_and_alias_limits(anon: Client) -> None:
    # Aliases count at every spread of the fragment that holds them.
    aliased = "{ ...A ...A } fragment A on Query { " + " ".join(f"a{i}: __typename" for i in range(16)) + " }"
    err = await anon.error(aliased)
    assert str(err) == "BAD_INPUT: the operation has 32 aliases; the limit is 30"
    # Our schema has no cycles, so only a document of unknown fields nests this deep; the limit answers first.
    nested = "{" + " me {" * 13 + " id" + " }" * 13 + " }"
    assert str(await anon.error(nested)) == "BAD_INPUT: the operation nests fields 13 deep; the limit is 12"


async def test_size_limits_apply_before_parsing(server: RunningServer, anon: Client) -> None:
    limits_bytes = 8 * 1024
    huge = "{ __typename }" + " " * limits_bytes
    err = await anon.error(huge)
    assert err.code == "BAD_INPUT" and "bytes; the limit is 8,192" in str(err)
    # Multi-byte characters count as bytes, not characters.
    wide = "{ __typename } #" + "é" * (limits_bytes // 2)
    assert "bytes; the limit is" in str(await anon.error(wide))
    tokens = "{" + " a" * 1001 + " }"
    err = await anon.error(tokens)
    assert err.code == "BAD_INPUT" and "tokens" in str(err)
    assert "tokens" not in str(await anon.error("{" + " a" * 900 + " }"))  # under the token limit

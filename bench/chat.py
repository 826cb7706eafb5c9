"""Chat send throughput: ``sendChatMessage`` requests/s and p99 on one API process (embedded defaults).

Senders take turns (64 guests in one meeting), so no sender nears the 10 messages/s per-participant limit:
what is measured is the server's cost per message (permission check, insert, full-text index, event log,
publish), not the rate limiter.
"""

from __future__ import annotations

import itertools
import secrets

import httpx

from bench.graphql import CREATE, REQUEST_TIMEOUT_S, SIGN_UP, GraphQLFailure, gql
from bench.loadgen import LoadSpec, check, measure

SENDERS = 64
SPEC = LoadSpec(max_requests=40_000)
JOIN = "mutation($i: JoinMeetingInput!) { joinMeeting(input: $i) { status guestToken } }"
SEND = "mutation($i: SendChatMessageInput!) { sendChatMessage(input: $i) { id text } }"


async def run(base_url: str, spec: LoadSpec = SPEC) -> dict[str, float]:
    limits = httpx.Limits(max_connections=spec.concurrency, max_keepalive_connections=spec.concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=REQUEST_TIMEOUT_S, trust_env=False) as http:
        email = f"bench-chat-{secrets.token_hex(6)}@example.test"
        host = (await gql(http, SIGN_UP, {"i": {"email": email, "password": "bench password", "displayName": "Host"}}))[
            "signUp"
        ]["accessToken"]
        # Guests let straight in (no passcode, no guest waiting room): joining is set-up here, not what is measured.
        settings = {"maxParticipants": 1000, "joinBeforeHost": True, "guestWaitingRoom": False}
        create = {"i": {"title": "Bench chat", "passcode": "", "settings": settings}}
        meeting = (await gql(http, CREATE, create, host))["createMeeting"]
        tokens = []
        for n in range(SENDERS):
            joined = (await gql(http, JOIN, {"i": {"number": meeting["number"], "displayName": f"Sender {n}"}}))[
                "joinMeeting"
            ]
            tokens.append(joined["guestToken"])
        print(f"  set up a meeting with {SENDERS} senders", flush=True)
        turn = itertools.count()

        async def op() -> None:
            n = next(turn)
            text = f"message {n}: the quick brown fox jumps over the lazy dog"
            sent = await gql(http, SEND, {"i": {"meetingId": meeting["id"], "text": text}}, tokens[n % SENDERS])
            if sent["sendChatMessage"]["text"] != text:
                raise GraphQLFailure(f"sent {text!r}, stored {sent['sendChatMessage']['text']!r}")

        out = await measure(op, spec)
        check("sendChatMessage", out)
    return {"chat_send_rps": round(out.rps, 1), "chat_send_p99_ms": round(out.percentile_ms(99), 2)}

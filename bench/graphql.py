"""GraphQL control-plane throughput: the ``meeting(id)`` query as its host and guest ``joinMeeting``."""

from __future__ import annotations

import itertools
import math
import secrets
from dataclasses import dataclass
from typing import Any

import httpx

from bench.loadgen import LoadSpec, Outcome, check, measure

SIGN_UP = "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }"
CREATE = "mutation($i: CreateMeetingInput!) { createMeeting(input: $i) { id number } }"
MEETING = "query($id: ID!) { meeting(id: $id) { id title status settings { maxParticipants } } }"
# The join token is part of the answer on purpose: signing it is part of what a real join costs.
JOIN = """mutation($i: JoinMeetingInput!) { joinMeeting(input: $i) {
  status meetingId guestToken participant { id } joinToken { token } } }"""

MAX_PARTICIPANTS = 1000  # the API's cap per meeting
JOINS_PER_MEETING = 900  # margin under the cap so no join can hit MEETING_FULL
REQUEST_TIMEOUT_S = 10.0

QUERY_SPEC = LoadSpec(max_requests=60_000)
JOIN_SPEC = LoadSpec(max_requests=20_000)


class GraphQLFailure(Exception):
    pass


@dataclass(frozen=True, slots=True)
class MeetingRef:
    id: str
    number: str


@dataclass(frozen=True, slots=True)
class Fixture:
    host_token: str
    meetings: list[MeetingRef]


def _describe_errors(errors: list[dict[str, Any]]) -> str:
    return "; ".join(f"{e.get('extensions', {}).get('code')}: {e.get('message')}" for e in errors)


async def gql(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str | None = None
) -> dict[str, Any]:
    """POST one operation; return ``data`` or raise GraphQLFailure for a non-200 answer or any ``errors``."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    res = await http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    if res.status_code != 200:
        raise GraphQLFailure(f"HTTP {res.status_code}: {res.text[:200]}")
    body = res.json()
    if body.get("errors"):
        raise GraphQLFailure(_describe_errors(body["errors"]))
    data = body.get("data")
    if not isinstance(data, dict):
        raise GraphQLFailure(f"no data in {str(body)[:200]}")
    return data


async def set_up(http: httpx.AsyncClient, meetings: int) -> Fixture:
    email = f"bench-host-{secrets.token_hex(6)}@example.test"
    data = await gql(http, SIGN_UP, {"i": {"email": email, "password": "bench password", "displayName": "Bench Host"}})
    token = data["signUp"]["accessToken"]
    settings = {
        "maxParticipants": MAX_PARTICIPANTS,
        "allowGuests": True,
        "joinBeforeHost": True,
        "guestWaitingRoom": False,
    }
    refs: list[MeetingRef] = []
    for n in range(meetings):  # sequential: setup is not what is measured
        # joinBeforeHost: guests are admitted straight away instead of waiting for the (absent) host.
        created = await gql(
            http, CREATE, {"i": {"title": f"Bench meeting {n}", "passcode": "", "settings": settings}}, token
        )
        refs.append(MeetingRef(id=created["createMeeting"]["id"], number=created["createMeeting"]["number"]))
    return Fixture(host_token=token, meetings=refs)


async def measure_meeting_query(http: httpx.AsyncClient, fx: Fixture, spec: LoadSpec) -> Outcome:
    turn = itertools.count()

    async def op() -> None:
        ref = fx.meetings[next(turn) % len(fx.meetings)]
        data = await gql(http, MEETING, {"id": ref.id}, fx.host_token)
        if data["meeting"]["id"] != ref.id:
            raise GraphQLFailure(f"asked for meeting {ref.id}, got {data['meeting']['id']}")

    return await measure(op, spec)


async def measure_guest_join(http: httpx.AsyncClient, fx: Fixture, spec: LoadSpec) -> Outcome:
    seat = itertools.count()  # every join is a new anonymous guest, so each one admits a distinct participant

    async def op() -> None:
        n = next(seat)
        ref = fx.meetings[n // JOINS_PER_MEETING]  # fill meetings one after another, never past the margin
        data = await gql(http, JOIN, {"i": {"number": ref.number, "displayName": f"Guest {n}"}})
        joined = data["joinMeeting"]
        if joined["status"] != "ADMITTED" or joined["meetingId"] != ref.id or not joined["joinToken"]:
            raise GraphQLFailure(f"join not admitted: {str(joined)[:200]}")

    return await measure(op, spec)


def meetings_needed(spec: LoadSpec) -> int:
    return math.ceil(spec.total_max_requests / JOINS_PER_MEETING)


async def run(base_url: str, query_spec: LoadSpec = QUERY_SPEC, join_spec: LoadSpec = JOIN_SPEC) -> dict[str, float]:
    concurrency = max(query_spec.concurrency, join_spec.concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    # trust_env=False: never route loopback traffic through a proxy from the environment.
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=REQUEST_TIMEOUT_S, trust_env=False) as http:
        fx = await set_up(http, meetings_needed(join_spec))
        print(f"  set up 1 host and {len(fx.meetings)} meetings", flush=True)
        query = await measure_meeting_query(http, fx, query_spec)
        check("meeting(id) query", query)
        join = await measure_guest_join(http, fx, join_spec)
        check("joinMeeting (guests)", join)
    return {
        "graphql_query_rps": round(query.rps, 1),
        "graphql_query_p99_ms": round(query.percentile_ms(99), 2),
        "join_rps": round(join.rps, 1),
        "join_p99_ms": round(join.percentile_ms(99), 2),
    }

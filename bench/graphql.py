"""Control-plane throughput: the ``meeting(id)`` query as its host and guest ``joinMeeting`` over GraphQL, and the
same meeting read over REST (``GET /api/v1/meetings/{id}``) with an API key and with the host's access token, in
the same run so the numbers sit side by side."""

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

CREATE_KEY = "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret } }"
# Each key allows at most 60,000 requests a minute (api/apikeys): spread the load over a few so the bench measures
# the REST path, not the rate limit refusing it.
BENCH_KEYS = 4

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
    api_keys: list[str]


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
    keys = [
        (
            await gql(
                http,
                CREATE_KEY,
                {"i": {"name": f"bench {n}", "scopes": ["meetings:read"], "ratePerMinute": 60_000}},
                token,
            )
        )["createApiKey"]["secret"]
        for n in range(BENCH_KEYS)
    ]
    return Fixture(host_token=token, meetings=refs, api_keys=keys)


async def measure_meeting_query(http: httpx.AsyncClient, fx: Fixture, spec: LoadSpec) -> Outcome:
    turn = itertools.count()

    async def op() -> None:
        ref = fx.meetings[next(turn) % len(fx.meetings)]
        data = await gql(http, MEETING, {"id": ref.id}, fx.host_token)
        if data["meeting"]["id"] != ref.id:
            raise GraphQLFailure(f"asked for meeting {ref.id}, got {data['meeting']['id']}")

    return await measure(op, spec)


async def measure_rest_meeting_get(http: httpx.AsyncClient, fx: Fixture, spec: LoadSpec, *, with_key: bool) -> Outcome:
    """``GET /api/v1/meetings/{id}``: what ``meeting(id)`` reads, through the REST façade and the same service."""
    turn = itertools.count()

    async def op() -> None:
        n = next(turn)
        ref = fx.meetings[n % len(fx.meetings)]
        token = fx.api_keys[n % len(fx.api_keys)] if with_key else fx.host_token
        res = await http.get(f"/api/v1/meetings/{ref.id}", headers={"authorization": f"Bearer {token}"})
        if res.status_code != 200:
            raise GraphQLFailure(f"HTTP {res.status_code}: {res.text[:200]}")
        if res.json()["id"] != ref.id:
            raise GraphQLFailure(f"asked for meeting {ref.id}, got {res.json()['id']}")

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
        rest_key = await measure_rest_meeting_get(http, fx, query_spec, with_key=True)
        check("GET /api/v1/meetings/{id} (API key)", rest_key)
        rest_session = await measure_rest_meeting_get(http, fx, query_spec, with_key=False)
        check("GET /api/v1/meetings/{id} (access token)", rest_session)
        join = await measure_guest_join(http, fx, join_spec)
        check("joinMeeting (guests)", join)
    return {
        "graphql_query_rps": round(query.rps, 1),
        "graphql_query_p99_ms": round(query.percentile_ms(99), 2),
        "rest_meeting_get_rps": round(rest_key.rps, 1),
        "rest_meeting_get_p99_ms": round(rest_key.percentile_ms(99), 2),
        "rest_meeting_get_session_rps": round(rest_session.rps, 1),
        "join_rps": round(join.rps, 1),
        "join_p99_ms": round(join.percentile_ms(99), 2),
    }

"""Factories for tests: users, meetings and participants made through the public GraphQL API."""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass
from typing import Any

from tests.support.gql import Client

_n = itertools.count(1)

SIGN_UP = """mutation($i: SignUpInput!) { signUp(input: $i) { accessToken refreshToken user { id displayName } } }"""
CREATE = """mutation($i: CreateMeetingInput!) { createMeeting(input: $i) { id number status eventSeq } }"""
JOIN = """mutation($i: JoinMeetingInput!) { joinMeeting(input: $i) {
  status guestToken meetingId eventSeq
  participant { id displayName role state audioMuted mutedByHost videoOn waitingReason }
  joinToken { token expiresAt edgeUrl } } }"""


@dataclass
class Person:
    client: Client
    name: str
    user_id: str | None = None
    participant_id: str | None = None
    refresh_token: str | None = None


class World:
    def __init__(self, anon: Client) -> None:
        self.anon = anon

    async def user(self, name: str | None = None) -> Person:
        name = name or f"User {next(_n)}"
        email = f"u{secrets.token_hex(6)}@example.test"
        data = await self.anon(SIGN_UP, i={"email": email, "password": "correct horse", "displayName": name})
        s = data["signUp"]
        return Person(self.anon.with_token(s["accessToken"]), name, s["user"]["id"], refresh_token=s["refreshToken"])

    async def meeting(self, host: Person, title: str = "Test meeting", **settings: Any) -> dict[str, Any]:
        """A meeting with the old open defaults unless a test asks otherwise (no generated passcode, guests let
        in without the waiting room): tests of those defaults create their meetings themselves."""
        settings.setdefault("guestWaitingRoom", False)
        extra = {k: settings.pop(k) for k in ("passcode", "startsAt", "recurrence", "timezone") if k in settings}
        extra.setdefault("passcode", "")
        data = await host.client(CREATE, i={"title": title, "settings": settings, **extra})
        m: dict[str, Any] = data["createMeeting"]
        return m

    async def join(
        self,
        who: Person | None,
        meeting: dict[str, Any],
        *,
        name: str | None = None,
        passcode: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> tuple[Person, dict[str, Any]]:
        """Join as ``who`` (or as a new guest when None). Returns the person (with participant id) and payload.
        ``extra``: more ``JoinMeetingInput`` fields (e.g. ``edgeRtts``)."""
        client = who.client if who else self.anon
        i: dict[str, Any] = {"number": meeting["number"], "passcode": passcode, **(extra or {})}
        if name or who is None:
            i["displayName"] = name or f"Guest {next(_n)}"
        data = (await client(JOIN, i=i))["joinMeeting"]
        if who is None:
            who = Person(self.anon.with_token(data["guestToken"]), i["displayName"])
        who.participant_id = data["participant"]["id"]
        return who, data


async def seq(who: Person, m: dict[str, Any]) -> int:
    """The meeting's current sequence: subscribing with afterSeq=this cannot miss what happens next (a
    subscription registers on the server some time after the client sends it)."""
    value: int = (await who.client("query($m: ID!) { meeting(id: $m) { eventSeq } }", m=m["id"]))["meeting"]["eventSeq"]
    return value


async def live_meeting(world: World, **settings: Any) -> tuple[Person, dict[str, Any]]:
    host = await world.user("Host")
    m = await world.meeting(host, **settings)
    await world.join(host, m)
    return host, m

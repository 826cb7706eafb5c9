"""Locust scenario: meeting hosts who sign up, create a meeting, then join and leave it again and again.

Every request is a GraphQL POST whose answer is checked: a 200 carrying ``errors`` is a failure, as is a
missing field, so Locust's failure count is the API's real error count. Run via ``python -m loadtests.smoke``
(which starts a throwaway API) or directly: ``locust -f loadtests/locustfile.py --host http://127.0.0.1:8000``.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from locust import HttpUser, between, task
from locust.exception import StopUser

from loadtests.graphql import Check, gql

SIGN_UP = "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken refreshToken expiresIn } }"
REFRESH = "mutation($t: String!) { refreshTokens(refreshToken: $t) { accessToken refreshToken expiresIn } }"
CREATE = "mutation($i: CreateMeetingInput!) { createMeeting(input: $i) { id number } }"
JOIN = "mutation($i: JoinMeetingInput!) { joinMeeting(input: $i) { status meetingId joinToken { token } } }"
LEAVE = "mutation($id: ID!) { leaveMeeting(meetingId: $id) { id state } }"


REFRESH_MARGIN_S = 60  # renew the access token this long before it expires, so long runs do not go UNAUTHENTICATED


def _admitted(data: dict[str, Any]) -> str | None:
    status = data["joinMeeting"]["status"]
    return None if status == "ADMITTED" else f"the host was not admitted: {status}"


class MeetingHost(HttpUser):
    wait_time = between(0.5, 1.5)

    token: str | None = None
    refresh_token: str = ""
    token_expires_at: float = 0.0
    meeting_id: str = ""
    number: str = ""

    def on_start(self) -> None:
        self.client.trust_env = False  # loopback only: ignore any proxy configured in the environment
        email = f"load-{uuid.uuid4().hex}@example.test"
        signed_up = self.gql(
            "signUp", SIGN_UP, {"i": {"email": email, "password": "load test password", "displayName": "Load Host"}}
        )
        if signed_up is None:
            raise StopUser  # the failure is recorded already; without an account there is nothing to do
        self._take_tokens(signed_up["signUp"])
        created = self.gql("createMeeting", CREATE, {"i": {"title": "Load test", "settings": {"maxParticipants": 10}}})
        if created is None:
            raise StopUser
        self.meeting_id = created["createMeeting"]["id"]
        self.number = created["createMeeting"]["number"]

    @task
    def join_then_leave(self) -> None:
        self._refresh_if_due()
        joined = self.gql("joinMeeting", JOIN, {"i": {"number": self.number}}, check=_admitted)
        if joined is None:
            return  # leaving would only add a second, derived failure
        self.wait()  # type: ignore[no-untyped-call]  # stay in the meeting for a while, as people do
        self.gql("leaveMeeting", LEAVE, {"id": self.meeting_id})

    def _take_tokens(self, payload: dict[str, Any]) -> None:
        self.token = payload["accessToken"]
        self.refresh_token = payload["refreshToken"]
        self.token_expires_at = time.monotonic() + payload["expiresIn"]

    def _refresh_if_due(self) -> None:
        if time.monotonic() < self.token_expires_at - REFRESH_MARGIN_S:
            return
        refreshed = self.gql("refreshTokens", REFRESH, {"t": self.refresh_token})
        if refreshed is not None:
            self._take_tokens(refreshed["refreshTokens"])

    def gql(
        self, name: str, query: str, variables: dict[str, Any], check: Check | None = None
    ) -> dict[str, Any] | None:
        """POST one operation named ``name`` in the stats; return ``data``, or None after reporting a failure."""
        return gql(self.client, name, query, variables, self.token, check)

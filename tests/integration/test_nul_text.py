"""Text with a NUL character (U+0000), which PostgreSQL cannot store or compare, through every kind of field
that reaches a query: ids, numbers, emails, names, search terms, free text. Each answer is a coded refusal
(BAD_INPUT, or NOT_FOUND where the value is simply no such thing), never INTERNAL, on SQLite and PostgreSQL;
the fixture in tests/conftest.py also fails the test if the server logged an error."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import RunningServer
from tests.support.gql import Client
from tests.support.world import World

NUL_TEXTS = ["\x00", "a\x00b", "\x00" * 300, "meeting\x00'; --", "é\x00"]
REFUSALS = {"BAD_INPUT", "NOT_FOUND", "UNAUTHENTICATED", "FORBIDDEN", "BAD_PASSCODE"}


async def _refused(client: Client, query: str, **variables: Any) -> str:
    err = await client.error(query, **variables)
    assert err.code in REFUSALS, (query[:60], variables, err)
    return str(err.code)


async def test_nul_in_any_field_is_refused_with_a_code(world: World, anon: Client) -> None:
    host = await world.user("Host")
    m = await world.meeting(host, joinBeforeHost=True, passcode="Right1")
    await world.join(host, m)
    for bad in NUL_TEXTS:
        await _refused(host.client, "query($id: ID!) { meeting(id: $id) { id } }", id=bad)
        await _refused(host.client, "query($id: ID!) { recording(id: $id) { id } }", id=bad)
        await _refused(host.client, "query($id: ID!) { chatMessages(meetingId: $id) { items { id } } }", id=bad)
        await _refused(anon, "query($n: String!) { meetingLobby(number: $n) { title } }", n=bad)
        await _refused(
            anon,
            "mutation($i: LogInInput!) { logIn(input: $i) { accessToken } }",
            i={"email": f"x{bad}@example.test", "password": "whatever1"},
        )
        await _refused(
            anon,
            "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }",
            i={"email": f"n{bad}@example.test", "password": "long enough", "displayName": "N"},
        )
        await _refused(
            anon,
            "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }",
            i={"email": "fine@example.test", "password": "long enough", "displayName": f"N{bad}"},
        )
        await _refused(host.client, "query($q: String!) { searchChat(query: $q) { items { messageId } } }", q=bad)
        await _refused(host.client, "mutation($p: ID!) { removeParticipant(participantId: $p) { id } }", p=bad)
        await _refused(
            anon,
            "mutation($i: JoinMeetingInput!) { joinMeeting(input: $i) { status } }",
            i={"number": m["number"], "displayName": "G", "clientToken": bad, "inviteKey": bad, "passcode": bad},
        )
    # Literals in the document, not only variables.
    await _refused(host.client, 'query { meeting(id: "a\\u0000b") { id } }')


async def test_nul_in_plain_http_routes_is_refused(
    server: RunningServer, world: World, http: httpx.AsyncClient
) -> None:
    host = await world.user("Host")
    for path in ("/meetings/a%00b/files?filename=x.txt", "/recordings/a%00b/media/recording.mp4", "/files/a%00b"):
        res = await http.request(
            "POST" if "files?" in path else "GET",
            f"{server.url}{path}",
            content=b"x",
            headers={"authorization": f"Bearer {host.client.token}"},
        )
        assert 400 <= res.status_code < 500, (path, res.status_code, res.text)

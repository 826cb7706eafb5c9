"""Statement budgets of the hot operations (issue 16: the database path, not GraphQL, is where a request's time
goes). Each operation is run against the real API on SQLite and PostgreSQL while its statements are counted; a
change that adds a query to one of them fails here. BEGIN counts where the driver sends it as a statement
(SQLite: writes take BEGIN IMMEDIATE); reads run without one."""

from __future__ import annotations

from tests.conftest import RunningServer
from tests.support.sql_count import statements, transactions
from tests.support.world import World

MEETING = "query($id: ID!) { meeting(id: $id) { id title number status } }"
LOBBY = "query($n: String!) { meetingLobby(number: $n) { title hostName hasPasscode allowGuests status } }"

JOIN = "mutation($i: JoinMeetingInput!) { joinMeeting(input: $i) { status joinToken { token } } }"

BUDGETS = {"meeting": 2, "meetingLobby": 1, "joinMeeting": 6}
"""meeting(id): the signed-in account still exists + the meeting with the caller's participation.
meetingLobby: the meeting with its host's name.
joinMeeting (a guest, admitted at once): one write transaction - BEGIN (SQLite), the meeting locked with who is in
and who is blocked (one statement), the participant inserted in its final state, its attendance, the meeting's
event sequence, the event (was 11 statements in two transactions)."""


async def test_reads_stay_within_their_statement_budgets(server: RunningServer, world: World) -> None:
    host = await world.user()
    m = await world.meeting(host)
    await world.join(host, m)
    guest, _ = await world.join(None, m, name="Budget guest")
    for who in (host, guest):
        with statements(server) as sql:
            data = await who.client(MEETING, id=m["id"])
        assert data["meeting"]["id"] == m["id"]
        assert len(sql) <= BUDGETS["meeting"], sql
    with statements(server) as sql:
        data = await world.anon(LOBBY, n=m["number"])
    assert data["meetingLobby"]["hostName"] == host.name
    assert len(sql) <= BUDGETS["meetingLobby"], sql


async def test_the_budgets_do_not_hide_a_refusal(server: RunningServer, world: World) -> None:
    # The single joined query must still refuse outsiders and people in the waiting room.
    host = await world.user()
    m = await world.meeting(host, guestWaitingRoom=True)
    outsider = await world.user()
    error = await outsider.client.error(MEETING, id=m["id"])
    assert error.code == "FORBIDDEN"
    await world.join(host, m)
    waiting, data = await world.join(None, m, name="Waiting guest")
    assert data["status"] == "WAITING"
    error = await waiting.client.error(MEETING, id=m["id"])
    assert error.code == "FORBIDDEN" and "waiting room" in error.errors[0]["message"]
    error = await host.client.error(MEETING, id="no-such-meeting")
    assert error.code == "NOT_FOUND"


async def test_a_guest_join_stays_within_its_budget(server: RunningServer, world: World) -> None:
    host = await world.user()
    m = await world.meeting(host)
    await world.join(host, m)
    with statements(server) as sql, transactions(server) as txs:
        data = await world.anon(JOIN, i={"number": m["number"], "displayName": "Budget joiner"})
    assert data["joinMeeting"]["status"] == "ADMITTED" and data["joinMeeting"]["joinToken"]["token"]
    assert len(sql) <= BUDGETS["joinMeeting"], sql
    assert txs == ["write"], txs


async def test_a_passcode_join_checks_the_passcode_outside_the_meeting_lock(
    server: RunningServer, world: World
) -> None:
    # The first transaction stops at the passcode (argon2 runs with no lock held); the second one joins.
    host = await world.user()
    m = await world.meeting(host, passcode="secret42")
    await world.join(host, m)
    with transactions(server) as txs:
        data = await world.anon(
            JOIN, i={"number": m["number"], "displayName": "Passcode joiner", "passcode": "secret42"}
        )
    assert data["joinMeeting"]["status"] == "ADMITTED"
    assert txs == ["write", "write"], txs
    with transactions(server) as txs:
        error = await world.anon.error(JOIN, i={"number": m["number"], "displayName": "Guesser", "passcode": "nope1"})
    assert error.code == "BAD_PASSCODE" and txs == ["write"], (error.code, txs)

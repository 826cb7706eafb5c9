"""The async SDK against a live API server (SQLite and PostgreSQL): accounts, meetings, joining, host controls,
chat, polls, recordings, and errors as typed exceptions with the API's codes."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from meetmesh import (
    AsyncClient,
    BadInputError,
    BadPasscodeError,
    ForbiddenError,
    Meeting,
    NotFoundError,
    TransportError,
    UnauthenticatedError,
)

from tests.conftest import RunningServer


def email() -> str:
    return f"sdk{secrets.token_hex(6)}@example.test"


@pytest.fixture
async def host(server: RunningServer) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(server.url) as client:
        await client.sign_up(email(), "correct horse", "SDK Host")
        yield client


async def open_meeting(host: AsyncClient) -> Meeting:
    m = await host.create_meeting("SDK meeting", passcode="", settings={"guestWaitingRoom": False})
    await host.join(m.number)
    return m


async def test_accounts_sign_up_log_in_refresh_and_log_out(server: RunningServer) -> None:
    address = email()
    async with AsyncClient(server.url) as a:
        s = await a.sign_up(address, "correct horse", "Ada")
        assert s.user.display_name == "Ada" and a.token == s.access_token
        me = await a.me()
        assert me is not None and me.email == address
        again = await a.refresh()
        assert again.user.id == s.user.id and again.refresh_token != s.refresh_token
        await a.log_out()
        assert a.token is None and await a.me() is None
    async with AsyncClient(server.url) as b:
        assert (await b.log_in(address, "correct horse")).user.id == s.user.id
        with pytest.raises(UnauthenticatedError) as bad:
            await b.log_in(address, "wrong password")
        assert bad.value.code == "UNAUTHENTICATED"


async def test_meetings_and_joining_as_member_and_guest(server: RunningServer, host: AsyncClient) -> None:
    m = await host.create_meeting("Planning", description="Q3", passcode="abc123")
    assert m.title == "Planning" and m.has_passcode and m.passcode == "abc123" and m.my_role == "HOST"
    joined = await host.join(m.number, passcode="abc123")
    assert joined.status == "ADMITTED" and joined.participant.role == "HOST" and joined.join_token is not None
    updated = await host.update_meeting(m.id, title="Planning (moved)")
    assert updated.title == "Planning (moved)"
    async with AsyncClient(server.url) as guest:
        with pytest.raises(BadPasscodeError):
            await guest.join(m.number, passcode="nope99", display_name="Grace")
        g = await guest.join(m.number, passcode="abc123", display_name="Grace")
        assert guest.token == g.guest_token and g.participant.is_guest
        assert g.status == "WAITING" and g.participant.state == "WAITING"  # guests wait by default
        with pytest.raises(ForbiddenError):
            await guest.send_chat(m.id, "let me in")
        assert (await host.admit(g.participant.id)).state == "ADMITTED"
        assert (await guest.meeting(m.id)).my_participant_id == g.participant.id
        left = await guest.leave(m.id)
        assert left.state == "LEFT"
    with pytest.raises(NotFoundError):
        await host.meeting("00000000-0000-0000-0000-000000000000")
    with pytest.raises(BadInputError) as bad:
        await host.create_meeting("")
    assert bad.value.field is not None


async def test_meetings_pages_upcoming_and_past(server: RunningServer, host: AsyncClient) -> None:
    base = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    made = [
        await host.create_meeting(f"Series {n}", starts_at=(base + timedelta(days=n)).isoformat()) for n in (2, 0, 1)
    ]
    soonest_first = [made[1].id, made[2].id, made[0].id]
    first = await host.meetings("upcoming", first=2)
    assert [m.id for m in first.items] == soonest_first[:2] and first.next_cursor is not None
    assert all(m.my_role == "HOST" and m.status == "SCHEDULED" for m in first.items)
    rest = await host.meetings("upcoming", first=2, after=first.next_cursor)
    assert [m.id for m in rest.items] == soonest_first[2:] and rest.next_cursor is None
    assert [m.id for m in (await host.meetings()).items] == soonest_first  # the default: upcoming, 20

    assert (await host.meetings("past")).items == []
    await host.cancel_meeting(made[2].id)
    ended = await open_meeting(host)
    await host.end_meeting(ended.id)
    past = await host.meetings("past")
    assert [(m.id, m.status) for m in past.items] == [(made[2].id, "CANCELLED"), (ended.id, "ENDED")]  # latest first
    assert past.next_cursor is None
    assert [m.id for m in (await host.meetings("upcoming")).items] == [made[1].id, made[0].id]

    with pytest.raises(BadInputError) as bad:
        await host.meetings("past", first=0)
    assert bad.value.field == "first"
    with pytest.raises(ValueError):
        await host.meetings("soon")  # type: ignore[arg-type]
    async with AsyncClient(server.url) as anonymous:
        with pytest.raises(UnauthenticatedError):
            await anonymous.meetings()


async def test_host_controls_and_their_permissions(server: RunningServer, host: AsyncClient) -> None:
    m = await open_meeting(host)
    async with AsyncClient(server.url) as guest, AsyncClient(server.url) as other:
        g = (await guest.join(m.number, display_name="Guest")).participant
        o = (await other.join(m.number, display_name="Other")).participant
        assert (await guest.raise_hand(m.id)).hand_raised_at is not None
        assert (await host.lower_hand(g.id)).hand_raised_at is None
        assert (await host.mute(g.id)).muted_by_host
        assert (await host.rename(g.id, "Renamed")).display_name == "Renamed"
        assert (await host.make_cohost(g.id)).role == "COHOST"
        assert (await host.revoke_cohost(g.id)).role == "GUEST"
        with pytest.raises(ForbiddenError) as denied:
            await guest.mute(o.id)
        assert denied.value.code == "FORBIDDEN"
        assert (await host.lock(m.id)).locked
        assert not (await host.unlock(m.id)).locked
        await host.mute_all(m.id, allow_self_unmute=False)
        assert (await host.remove(o.id, block=False)).state == "REMOVED"
        states = {p.id: p.state for p in await host.participants(m.id, ["ADMITTED", "REMOVED"])}
        assert states[g.id] == "ADMITTED" and states[o.id] == "REMOVED"
        waiting = await host.set_waiting_room(m.id, True)
        assert waiting.id == m.id


async def test_chat_and_polls(server: RunningServer, host: AsyncClient) -> None:
    m = await open_meeting(host)
    async with AsyncClient(server.url) as guest:
        g = (await guest.join(m.number, display_name="Voter")).participant
        sent = await guest.send_chat(m.id, "hello")
        assert sent.text == "hello" and sent.sender_id == g.id and not sent.is_private
        reply = await host.send_chat(m.id, "hi back", reply_to_id=sent.id)
        private = await host.send_chat(m.id, "psst", to_participant_id=g.id)
        assert private.is_private and private.recipient_id == g.id
        assert (await guest.edit_chat(sent.id, "hello!")).edited_at is not None
        history = await host.chat_history(m.id)
        assert {x.id for x in history} >= {sent.id, reply.id, private.id}
        assert (await host.delete_chat(reply.id)).deleted

        poll = await host.create_poll(m.id, "Lunch?", ["Pizza", "Salad"])
        assert poll.status == "DRAFT" and [o.text for o in poll.options] == ["Pizza", "Salad"]
        await host.launch_poll(poll.id)
        voted = await guest.vote(poll.id, [poll.options[1].id])
        assert voted.id == poll.id
        ended = await host.end_poll(poll.id)
        assert ended.results is not None and ended.results.voter_count == 1
        votes = {o.option_id: o.votes for o in ended.results.options}
        assert votes == {poll.options[0].id: 0, poll.options[1].id: 1}
        assert (await host.share_poll_results(poll.id)).results_shared
        assert [p.id for p in await guest.polls(m.id)] == [poll.id]
        with pytest.raises(ForbiddenError):
            await guest.create_poll(m.id, "Mine?", ["a", "b"])


async def test_recordings_start_stop_and_list(server: RunningServer, host: AsyncClient) -> None:
    m = await open_meeting(host)
    started = await host.start_recording(m.id)
    assert started.meeting_id == m.id and started.status == "RECORDING"
    stopped = await host.stop_recording(m.id)
    assert stopped.id == started.id and stopped.stopped_at is not None
    assert [r.id for r in await host.recordings(m.id)] == [started.id]
    one = await host.recording(started.id)
    assert one.id == started.id and one.transcript == []


async def test_an_api_key_works_as_the_token_within_its_scopes(server: RunningServer, host: AsyncClient) -> None:
    m = await host.create_meeting("Keyed")
    create_key = "mutation($i: CreateApiKeyInput!) { r: createApiKey(input: $i) { secret } }"
    key = await host.execute(create_key, i={"name": "sdk", "scopes": ["meetings:read"]})
    async with AsyncClient(server.url, token=key["secret"]) as keyed:
        assert (await keyed.meeting(m.id)).title == "Keyed"
        with pytest.raises(ForbiddenError):
            await keyed.create_meeting("Not with a read-only key")


async def test_an_unreachable_server_is_a_transport_error() -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with AsyncClient(f"http://127.0.0.1:{port}") as nowhere:
        with pytest.raises(TransportError) as err:
            await nowhere.me()
        assert err.value.code == "UNREACHABLE"
        with pytest.raises(TransportError):
            async with nowhere.events("m1", after_seq=0, max_reconnects=0) as stream:
                await stream.__anext__()

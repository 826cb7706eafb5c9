"""Joining a meeting: every status and error code, guests, the waiting room, join tokens, leaving, capacity."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import jwt

from tests.support.gql import Client
from tests.support.world import Person, World

JOIN = """mutation($i: JoinMeetingInput!) { joinMeeting(input: $i) {
  status guestToken meetingId
  participant { id meetingId displayName role state waitingReason isGuest audioMuted mutedByHost joinedAt }
  joinToken { token expiresAt edgeUrl } } }"""
CREATE = """mutation($i: CreateMeetingInput!) { createMeeting(input: $i) { id number numberDisplay } }"""
REFRESH = "mutation($m: ID!) { refreshJoinToken(meetingId: $m) { token expiresAt edgeUrl } }"
LEAVE = "mutation($m: ID!) { leaveMeeting(meetingId: $m) { id state } }"
ADMIT = "mutation($p: ID!) { admitParticipant(participantId: $p) { id state waitingReason } }"
REMOVE = "mutation($p: ID!, $b: Boolean!) { removeParticipant(participantId: $p, block: $b) { id state } }"
LOCK = "mutation($m: ID!) { lockMeeting(meetingId: $m) { locked } }"
UNLOCK = "mutation($m: ID!) { unlockMeeting(meetingId: $m) { locked } }"
END = "mutation($m: ID!) { endMeeting(id: $m) { status } }"
SELF_UNMUTE = "mutation($m: ID!, $a: Boolean!) { setAllowSelfUnmute(meetingId: $m, allowed: $a) { id } }"
ASK_UNMUTE = "mutation($p: ID!) { askToUnmute(participantId: $p) { id } }"
MEDIA = """mutation($m: ID!, $i: UpdateMyMediaInput!) { updateMyMedia(meetingId: $m, input: $i) {
  id audioMuted mutedByHost videoOn } }"""
PARTICIPANTS = """query($id: ID!, $s: [ParticipantState!]) { meeting(id: $id) {
  status participants(states: $s) { id displayName role state waitingReason isGuest } } }"""
ATTENDANCE = "query($id: ID!) { meeting(id: $id) { attendance { participantId displayName state at } } }"


async def _meeting(host: Person, **i: Any) -> dict[str, Any]:
    settings = {"guestWaitingRoom": False, **i.pop("settings", {})}  # the open defaults these tests were written for
    i.setdefault("passcode", "")
    data = await host.client(CREATE, i={"title": i.pop("title", "Sync"), "settings": settings, **i})
    m: dict[str, Any] = data["createMeeting"]
    return m


async def _join(client: Client, m: dict[str, Any], **extra: Any) -> dict[str, Any]:
    data = await client(JOIN, i={"number": m["number"], **extra})
    r: dict[str, Any] = data["joinMeeting"]
    return r


async def _join_error(client: Client, m: dict[str, Any] | str, **extra: Any) -> Any:
    number = m if isinstance(m, str) else m["number"]
    return await client.error(JOIN, i={"number": number, **extra})


async def _participants(host: Person, m: dict[str, Any], *states: str) -> list[dict[str, Any]]:
    data = await host.client(PARTICIPANTS, id=m["id"], s=list(states) or None)
    parts: list[dict[str, Any]] = data["meeting"]["participants"]
    return parts


async def _public_key(anon: Client) -> str:
    res = await anon.http.get(f"{anon.base_url}/.well-known/meetmesh/join-token-key")
    assert res.status_code == 200
    assert "BEGIN PUBLIC KEY" in res.text
    return res.text


def _claims(token: str, pem: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, pem, algorithms=["EdDSA"], audience="meetmesh-edge")
    return claims


# -- statuses ------------------------------------------------------------------------------------------------


async def test_host_then_user_join_admitted_with_tokens(world: World, anon: Client) -> None:
    host, ann = await world.user("Host"), await world.user("Ann")
    m = await _meeting(host)
    h = await _join(host.client, m)
    assert h["status"] == "ADMITTED" and h["meetingId"] == m["id"]
    assert h["guestToken"] is None
    p = h["participant"]
    assert (p["role"], p["state"], p["isGuest"], p["displayName"], p["waitingReason"]) == (
        "HOST",
        "ADMITTED",
        False,
        "Host",
        None,
    )
    assert p["joinedAt"] is not None and p["meetingId"] == m["id"]
    assert h["joinToken"] is not None and h["joinToken"]["edgeUrl"].startswith("ws")

    # People type the number grouped, with spaces or dashes.
    dashed = m["numberDisplay"].replace(" ", "-")
    a = (await ann.client(JOIN, i={"number": dashed, "displayName": "Ann B."}))["joinMeeting"]
    assert a["status"] == "ADMITTED"
    assert (a["participant"]["role"], a["participant"]["displayName"]) == ("PARTICIPANT", "Ann B.")
    assert a["participant"]["id"] != p["id"]
    admitted = await _participants(host, m)
    assert sorted(x["id"] for x in admitted) == sorted([p["id"], a["participant"]["id"]])


async def test_joining_twice_returns_the_same_participant(world: World) -> None:
    host, ann = await world.user(), await world.user()
    m = await _meeting(host)
    await _join(host.client, m)
    first = await _join(ann.client, m)
    second = await _join(ann.client, m)
    assert second["participant"]["id"] == first["participant"]["id"]
    assert second["status"] == "ADMITTED" and second["joinToken"] is not None
    admitted = await _participants(host, m)
    assert len(admitted) == 2
    history = (await host.client(ATTENDANCE, id=m["id"]))["meeting"]["attendance"]
    assert [e["state"] for e in history if e["participantId"] == first["participant"]["id"]] == ["ADMITTED"]
    # Same for the host.
    again = await _join(host.client, m)
    assert again["participant"]["role"] == "HOST"
    assert len(await _participants(host, m)) == 2


# -- error codes ---------------------------------------------------------------------------------------------


async def test_unknown_and_malformed_numbers(world: World, anon: Client) -> None:
    host = await world.user()
    m = await _meeting(host)
    n = m["number"]
    unknown = n[:-1] + str((int(n[-1]) + 1) % 10)
    assert (await _join_error(host.client, unknown)).code == "NOT_FOUND"
    assert (await _join_error(anon, unknown, displayName="G")).code == "NOT_FOUND"
    for bad in ("12345", "abcdefghijk", "123.4567.8901", "01234567890", "", "123 4567 8901 2"):
        err = await _join_error(host.client, bad)
        assert (err.code, err.field) == ("BAD_INPUT", "number"), bad


async def test_passcode_wrong_missing_and_right(world: World) -> None:
    host, ann = await world.user(), await world.user()
    m = await _meeting(host, passcode="Open42")
    # The owner is never asked.
    assert (await _join(host.client, m))["status"] == "ADMITTED"
    assert (await _join_error(ann.client, m)).code == "BAD_PASSCODE"
    assert (await _join_error(ann.client, m, passcode="")).code == "BAD_PASSCODE"
    assert (await _join_error(ann.client, m, passcode="open42")).code == "BAD_PASSCODE"  # case matters
    assert (await _join_error(world.anon, m, displayName="G", passcode="nope")).code == "BAD_PASSCODE"
    ok = await _join(ann.client, m, passcode="Open42")
    assert ok["status"] == "ADMITTED"
    # Someone already in is not asked again.
    assert (await _join(ann.client, m))["participant"]["id"] == ok["participant"]["id"]


async def test_too_many_wrong_passcodes_is_rate_limited(world: World, anon: Client) -> None:
    host, ann = await world.user(), await world.user()
    m = await _meeting(host, passcode="Right1", settings={"joinBeforeHost": True})
    for k in range(5):
        err = await _join_error(ann.client, m, passcode=f"Wrong{k}")
        assert err.code == "BAD_PASSCODE", (k, err)
    err = await _join_error(ann.client, m, passcode="Right1")
    assert err.code == "RATE_LIMITED", err
    retry = err.errors[0]["extensions"]["retryAfter"]
    assert isinstance(retry, int | float) and 0 < retry <= 300
    # The limit is per client and meeting: the same client (anonymous this time) is refused too…
    assert (await _join_error(anon, m, passcode="Right1", displayName="G")).code == "RATE_LIMITED"
    # …but another meeting is unaffected, and the owner (never asked for the passcode) still gets in.
    other = await _meeting(host, passcode="Right1", settings={"joinBeforeHost": True})
    assert (await _join(ann.client, other, passcode="Right1"))["status"] == "ADMITTED"
    assert (await _join(host.client, m))["status"] == "ADMITTED"


async def test_locked_meeting_refuses_newcomers_but_not_the_host(world: World, anon: Client) -> None:
    host, ann, bob = await world.user(), await world.user(), await world.user()
    m = await _meeting(host)
    await _join(host.client, m)
    a = await _join(ann.client, m)
    assert (await host.client(LOCK, m=m["id"]))["lockMeeting"]["locked"] is True
    assert (await _join_error(bob.client, m)).code == "MEETING_LOCKED"
    assert (await _join_error(anon, m, displayName="G")).code == "MEETING_LOCKED"
    # Ann is in already: asking again is fine. Once she leaves she is a newcomer again.
    assert (await _join(ann.client, m))["participant"]["id"] == a["participant"]["id"]
    await ann.client(LEAVE, m=m["id"])
    assert (await _join_error(ann.client, m)).code == "MEETING_LOCKED"
    # The host may leave and come back.
    await host.client(LEAVE, m=m["id"])
    back = await _join(host.client, m)
    assert back["status"] == "ADMITTED" and back["participant"]["role"] == "HOST"
    await host.client(UNLOCK, m=m["id"])
    assert (await _join(bob.client, m))["status"] == "ADMITTED"


async def test_full_meeting(world: World, anon: Client) -> None:
    host, ann, bob = await world.user(), await world.user(), await world.user()
    m = await _meeting(host, settings={"maxParticipants": 2})
    await _join(host.client, m)
    await _join(ann.client, m)
    assert (await _join_error(bob.client, m)).code == "MEETING_FULL"
    assert (await _join_error(anon, m, displayName="G")).code == "MEETING_FULL"
    assert len(await _participants(host, m)) == 2
    # A seat frees up when someone leaves.
    await ann.client(LEAVE, m=m["id"])
    assert (await _join(bob.client, m))["status"] == "ADMITTED"
    assert (await _join_error(ann.client, m)).code == "MEETING_FULL"


async def test_waiters_let_in_by_the_host_arriving_respect_capacity(world: World) -> None:
    host = await world.user()
    m = await _meeting(host, settings={"maxParticipants": 2})  # host + 1
    early = [await world.user() for _ in range(3)]
    for u in early:
        r = await _join(u.client, m)
        assert (r["status"], r["participant"]["waitingReason"]) == ("WAITING", "host_absent")
    await _join(host.client, m)
    admitted = await _participants(host, m, "ADMITTED")
    assert len(admitted) <= 2, f"{len(admitted)} admitted in a meeting for 2"
    assert len(admitted) == 2
    assert len(await _participants(host, m, "WAITING")) == 2  # the others keep waiting for a seat


async def test_ended_meeting(world: World, anon: Client) -> None:
    host, ann = await world.user(), await world.user()
    m = await _meeting(host)
    await _join(host.client, m)
    await host.client(END, m=m["id"])
    assert (await _join_error(ann.client, m)).code == "MEETING_ENDED"
    assert (await _join_error(anon, m, displayName="G")).code == "MEETING_ENDED"
    assert (await _join_error(host.client, m)).code == "MEETING_ENDED"


async def test_guests_refused_when_not_allowed(world: World, anon: Client) -> None:
    host, ann = await world.user(), await world.user()
    m = await _meeting(host, settings={"allowGuests": False})
    await _join(host.client, m)
    assert (await _join_error(anon, m, displayName="Gus")).code == "FORBIDDEN"
    assert (await _join(ann.client, m))["status"] == "ADMITTED"

    # A guest who got in earlier is refused once guests are turned off.
    open_ = await _meeting(host)
    await _join(host.client, open_)
    g = await _join(anon, open_, displayName="Gus")
    guest = anon.with_token(g["guestToken"])
    await guest(LEAVE, m=open_["id"])
    await host.client(
        "mutation($id: ID!) { updateMeeting(id: $id, input: {settings: {allowGuests: false}}) { id } }",
        id=open_["id"],
    )
    assert (await _join_error(guest, open_)).code == "FORBIDDEN"


async def test_removed_and_blocked_cannot_come_back(world: World, anon: Client) -> None:
    host, ann, bob = await world.user(), await world.user(), await world.user()
    m = await _meeting(host)
    await _join(host.client, m)
    a = await _join(ann.client, m)
    b = await _join(bob.client, m)
    g = await _join(anon, m, displayName="Gus")
    removed = (await host.client(REMOVE, p=a["participant"]["id"], b=True))["removeParticipant"]
    assert removed["state"] == "REMOVED"
    assert (await _join_error(ann.client, m)).code == "FORBIDDEN"
    await host.client(REMOVE, p=g["participant"]["id"], b=True)
    assert (await _join_error(anon.with_token(g["guestToken"]), m)).code == "FORBIDDEN"
    # Removed without a block: may come back, as the same participant.
    await host.client(REMOVE, p=b["participant"]["id"], b=False)
    back = await _join(bob.client, m)
    assert back["status"] == "ADMITTED" and back["participant"]["id"] == b["participant"]["id"]
    states = {p["id"]: p["state"] for p in await _participants(host, m, "ADMITTED", "REMOVED")}
    assert states[a["participant"]["id"]] == "REMOVED" and states[g["participant"]["id"]] == "REMOVED"


# -- guests --------------------------------------------------------------------------------------------------


async def test_guest_join_and_rejoin_with_the_guest_token(world: World, anon: Client) -> None:
    host = await world.user()
    m = await _meeting(host)
    await _join(host.client, m)
    assert (await _join_error(anon, m)).code == "BAD_INPUT"  # a guest must give a name
    err = await _join_error(anon, m, displayName="   ")
    assert (err.code, err.field) == ("BAD_INPUT", "displayName")

    g = await _join(anon, m, displayName="Gus")
    assert g["status"] == "ADMITTED" and g["guestToken"]
    p = g["participant"]
    assert (p["role"], p["isGuest"], p["displayName"]) == ("GUEST", True, "Gus")
    guest = anon.with_token(g["guestToken"])
    again = await _join(guest, m)
    assert again["participant"]["id"] == p["id"] and again["guestToken"] is None
    await guest(LEAVE, m=m["id"])
    back = await _join(guest, m)
    assert back["participant"]["id"] == p["id"] and back["participant"]["state"] == "ADMITTED"
    # Anonymous again (no token): a different guest.
    other = await _join(anon, m, displayName="Gus")
    assert other["participant"]["id"] != p["id"]
    guests = [x for x in await _participants(host, m) if x["isGuest"]]
    assert len(guests) == 2


# -- the waiting room and join-before-host ---------------------------------------------------------------------


async def test_waiting_room_then_admitted_by_the_host(world: World) -> None:
    host, ann = await world.user(), await world.user()
    m = await _meeting(host, settings={"waitingRoom": True})
    await _join(host.client, m)
    w = await _join(ann.client, m)
    assert (w["status"], w["participant"]["state"], w["participant"]["waitingReason"]) == (
        "WAITING",
        "WAITING",
        "waiting_room",
    )
    assert w["joinToken"] is None
    assert (await ann.client.error(REFRESH, m=m["id"])).code == "FORBIDDEN"
    # Asking again while waiting: still waiting, same participant.
    again = await _join(ann.client, m)
    assert (again["status"], again["participant"]["id"]) == ("WAITING", w["participant"]["id"])
    waiting = await _participants(host, m, "WAITING")
    assert [x["id"] for x in waiting] == [w["participant"]["id"]]

    admitted = (await host.client(ADMIT, p=w["participant"]["id"]))["admitParticipant"]
    assert (admitted["state"], admitted["waitingReason"]) == ("ADMITTED", None)
    tok = (await ann.client(REFRESH, m=m["id"]))["refreshJoinToken"]
    assert _claims(tok["token"], await _public_key(ann.client))["sub"] == w["participant"]["id"]
    now_in = await _join(ann.client, m)
    assert now_in["status"] == "ADMITTED" and now_in["joinToken"] is not None


async def test_waiting_for_the_host_then_let_in_when_the_host_arrives(world: World) -> None:
    host, ann = await world.user(), await world.user()
    m = await _meeting(host)  # joinBeforeHost defaults to false
    w = await _join(ann.client, m)
    assert (w["status"], w["participant"]["waitingReason"]) == ("WAITING", "host_absent")
    assert (await ann.client.error(REFRESH, m=m["id"])).code == "FORBIDDEN"
    h = await _join(host.client, m)
    assert h["status"] == "ADMITTED"
    states = {x["id"]: x for x in await _participants(host, m, "ADMITTED", "WAITING")}
    assert states[w["participant"]["id"]]["state"] == "ADMITTED"
    assert states[w["participant"]["id"]]["waitingReason"] is None
    assert (await ann.client(REFRESH, m=m["id"]))["refreshJoinToken"]["token"]


async def test_join_before_host_allowed(world: World) -> None:
    host, ann = await world.user(), await world.user()
    m = await _meeting(host, settings={"joinBeforeHost": True})
    r = await _join(ann.client, m)
    assert r["status"] == "ADMITTED" and r["participant"]["role"] == "PARTICIPANT"
    assert (await host.client(PARTICIPANTS, id=m["id"], s=None))["meeting"]["status"] == "LIVE"


async def test_host_arriving_after_early_joiners_takes_charge(world: World) -> None:
    host, ann = await world.user(), await world.user()
    m = await _meeting(host, settings={"joinBeforeHost": True})
    assert (await _join(ann.client, m))["status"] == "ADMITTED"  # the meeting is live before the host is here
    h = await _join(host.client, m)
    assert h["status"] == "ADMITTED"
    assert (h["participant"]["role"], h["participant"]["state"]) == ("HOST", "ADMITTED")
    roles = sorted(x["role"] for x in await _participants(host, m))
    assert roles == ["HOST", "PARTICIPANT"]


async def test_host_arrival_does_not_skip_the_waiting_room(world: World) -> None:
    host, ann = await world.user(), await world.user()
    m = await _meeting(host, settings={"waitingRoom": True})
    w = await _join(ann.client, m)
    assert w["participant"]["waitingReason"] == "waiting_room"
    await _join(host.client, m)
    waiting = await _participants(host, m, "WAITING")
    assert [x["id"] for x in waiting] == [w["participant"]["id"]]


# -- media on entry --------------------------------------------------------------------------------------------


async def test_mute_on_entry_and_asking_to_unmute(world: World) -> None:
    host, ann = await world.user(), await world.user()
    m = await _meeting(host, settings={"muteOnEntry": True})
    h = await _join(host.client, m)
    assert (h["participant"]["audioMuted"], h["participant"]["mutedByHost"]) == (False, False)
    a = await _join(ann.client, m)
    assert (a["participant"]["audioMuted"], a["participant"]["mutedByHost"]) == (True, True)

    await host.client(SELF_UNMUTE, m=m["id"], a=False)
    assert (await ann.client.error(MEDIA, m=m["id"], i={"audioMuted": False})).code == "FORBIDDEN"
    # Other self-controls still work while muted by the host.
    cam = (await ann.client(MEDIA, m=m["id"], i={"videoOn": True}))["updateMyMedia"]
    assert (cam["videoOn"], cam["audioMuted"]) == (True, True)
    await host.client(ASK_UNMUTE, p=a["participant"]["id"])
    unmuted = (await ann.client(MEDIA, m=m["id"], i={"audioMuted": False}))["updateMyMedia"]
    assert (unmuted["audioMuted"], unmuted["mutedByHost"]) == (False, False)
    # Muting and unmuting oneself is always allowed.
    await ann.client(MEDIA, m=m["id"], i={"audioMuted": True})
    assert (await ann.client(MEDIA, m=m["id"], i={"audioMuted": False}))["updateMyMedia"]["audioMuted"] is False


async def test_mute_on_entry_with_self_unmute_allowed(world: World) -> None:
    host, ann = await world.user(), await world.user()
    m = await _meeting(host, settings={"muteOnEntry": True})
    await _join(host.client, m)
    a = await _join(ann.client, m)
    assert a["participant"]["mutedByHost"] is True
    unmuted = (await ann.client(MEDIA, m=m["id"], i={"audioMuted": False}))["updateMyMedia"]
    assert (unmuted["audioMuted"], unmuted["mutedByHost"]) == (False, False)


# -- join tokens -----------------------------------------------------------------------------------------------


async def test_join_token_is_an_eddsa_jwt_for_the_edge(world: World, anon: Client) -> None:
    host, ann = await world.user("Host"), await world.user("Ann")
    m = await _meeting(host, settings={"hostOnlyScreenShare": True})
    pem = await _public_key(anon)
    h = await _join(host.client, m)
    a = await _join(ann.client, m)
    g = await _join(anon, m, displayName="Gus")

    for r, role in ((h, "host"), (a, "participant"), (g, "guest")):
        token = r["joinToken"]["token"]
        assert token.count(".") == 2 and all(token.split("."))
        claims = _claims(token, pem)
        assert claims["sub"] == r["participant"]["id"]
        assert claims["mtg"] == m["id"]
        assert claims["role"] == role
        assert claims["iss"] == "meetmesh-api"
        assert claims["name"] == r["participant"]["displayName"]
        expires = datetime.fromisoformat(r["joinToken"]["expiresAt"])
        assert claims["exp"] == int(expires.timestamp())
        assert 0 < claims["exp"] - datetime.now(UTC).timestamp() <= 3600
    assert set(_claims(h["joinToken"]["token"], pem)["pub"]) == {"audio", "video", "screen"}
    for r in (a, g):
        pub = _claims(r["joinToken"]["token"], pem)["pub"]
        assert set(pub) == {"audio", "video"} and "screen" not in pub

    # Without the host-only rule a guest may share a screen.
    open_ = await _meeting(host)
    await _join(host.client, open_)
    g2 = await _join(anon, open_, displayName="Gus")
    assert "screen" in _claims(g2["joinToken"]["token"], pem)["pub"]

    # A refreshed token is new, and still verifies.
    fresh = (await anon.with_token(g["guestToken"])(REFRESH, m=m["id"]))["refreshJoinToken"]["token"]
    assert fresh != g["joinToken"]["token"]
    assert _claims(fresh, pem)["sub"] == g["participant"]["id"]
    # Tampering breaks the signature.
    head, body, sig = fresh.split(".")
    forged = f"{head}.{body}.{sig[:10]}{'A' if sig[10] != 'A' else 'B'}{sig[11:]}"
    try:
        _claims(forged, pem)
    except jwt.InvalidSignatureError:
        pass
    else:
        raise AssertionError("a forged token verified")


async def test_refresh_join_token_needs_a_participant(world: World, anon: Client) -> None:
    host, stranger = await world.user(), await world.user()
    m = await _meeting(host)
    assert (await stranger.client.error(REFRESH, m=m["id"])).code == "NOT_FOUND"
    assert (await anon.error(REFRESH, m=m["id"])).code == "UNAUTHENTICATED"
    await _join(host.client, m)
    await host.client(LEAVE, m=m["id"])
    assert (await host.client.error(REFRESH, m=m["id"])).code == "FORBIDDEN"


# -- leaving -------------------------------------------------------------------------------------------------


async def test_leave_and_the_attendance_history(world: World) -> None:
    host, ann = await world.user("Host"), await world.user("Ann")
    m = await _meeting(host)
    h = await _join(host.client, m)
    a = await _join(ann.client, m)
    left = (await ann.client(LEAVE, m=m["id"]))["leaveMeeting"]
    assert left == {"id": a["participant"]["id"], "state": "LEFT"}
    assert (await ann.client.error(LEAVE, m=m["id"])).code == "CONFLICT"
    assert [x["id"] for x in await _participants(host, m)] == [h["participant"]["id"]]

    history = (await host.client(ATTENDANCE, id=m["id"]))["meeting"]["attendance"]
    mine = [e for e in history if e["participantId"] == a["participant"]["id"]]
    assert [e["state"] for e in mine] == ["ADMITTED", "LEFT"]
    assert mine[0]["displayName"] == "Ann"
    assert datetime.fromisoformat(mine[0]["at"]) <= datetime.fromisoformat(mine[1]["at"])
    assert [e["state"] for e in history if e["participantId"] == h["participant"]["id"]] == ["ADMITTED"]
    ats = [datetime.fromisoformat(e["at"]) for e in history]
    assert ats == sorted(ats)
    # Only hosts see it.
    back = await _join(ann.client, m)
    assert back["participant"]["id"] == a["participant"]["id"]
    assert (await ann.client.error(ATTENDANCE, id=m["id"])).code == "FORBIDDEN"
    history = (await host.client(ATTENDANCE, id=m["id"]))["meeting"]["attendance"]
    assert [e["state"] for e in history if e["participantId"] == a["participant"]["id"]] == [
        "ADMITTED",
        "LEFT",
        "ADMITTED",
    ]


async def test_waiting_then_admitted_then_left_is_recorded_in_order(world: World) -> None:
    host, ann = await world.user(), await world.user()
    m = await _meeting(host, settings={"waitingRoom": True})
    await _join(host.client, m)
    w = await _join(ann.client, m)
    await host.client(ADMIT, p=w["participant"]["id"])
    await ann.client(LEAVE, m=m["id"])
    history = (await host.client(ATTENDANCE, id=m["id"]))["meeting"]["attendance"]
    assert [e["state"] for e in history if e["participantId"] == w["participant"]["id"]] == [
        "WAITING",
        "ADMITTED",
        "LEFT",
    ]


# -- concurrency ---------------------------------------------------------------------------------------------


async def test_concurrent_guests_never_overfill_the_meeting(world: World, anon: Client) -> None:
    host = await world.user()
    m = await _meeting(host, settings={"maxParticipants": 10})
    await _join(host.client, m)

    async def one(k: int) -> str:
        body = await anon.raw(JOIN, i={"number": m["number"], "displayName": f"Guest {k}"})
        if body.get("errors"):
            code: str = body["errors"][0]["extensions"]["code"]
            return code
        status: str = body["data"]["joinMeeting"]["status"]
        return status

    outcomes = Counter(await asyncio.gather(*(one(k) for k in range(20))))
    assert outcomes == Counter({"ADMITTED": 9, "MEETING_FULL": 11}), outcomes
    admitted = await _participants(host, m)
    assert len(admitted) == 10
    assert sum(1 for p in admitted if p["isGuest"]) == 9

"""Safer defaults: an instant meeting gets a passcode that its invite link carries, guests wait for the host,
guests must give a name; each switchable."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.support.gql import Client
from tests.support.world import JOIN, Person, World

CREATE = """mutation($i: CreateMeetingInput!) { createMeeting(input: $i) {
  id number hasPasscode passcode inviteLink settings { guestWaitingRoom waitingRoom allowLocalRecording } } }"""
UPDATE = "mutation($id: ID!, $i: UpdateMeetingInput!) { updateMeeting(id: $id, input: $i) { passcode inviteLink } }"
READ = "query($id: ID!) { meeting(id: $id) { passcode } }"
LINK = "query($id: ID!) { meeting(id: $id) { inviteLink } }"
ADMIT = "mutation($p: ID!) { admitParticipant(participantId: $p) { state } }"


def _key(link: str) -> str:
    return parse_qs(urlparse(link).query)["k"][0]


async def _instant(host: Person, **i: Any) -> dict[str, Any]:
    m: dict[str, Any] = (await host.client(CREATE, i={"title": "Quick call", **i}))["createMeeting"]
    return m


async def _join(client: Client, m: dict[str, Any], **i: Any) -> dict[str, Any]:
    data: dict[str, Any] = (await client(JOIN, i={"number": m["number"], **i}))["joinMeeting"]
    return data


async def test_an_instant_meeting_gets_a_passcode_its_invite_link_carries(world: World, anon: Client) -> None:
    host = await world.user("Host")
    m = await _instant(host)
    assert m["hasPasscode"] and m["settings"]["guestWaitingRoom"] is True
    code = m["passcode"]
    assert code and len(code) == 8 and code.isascii() and code.isalnum()
    assert m["inviteLink"].endswith(f"/m/{m['number']}?k={_key(m['inviteLink'])}")
    await _join(host.client, m)
    # Without the passcode or the link: asked for it.
    assert (await anon.error(JOIN, i={"number": m["number"], "displayName": "Gia"})).code == "BAD_PASSCODE"
    # With the link's key: in, but a guest waits for the host.
    g = await _join(anon, m, displayName="Gia", inviteKey=_key(m["inviteLink"]))
    assert g["status"] == "WAITING" and g["participant"]["waitingReason"] == "waiting_room"
    assert (await host.client(ADMIT, p=g["participant"]["id"]))["admitParticipant"]["state"] == "ADMITTED"
    # A signed-in person with the link comes straight in (the guest waiting room is for guests).
    bob = await world.user("Bob")
    assert (await _join(bob.client, m, inviteKey=_key(m["inviteLink"])))["status"] == "ADMITTED"
    # The typed passcode works too.
    g2 = await _join(anon, m, displayName="Hal", passcode=code)
    assert g2["status"] == "WAITING"
    # Only hosts read the passcode back; people let in may read the invite link.
    assert (await host.client(READ, id=m["id"]))["meeting"]["passcode"] == code
    assert (await bob.client.error(READ, id=m["id"])).code == "FORBIDDEN"
    assert (await bob.client(LINK, id=m["id"]))["meeting"]["inviteLink"] == m["inviteLink"]


async def test_invite_keys_open_only_their_meeting_and_only_until_the_passcode_changes(
    world: World, anon: Client
) -> None:
    host = await world.user("Host")
    a, b = await _instant(host), await _instant(host)
    ka, kb = _key(a["inviteLink"]), _key(b["inviteLink"])
    assert ka != kb
    wrong_keys = [
        kb,  # another meeting's
        ka[:-1],
        ka + "A",
        ka.upper() if ka.upper() != ka else ka.lower(),
        "",
        "A" * 5000,
        "\u0661" * 22,
        a["passcode"],  # the passcode is not a key
    ]
    for key in wrong_keys:
        err = await anon.error(JOIN, i={"number": a["number"], "displayName": "Eve", "inviteKey": key})
        assert err.code == "BAD_PASSCODE", key[:30]
    # Saving the same passcode again (an edit form sends what it shows) keeps the links already sent.
    same = (await host.client(UPDATE, id=a["id"], i={"passcode": a["passcode"], "title": "Renamed"}))["updateMeeting"]
    assert _key(same["inviteLink"]) == ka
    assert (await _join(anon, a, displayName="Same Link", inviteKey=ka))["status"] == "WAITING"
    new = (await host.client(UPDATE, id=a["id"], i={"passcode": "Fresh99"}))["updateMeeting"]
    assert new["passcode"] == "Fresh99" and _key(new["inviteLink"]) != ka
    err = await anon.error(JOIN, i={"number": a["number"], "displayName": "Old Link", "inviteKey": ka})
    assert err.code == "BAD_PASSCODE"
    assert (await _join(anon, a, displayName="New Link", inviteKey=_key(new["inviteLink"])))["status"] == "WAITING"


async def test_the_defaults_are_switchable(world: World, anon: Client) -> None:
    host = await world.user("Host")
    m = await _instant(host, passcode="", settings={"guestWaitingRoom": False, "joinBeforeHost": True})
    assert m["hasPasscode"] is False and m["passcode"] is None and "?k=" not in m["inviteLink"]
    assert (await _join(anon, m, displayName="Walk In"))["status"] == "ADMITTED"
    chosen = await _instant(host, passcode="Mine42")
    assert chosen["passcode"] == "Mine42"


async def test_scheduled_meetings_keep_guests_waiting_but_get_no_generated_passcode(world: World) -> None:
    host = await world.user("Host")
    m = await _instant(host, startsAt="2030-01-01T09:00:00+00:00")
    assert m["hasPasscode"] is False and m["settings"]["guestWaitingRoom"] is True


async def test_guests_must_give_a_name(world: World, anon: Client) -> None:
    host = await world.user("Host")
    m = await world.meeting(host, joinBeforeHost=True)
    for i in ({}, {"displayName": ""}, {"displayName": "   "}, {"displayName": "\u200b"}, {"displayName": "a\nb"}):
        err = await anon.error(JOIN, i={"number": m["number"], **i})
        assert (err.code, err.field) == ("BAD_INPUT", "displayName"), i

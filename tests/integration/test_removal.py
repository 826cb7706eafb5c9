"""A person the host removes stays out of that meeting: under a new name, as a new guest from the same client,
after signing out, and (as far as a server can tell) from the same address; unless the host lets them back."""

from __future__ import annotations

from typing import Any

from tests.support.gql import Client, GraphQLError
from tests.support.world import JOIN, Person, World

REMOVE = "mutation($p: ID!, $b: Boolean) { removeParticipant(participantId: $p, block: $b) { id state } }"
ADMIT = "mutation($p: ID!) { admitParticipant(participantId: $p) { id state } }"
JOIN_AS_CLIENT = """mutation($i: JoinMeetingInput!) { joinMeeting(input: $i) {
  status guestToken clientToken participant { id displayName state waitingReason } } }"""


async def _open_meeting(world: World) -> tuple[Person, dict[str, Any]]:
    host = await world.user("Host")
    m = await world.meeting(host, joinBeforeHost=True)
    await world.join(host, m)
    return host, m


async def _guest(client: Client, m: dict[str, Any], name: str, token: str | None = None) -> dict[str, Any]:
    i: dict[str, Any] = {"number": m["number"], "displayName": name}
    if token is not None:
        i["clientToken"] = token
    data: dict[str, Any] = (await client(JOIN_AS_CLIENT, i=i))["joinMeeting"]
    return data


async def test_a_removed_guest_cannot_come_back_under_another_name_from_the_same_client(
    world: World, anon: Client
) -> None:
    host, m = await _open_meeting(world)
    first = await _guest(anon, m, "Troll")
    assert first["status"] == "ADMITTED" and first["clientToken"]
    await host.client(REMOVE, p=first["participant"]["id"])
    # Same client (its kept token), new name, no guest token: refused.
    err = await anon.error(
        JOIN_AS_CLIENT, i={"number": m["number"], "displayName": "Nice Person", "clientToken": first["clientToken"]}
    )
    assert err.code == "FORBIDDEN" and "removed" in err.errors[0]["message"]
    # With its old guest token (the client identity travels in it too), whatever name it types: refused.
    as_guest = anon.with_token(first["guestToken"])
    for name in ("Troll", "Someone Else", None):
        i: dict[str, Any] = {"number": m["number"]}
        if name:
            i["displayName"] = name
        assert (await as_guest.error(JOIN, i=i)).code == "FORBIDDEN"


async def test_a_removed_user_cannot_come_back_as_a_guest_from_the_same_client(world: World, anon: Client) -> None:
    host, m = await _open_meeting(world)
    ann = await world.user("Ann")
    data = (await ann.client(JOIN_AS_CLIENT, i={"number": m["number"], "clientToken": None}))["joinMeeting"]
    token = data["clientToken"]
    await host.client(REMOVE, p=data["participant"]["id"])
    assert (await ann.client.error(JOIN, i={"number": m["number"]})).code == "FORBIDDEN"
    # Signed out, same browser (the SDK keeps the client token whoever is signed in).
    err = await anon.error(JOIN_AS_CLIENT, i={"number": m["number"], "displayName": "Not Ann", "clientToken": token})
    assert err.code == "FORBIDDEN"


async def test_a_removed_guest_with_a_fresh_client_waits_for_the_host(world: World, anon: Client) -> None:
    """A client that threw its identity away looks new; from the same address it is not let in on its own."""
    host, m = await _open_meeting(world)
    troll = await _guest(anon, m, "Troll")
    await host.client(REMOVE, p=troll["participant"]["id"])
    again = await _guest(anon, m, "Fresh Start")  # no tokens at all
    assert again["status"] == "WAITING" and again["participant"]["waitingReason"] == "waiting_room"
    assert again["clientToken"] != troll["clientToken"]
    # The host decides: admitting works as usual.
    admitted = (await host.client(ADMIT, p=again["participant"]["id"]))["admitParticipant"]
    assert admitted["state"] == "ADMITTED"
    # Signed-in people are not affected by the address rule (their account is their identity).
    bob = await world.user("Bob")
    _, data = await world.join(bob, m)
    assert data["status"] == "ADMITTED"


async def test_the_host_can_let_a_removed_person_rejoin(world: World, anon: Client) -> None:
    host, m = await _open_meeting(world)
    guest = await _guest(anon, m, "Visitor")
    await host.client(REMOVE, p=guest["participant"]["id"], b=False)
    back = await _guest(anon.with_token(guest["guestToken"]), m, "Visitor")
    assert back["status"] == "ADMITTED"
    again = await _guest(anon, m, "Visitor 2", guest["clientToken"])
    assert again["status"] == "ADMITTED"


async def test_forged_or_malformed_client_tokens_are_ignored_not_errors(world: World, anon: Client) -> None:
    host, m = await _open_meeting(world)
    troll = await _guest(anon, m, "Troll")
    await host.client(REMOVE, p=troll["participant"]["id"])
    real = troll["clientToken"]
    prefix, cid, mac = real.split(".")
    forgeries = [
        "",
        "x",
        "mmc1.",
        f"{prefix}.{cid}.",
        f"{prefix}.{cid}.{'A' * 22}",  # right shape, wrong MAC
        f"{prefix}.{cid[::-1]}.{mac}",  # MAC of another id
        real + "x",
        real.upper(),
        "mmc1." + "a" * 5000,
        "mmc1.\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669\u0660\u0661\u0662\u0663\u0664\u0665\u0666."
        + "A" * 22,
        "\x00" * 10,
    ]
    tokens = set()
    for forged in forgeries:
        try:
            data = await _guest(anon, m, "Other", forged)
        except GraphQLError as err:  # only bad input may refuse it, never the server
            assert err.code == "BAD_INPUT", (forged[:40], err)
            continue
        assert data["clientToken"] != real
        tokens.add(data["clientToken"])
    assert len(tokens) >= len(forgeries) - 3  # each ignored token got a fresh identity

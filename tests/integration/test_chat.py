"""Chat over the real server on both backends: delivery over subscriptions, visibility (private messages,
breakout rooms), the host's chat settings, edits, deletions, replies, limits and reactions."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from sqlalchemy import update

from dbschema.models import Participant
from tests.conftest import RunningServer
from tests.support.gql import GraphQLError, Subscription
from tests.support.world import Person, World

MSG = """id meetingId senderId senderName recipientId recipientName isPrivate roomId text createdAt editedAt deleted
  deletedById replyTo { id senderId senderName text deleted }
  attachment { id filename contentType size download { url expiresAt } }
  reactions { emoji count participantIds }"""
SEND = f"mutation($i: SendChatMessageInput!) {{ sendChatMessage(input: $i) {{ {MSG} }} }}"
EDIT = f"mutation($id: ID!, $t: String!) {{ editChatMessage(messageId: $id, text: $t) {{ {MSG} }} }}"
DELETE = f"mutation($id: ID!) {{ deleteChatMessage(messageId: $id) {{ {MSG} }} }}"
TOGGLE = f"mutation($id: ID!, $e: String!) {{ toggleChatReaction(messageId: $id, emoji: $e) {{ {MSG} }} }}"
ONE = f"query($id: ID!) {{ chatMessage(id: $id) {{ {MSG} }} }}"
HISTORY = f"""query($m: ID!, $first: Int, $before: String) {{
  chatMessages(meetingId: $m, first: $first, before: $before) {{ nextCursor items {{ {MSG} }} }} }}"""
SEARCH = f"""query($q: String!, $m: ID) {{ searchChat(query: $q, meetingId: $m) {{
  meetingTitle rank highlight {{ text match }} message {{ {MSG} }} }} }}"""
POLICY = """mutation($m: ID!, $p: ChatPolicy, $priv: Boolean) { setChatPolicy(meetingId: $m, policy: $p,
  privateChat: $priv) { settings { chatPolicy privateChat } } }"""
REACT = "mutation($m: ID!, $e: String!) { sendReaction(meetingId: $m, emoji: $e) }"
EVENTS = f"""subscription($m: ID!, $after: Int) {{ meetingEvents(meetingId: $m, afterSeq: $after) {{
  __typename seq type actorId roomId
  ... on ChatMessageEvent {{ message {{ {MSG} }} }}
  ... on ChatReactionEvent {{ messageId emoji added reactions {{ emoji count participantIds }} }}
  ... on ReactionEvent {{ participantId emoji }}
  ... on MeetingStateEvent {{ meeting {{ chatPolicy privateChat }} }}
}} }}"""


async def seq(who: Person, m: dict[str, Any]) -> int:
    value: int = (await who.client("query($m: ID!) { meeting(id: $m) { eventSeq } }", m=m["id"]))["meeting"]["eventSeq"]
    return value


async def room(world: World, n: int, **settings: Any) -> tuple[Person, dict[str, Any], list[Person]]:
    """A live meeting: its host and ``n`` admitted participants (users, so they can search across meetings)."""
    host = await world.user("Host")
    m = await world.meeting(host, **settings)
    await world.join(host, m)
    people = [(await world.join(await world.user(f"P{i}"), m))[0] for i in range(n)]
    return host, m, people


async def say(who: Person, m: dict[str, Any], text: str, **extra: Any) -> dict[str, Any]:
    msg: dict[str, Any] = (await who.client(SEND, i={"meetingId": m["id"], "text": text, **extra}))["sendChatMessage"]
    return msg


async def say_error(who: Person, m: dict[str, Any], text: str, **extra: Any) -> GraphQLError:
    return await who.client.error(SEND, i={"meetingId": m["id"], "text": text, **extra})


async def history(who: Person, m: dict[str, Any], first: int = 100) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = (await who.client(HISTORY, m=m["id"], first=first))["chatMessages"]["items"]
    return items


async def search(who: Person, q: str, m: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    hits: list[dict[str, Any]] = (await who.client(SEARCH, q=q, m=m["id"] if m else None))["searchChat"]
    return hits


def ev(item: dict[str, Any]) -> dict[str, Any]:
    e: dict[str, Any] = item["meetingEvents"]
    return e


async def next_chat(sub: Subscription) -> dict[str, Any]:
    """The next chat-related event (skipping presence events such as later joins)."""
    while True:
        e = ev(await sub.next() or {})
        if e["type"].startswith(("CHAT_", "REACTION_")):
            return e


async def move_to_room(server: RunningServer, room_id: str | None, *people: Person) -> None:
    # Breakout rooms are built elsewhere; placing people directly is all chat needs to know about them.
    async with server.app.state.services.db.write() as tx:
        await tx.session.execute(
            update(Participant)
            .where(Participant.id.in_([p.participant_id for p in people]))
            .values(breakout_room_id=room_id)
        )


# -- delivery and history -------------------------------------------------------------------------------------


async def test_messages_reach_subscribers_verbatim_and_match_history(world: World) -> None:
    host, m, (alice, bob) = await room(world, 2)
    now = await seq(host, m)
    text = "  see https://example.com/a?b=1&c=2 <b>not bold</b>\n  **nor this** \t"
    async with (
        host.client.subscribe(EVENTS, m=m["id"], after=now) as hs,
        bob.client.subscribe(EVENTS, m=m["id"], after=now) as bs,
    ):
        sent = await say(alice, m, text)
        assert sent["text"] == text and sent["senderId"] == alice.participant_id and sent["senderName"] == "P0"
        assert sent["isPrivate"] is False and sent["roomId"] is None and sent["reactions"] == []
        for sub in (hs, bs):
            e = await next_chat(sub)
            assert e["__typename"] == "ChatMessageEvent" and e["type"] == "CHAT_MESSAGE_SENT"
            assert e["seq"] == now + 1 and e["actorId"] == alice.participant_id
            assert e["message"] == sent
        later = [await say(who, m, f"message {i}") for i, who in enumerate([bob, host, alice, bob])]
        streamed = [(await next_chat(bs))["message"] for _ in later]
    assert streamed == later
    # History is newest first and pages with the cursor; what the events said is what a fresh query returns.
    everything = [sent, *later]
    assert await history(bob, m) == everything[::-1]
    page = (await bob.client(HISTORY, m=m["id"], first=2))["chatMessages"]
    seen = list(page["items"])
    while page["nextCursor"]:
        page = (await bob.client(HISTORY, m=m["id"], first=2, before=page["nextCursor"]))["chatMessages"]
        seen += page["items"]
    assert [x["id"] for x in seen] == [x["id"] for x in everything[::-1]]
    err = await bob.client.error(HISTORY, m=m["id"], first=2, before="bm90IGEgY3Vyc29y")
    assert err.code == "BAD_INPUT" and err.field == "before"
    assert (await bob.client.error(HISTORY, m=m["id"], first=0)).field == "first"


async def test_private_messages_never_leak_to_others(world: World) -> None:
    host, m, (alice, bob, carol) = await room(world, 3)
    now = await seq(host, m)
    async with (
        host.client.subscribe(EVENTS, m=m["id"], after=now) as hs,
        bob.client.subscribe(EVENTS, m=m["id"], after=now) as bs,
        carol.client.subscribe(EVENTS, m=m["id"], after=now) as cs,
    ):
        secret = await say(alice, m, "the zanzibar password", toParticipantId=bob.participant_id)
        assert secret["isPrivate"] and secret["recipientId"] == bob.participant_id and secret["recipientName"] == "P1"
        assert (await next_chat(bs))["message"]["id"] == secret["id"]
        edited = (await bob.client(TOGGLE, id=secret["id"], e="🙏"))["toggleChatReaction"]
        assert (await next_chat(bs))["type"] == "CHAT_REACTION_CHANGED"
        public = await say(alice, m, "hello everyone")
        # Host and Carol see the public message as the very next chat event: the private one and its reaction
        # never reached them.
        for sub in (hs, cs):
            e = await next_chat(sub)
            assert e["message"]["id"] == public["id"], e
    assert edited["reactions"][0]["count"] == 1
    for outsider in (host, carol):
        assert secret["id"] not in {x["id"] for x in await history(outsider, m)}
        assert await search(outsider, "zanzibar") == []
        assert await search(outsider, "zanzibar", m) == []
        assert (await outsider.client.error(ONE, id=secret["id"])).code == "NOT_FOUND"
        assert (await outsider.client.error(TOGGLE, id=secret["id"], e="👍")).code == "NOT_FOUND"
        assert (await outsider.client.error(EDIT, id=secret["id"], t="x")).code == "NOT_FOUND"
        err = await say_error(outsider, m, "quoting", replyToId=secret["id"])
        assert err.code == "NOT_FOUND"
    assert (await host.client.error(DELETE, id=secret["id"])).code == "NOT_FOUND"  # hosts do not moderate DMs
    for party in (alice, bob):
        assert secret["id"] in {x["id"] for x in await history(party, m)}
        assert [h["message"]["id"] for h in await search(party, "zanzibar")] == [secret["id"]]
    # A public reply would quote the private text to everyone: refused. A private reply between the two is fine.
    err = await say_error(bob, m, "everyone, look", replyToId=secret["id"])
    assert err.code == "BAD_INPUT" and err.field == "replyToId"
    err = await say_error(bob, m, "carol, look", replyToId=secret["id"], toParticipantId=carol.participant_id)
    assert err.code == "BAD_INPUT"
    back = await say(bob, m, "got it", replyToId=secret["id"], toParticipantId=alice.participant_id)
    assert back["replyTo"]["text"] == "the zanzibar password"
    assert (await say_error(alice, m, "me", toParticipantId=alice.participant_id)).code == "BAD_INPUT"


async def test_chat_policy_decides_who_may_chat_with_whom(world: World) -> None:
    host, m, (alice, bob, co) = await room(world, 3)
    await host.client("mutation($p: ID!) { makeCohost(participantId: $p) { id } }", p=co.participant_id)
    to = {"bob": {"toParticipantId": bob.participant_id}, "co": {"toParticipantId": co.participant_id}}

    async def allowed(who: Person, **extra: Any) -> bool:
        try:
            await say(who, m, "hi", **extra)
        except GraphQLError as exc:
            assert exc.code == "FORBIDDEN", exc
            return False
        return True

    assert (await alice.client.error(POLICY, m=m["id"], p="NO_ONE")).code == "FORBIDDEN"
    async with host.client.subscribe(EVENTS, m=m["id"], after=await seq(host, m)) as hs:
        settings = (await co.client(POLICY, m=m["id"], priv=False))["setChatPolicy"]["settings"]
        assert settings == {"chatPolicy": "EVERYONE", "privateChat": False}
        e = ev(await hs.next() or {})
        assert e["type"] == "MEETING_UPDATED" and e["meeting"] == settings
    # everyone, private chat off: participants talk to everyone and to the hosts privately, not to each other.
    assert await allowed(alice) and await allowed(alice, **to["co"]) and not await allowed(alice, **to["bob"])
    assert await allowed(host, **to["bob"])  # hosts may always chat
    await host.client(POLICY, m=m["id"], p="HOST_ONLY", priv=True)
    assert not await allowed(alice) and not await allowed(alice, **to["bob"]) and await allowed(alice, **to["co"])
    assert await allowed(co) and await allowed(co, **to["bob"])
    await host.client(POLICY, m=m["id"], p="NO_ONE")
    assert not await allowed(alice) and not await allowed(alice, **to["co"])
    assert await allowed(host) and await allowed(co, **to["bob"])
    assert (await host.client.error(POLICY, m=m["id"])).code == "BAD_INPUT"
    await host.client(POLICY, m=m["id"], p="EVERYONE")
    assert await allowed(alice, **to["bob"])


async def test_edit_and_delete_rules_and_tombstones(world: World) -> None:
    host, m, (alice, bob, co) = await room(world, 3)
    await host.client("mutation($p: ID!) { makeCohost(participantId: $p) { id } }", p=co.participant_id)
    first = await say(alice, m, "the quarterly numbers")
    reply = await say(bob, m, "which ones?", replyToId=first["id"])
    assert reply["replyTo"] == {
        "id": first["id"],
        "senderId": alice.participant_id,
        "senderName": "P0",
        "text": "the quarterly numbers",
        "deleted": False,
    }
    assert (await say_error(bob, m, "x", replyToId="nope")).code == "NOT_FOUND"
    async with bob.client.subscribe(EVENTS, m=m["id"], after=await seq(host, m)) as bs:
        edited = (await alice.client(EDIT, id=first["id"], t="the yearly numbers"))["editChatMessage"]
        assert edited["text"] == "the yearly numbers" and edited["editedAt"] is not None
        e = await next_chat(bs)
        assert e["type"] == "CHAT_MESSAGE_EDITED" and e["message"] == edited
        for err in [
            await bob.client.error(EDIT, id=first["id"], t="mine now"),
            await host.client.error(EDIT, id=first["id"], t="hosts cannot edit"),
            await bob.client.error(DELETE, id=first["id"]),
        ]:
            assert err.code == "FORBIDDEN", err
        err = await alice.client.error(EDIT, id=first["id"], t="x" * 4097)
        assert err.code == "BAD_INPUT" and err.field == "text"
        await bob.client(TOGGLE, id=first["id"], e="👍")
        assert (await next_chat(bs))["type"] == "CHAT_REACTION_CHANGED"
        gone = (await co.client(DELETE, id=first["id"]))["deleteChatMessage"]
        assert gone["deleted"] and gone["text"] is None and gone["deletedById"] == co.participant_id
        assert gone["reactions"] == [] and gone["senderId"] == alice.participant_id  # a tombstone, in place
        e = await next_chat(bs)
        assert e["type"] == "CHAT_MESSAGE_DELETED" and e["message"] == gone
        assert (await alice.client(DELETE, id=first["id"]))["deleteChatMessage"] == gone  # twice: no change
        mine = await say(bob, m, "oops")
        assert (await bob.client(DELETE, id=mine["id"]))["deleteChatMessage"]["deletedById"] == bob.participant_id
    assert (await alice.client.error(EDIT, id=first["id"], t="back")).code == "CONFLICT"
    assert (await bob.client.error(TOGGLE, id=first["id"], e="👍")).code == "CONFLICT"
    items = {x["id"]: x for x in await history(bob, m)}
    assert items[first["id"]] == gone
    assert items[reply["id"]]["replyTo"] == {**reply["replyTo"], "text": None, "deleted": True}
    assert await search(bob, "yearly") == [] and await search(bob, "quarterly") == []


def apply(state: dict[str, dict[str, Any]], e: dict[str, Any]) -> None:
    """What a client does with a chat event (zulip's verify_action: the result must equal a fresh query)."""
    if e["__typename"] == "ChatMessageEvent":
        msg = e["message"]
        state[msg["id"]] = msg
        # Replies quote their target: an edit or deletion shows in their previews too.
        for other in state.values():
            if other["replyTo"] and other["replyTo"]["id"] == msg["id"]:
                text = msg["text"][:200] if msg["text"] is not None else None
                other["replyTo"] = {**other["replyTo"], "text": text, "deleted": msg["deleted"]}
    elif e["__typename"] == "ChatReactionEvent":
        state[e["messageId"]]["reactions"] = e["reactions"]


async def test_events_applied_to_history_give_a_fresh_history(world: World) -> None:
    host, m, (alice, bob, carol) = await room(world, 3)
    before = {who.name: await history(who, m) for who in (bob, carol)}
    now = await seq(host, m)
    async with (
        bob.client.subscribe(EVENTS, m=m["id"], after=now) as bs,
        carol.client.subscribe(EVENTS, m=m["id"], after=now) as cs,
    ):
        a = await say(alice, m, "first draft")
        b = await say(bob, m, "replying", replyToId=a["id"])
        await alice.client(EDIT, id=a["id"], t="second draft " + "x" * 300)
        p = await say(alice, m, "just for bob", toParticipantId=bob.participant_id)
        await bob.client(TOGGLE, id=p["id"], e="👍")
        await carol.client(TOGGLE, id=a["id"], e="🎉")
        await bob.client(TOGGLE, id=b["id"], e="🎉")
        await alice.client(DELETE, id=a["id"])
        await host.client(DELETE, id=b["id"])
        end = await say(host, m, "end")
        for who, sub in ((bob, bs), (carol, cs)):
            state = {x["id"]: x for x in reversed(before[who.name])}  # oldest first; new ones append in order
            while True:
                e = await next_chat(sub)
                apply(state, e)
                if e.get("message", {}).get("id") == end["id"]:
                    break
            fresh = await history(who, m)
            assert list(reversed(state.values())) == fresh, who.name
            assert (p["id"] in state) == (who is bob)


async def test_text_and_rate_limits(world: World) -> None:
    _host, m, (alice,) = await room(world, 1)
    longest = await say(alice, m, "é" * 4096)
    assert len(longest["text"]) == 4096
    for bad in ["x" * 4097, "", "   \n ", "bell\x07"]:
        err = await say_error(alice, m, bad)
        assert err.code == "BAD_INPUT" and err.field == "text", (bad[:10], err)
    results = await asyncio.gather(
        *(alice.client.raw(SEND, i={"meetingId": m["id"], "text": f"n{i}"}) for i in range(16))
    )
    errors = [r["errors"][0] for r in results if r.get("errors")]
    assert errors and all(e["extensions"]["code"] == "RATE_LIMITED" for e in errors)
    assert all(e["extensions"]["retryAfter"] > 0 for e in errors)
    # However slow the machine, no one-second window holds more than 10 accepted messages.
    times = sorted(datetime.fromisoformat(r["data"]["sendChatMessage"]["createdAt"]) for r in results if r.get("data"))
    # The 4096 one too: on a fast machine it is still in the window (history's newest would be a parallel one).
    times.insert(0, datetime.fromisoformat(longest["createdAt"]))
    assert len(times) >= 10
    assert all((times[i + 10] - times[i]).total_seconds() >= 0.999 for i in range(len(times) - 10))


async def test_reactions_toggle_per_person_with_counts(world: World) -> None:
    host, m, (alice, bob, carol) = await room(world, 3)
    msg = await say(alice, m, "ship it?")
    async with alice.client.subscribe(EVENTS, m=m["id"], after=await seq(host, m)) as sub:
        steps = [
            (bob, "👍", True, [("👍", 1)]),
            (carol, "👍", True, [("👍", 2)]),
            (carol, "🎉", True, [("👍", 2), ("🎉", 1)]),
        ]
        steps += [
            (bob, "👍", False, [("👍", 1), ("🎉", 1)]),
            (host, "👨‍👩‍👧", True, [("👍", 1), ("🎉", 1), ("👨‍👩‍👧", 1)]),
        ]
        for who, emoji, added, counts in steps:
            got = (await who.client(TOGGLE, id=msg["id"], e=emoji))["toggleChatReaction"]
            assert [(r["emoji"], r["count"]) for r in got["reactions"]] == counts
            e = await next_chat(sub)
            assert e["__typename"] == "ChatReactionEvent" and e["messageId"] == msg["id"]
            assert (e["emoji"], e["added"], e["actorId"]) == (emoji, added, who.participant_id)
            assert e["reactions"] == got["reactions"]
    assert got["reactions"][0]["participantIds"] == [carol.participant_id]
    for bad in ["abc", "👍 👍", "", "1", "<script>"]:
        err = await bob.client.error(TOGGLE, id=msg["id"], e=bad)
        assert err.code == "BAD_INPUT" and err.field == "emoji", bad
    assert (await history(bob, m))[0]["reactions"] == got["reactions"]


async def test_ephemeral_reactions_are_events_only(world: World) -> None:
    host, m, (alice,) = await room(world, 1)
    allowed = (await alice.client("{ meetingReactions }"))["meetingReactions"]
    assert "👏" in allowed
    async with host.client.subscribe(EVENTS, m=m["id"], after=await seq(host, m)) as sub:
        assert (await alice.client(REACT, m=m["id"], e="👏"))["sendReaction"] is True
        e = await next_chat(sub)
        assert e["__typename"] == "ReactionEvent" and e["type"] == "REACTION_SENT"
        assert (e["participantId"], e["emoji"], e["actorId"]) == (alice.participant_id, "👏", alice.participant_id)
    err = await alice.client.error(REACT, m=m["id"], e="🍕")
    assert err.code == "BAD_INPUT" and err.field == "emoji"
    codes = []
    for _ in range(6):
        r = await alice.client.raw(REACT, m=m["id"], e="🎉")
        codes.append(r["errors"][0]["extensions"]["code"] if r.get("errors") else "OK")
    assert "RATE_LIMITED" in codes
    assert await history(alice, m) == []  # nothing stored as chat


async def test_breakout_room_messages_stay_in_their_room(world: World, server: RunningServer) -> None:
    host, m, (alice, bob, carol) = await room(world, 3)
    await move_to_room(server, "room-a", alice, bob)
    main = await say(carol, m, "main room here")
    now = await seq(host, m)
    async with (
        host.client.subscribe(EVENTS, m=m["id"], after=now) as hs,
        bob.client.subscribe(EVENTS, m=m["id"], after=now) as bs,
        carol.client.subscribe(EVENTS, m=m["id"], after=now) as cs,
    ):
        inroom = await say(alice, m, "breakout zebra plan")
        assert inroom["roomId"] == "room-a"
        for sub in (hs, bs):
            e = await next_chat(sub)
            assert e["roomId"] == "room-a" and e["message"]["id"] == inroom["id"]
        await say(host, m, "two minutes left")  # the host is in the main room
        assert (await next_chat(cs))["message"]["text"] == "two minutes left"
        await bob.client(REACT, m=m["id"], e="👏")
        assert (await next_chat(hs))["message"]["text"] == "two minutes left"
        assert (await next_chat(hs))["roomId"] == "room-a"  # the reaction, scoped to the room
        await say(host, m, "one minute left")
        assert (await next_chat(cs))["message"]["text"] == "one minute left"  # carol never saw the reaction
    carol_sees = {x["id"] for x in await history(carol, m)}
    assert inroom["id"] not in carol_sees and main["id"] in carol_sees
    assert {inroom["id"], main["id"]} <= {x["id"] for x in await history(bob, m)}
    assert inroom["id"] in {x["id"] for x in await history(host, m)}
    assert await search(carol, "zebra") == [] and len(await search(bob, "zebra")) == 1
    assert len(await search(host, "zebra", m)) == 1
    # In a room, participants message their room and the hosts privately; not people elsewhere.
    err = await say_error(alice, m, "psst", toParticipantId=carol.participant_id)
    assert err.code == "FORBIDDEN"
    assert (await say(alice, m, "help", toParticipantId=host.participant_id))["roomId"] is None
    # A room's reply may quote the main room, never the other way round.
    assert (await say(bob, m, "as carol said", replyToId=main["id"]))["roomId"] == "room-a"
    await move_to_room(server, None, alice, bob)
    assert (await say_error(bob, m, "earlier", replyToId=inroom["id"])).code == "NOT_FOUND"  # out of sight
    assert (await say_error(alice, m, "earlier", replyToId=inroom["id"])).code == "BAD_INPUT"  # hers, but a room's
    # Back in the main room: the room's messages are their sender's still, but not the others'.
    assert inroom["id"] in {x["id"] for x in await history(alice, m)}
    assert inroom["id"] not in {x["id"] for x in await history(bob, m)}


async def test_only_members_read_and_only_those_in_the_call_send(world: World) -> None:
    owner = await world.user("Owner")
    m = await world.meeting(owner, joinBeforeHost=True, waitingRoom=False)
    alice, _ = await world.join(await world.user("A"), m)
    hello = await say(alice, m, "anyone here?")
    assert [x["id"] for x in await history(owner, m)] == [hello["id"]]  # the owner reads without joining
    assert (await say_error(owner, m, "I am not in the call")).code == "FORBIDDEN"
    assert (await owner.client(DELETE, id=hello["id"]))["deleteChatMessage"]["deleted"]  # but may moderate
    outsider = await world.user("Out")
    for err in [
        await outsider.client.error(HISTORY, m=m["id"]),
        await outsider.client.error(SEARCH, q="anyone", m=m["id"]),
        await say_error(outsider, m, "let me in"),
        await outsider.client.error(ONE, id=hello["id"]),
        await outsider.client.error(REACT, m=m["id"], e="👏"),
        await outsider.client.error(POLICY, m=m["id"], p="NO_ONE"),
    ]:
        assert err.code == "FORBIDDEN", err
    assert (await world.anon.error(HISTORY, m=m["id"])).code == "UNAUTHENTICATED"
    assert (await world.anon.error(ONE, id=hello["id"])).code == "UNAUTHENTICATED"
    await owner.client("mutation($m: ID!) { setWaitingRoom(meetingId: $m, enabled: true) { id } }", m=m["id"])
    waiting, _ = await world.join(await world.user("W"), m)
    assert (await say_error(waiting, m, "hello?")).code == "FORBIDDEN"
    assert (await waiting.client.error(HISTORY, m=m["id"])).code == "FORBIDDEN"
    later = await say(alice, m, "still here")
    await alice.client("mutation($m: ID!) { leaveMeeting(meetingId: $m) { id } }", m=m["id"])
    assert (await say_error(alice, m, "gone")).code == "FORBIDDEN"
    assert later["id"] in {x["id"] for x in await history(alice, m)}  # those who attended keep reading

"""Meeting analytics from real activity on both databases: talk time from the edge's speaker reports (over the
real control feed), chat, reactions, polls, attendance and recording views; hosts only."""

from __future__ import annotations

import asyncio

import pytest

from protocol.media_control import DominantSpeaker, encode
from tests.conftest import RunningServer
from tests.integration.test_edge_feed import feed
from tests.integration.test_events import live_meeting
from tests.support.gql import eventually
from tests.support.world import World

pytestmark = pytest.mark.timeout(60)

ANALYTICS = """query($m: ID!) { meetingAnalytics(meetingId: $m) {
  durationSeconds speakerCount chatMessages reactions
  participants { participantId displayName talkSeconds chatMessages pollsVoted presentSeconds firstJoinedAt lastLeftAt }
  polls { question voters eligible } timeline { displayName state } recordings { title views } } }"""
CHAT = "mutation($m: ID!, $t: String!) { sendChatMessage(input: {meetingId: $m, text: $t}) { id } }"
REACT = 'mutation($m: ID!) { sendReaction(meetingId: $m, emoji: "👏") }'
TOGGLE = 'mutation($id: ID!) { toggleChatReaction(messageId: $id, emoji: "👍") { id } }'
POLL = """mutation($m: ID!) { createPoll(input: {meetingId: $m, question: "Lunch?", options: ["yes", "no"]}) {
  id options { id } } }"""


async def test_analytics_add_up(server: RunningServer, world: World) -> None:
    host, m = await live_meeting(world)
    alice, _ = await world.join(await world.user("Alice"), m)
    bob, _ = await world.join(await world.user("Bob"), m)
    assert alice.participant_id and bob.participant_id and host.participant_id

    # Alice talks ~0.6 s, then Bob ~0.3 s, then silence: reported by "the edge" over the control feed.
    async with feed(server) as ws:
        await ws.send(encode(DominantSpeaker(m["id"], alice.participant_id)))
        await asyncio.sleep(0.6)
        await ws.send(encode(DominantSpeaker(m["id"], bob.participant_id)))
        await asyncio.sleep(0.3)
        await ws.send(encode(DominantSpeaker(m["id"], None)))

        async def bob_done() -> bool:
            data = (await host.client(ANALYTICS, m=m["id"]))["meetingAnalytics"]
            by = {p["displayName"]: p for p in data["participants"]}
            return bool(by["Bob"]["talkSeconds"] > 0 and data["speakerCount"] == 2)

        await eventually(bob_done, timeout=5)

    msg = (await alice.client(CHAT, m=m["id"], t="hello"))["sendChatMessage"]
    await bob.client(CHAT, m=m["id"], t="hi")
    await bob.client(TOGGLE, id=msg["id"])
    await host.client(REACT, m=m["id"])
    await alice.client(REACT, m=m["id"])
    poll = (await host.client(POLL, m=m["id"]))["createPoll"]
    await host.client("mutation($p: ID!) { launchPoll(pollId: $p) { id } }", p=poll["id"])
    await alice.client(
        "mutation($p: ID!, $o: [ID!]!) { votePoll(pollId: $p, optionIds: $o) { id } }",
        p=poll["id"],
        o=[poll["options"][0]["id"]],
    )
    await bob.client("mutation($m: ID!) { leaveMeeting(meetingId: $m) { id } }", m=m["id"])

    assert (await alice.client.error(ANALYTICS, m=m["id"])).code == "FORBIDDEN"
    data = (await host.client(ANALYTICS, m=m["id"]))["meetingAnalytics"]
    by = {p["displayName"]: p for p in data["participants"]}
    assert data["speakerCount"] == 2 and data["chatMessages"] == 2 and data["reactions"] == 3
    assert 0.5 <= by["Alice"]["talkSeconds"] <= 1.5 and 0.2 <= by["Bob"]["talkSeconds"] <= 1.0
    assert by["Host"]["talkSeconds"] == 0
    assert [p["displayName"] for p in data["participants"]][:2] == ["Alice", "Bob"]  # most talk first
    assert (by["Alice"]["chatMessages"], by["Bob"]["chatMessages"], by["Host"]["chatMessages"]) == (1, 1, 0)
    assert (by["Alice"]["pollsVoted"], by["Bob"]["pollsVoted"]) == (1, 0)
    assert data["polls"] == [{"question": "Lunch?", "voters": 1, "eligible": 3}]
    assert by["Bob"]["lastLeftAt"] is not None and by["Alice"]["lastLeftAt"] is None
    assert 0 < by["Bob"]["presentSeconds"] <= by["Alice"]["presentSeconds"] + 0.5
    assert ("Bob", "left") in [(t["displayName"], t["state"]) for t in data["timeline"]]
    assert data["durationSeconds"] > 0 and data["recordings"] == []

    # After the meeting its owner still sees them; the running turn is closed by the end.
    await host.client("mutation($m: ID!) { endMeeting(id: $m) { id } }", m=m["id"])
    after = (await host.client(ANALYTICS, m=m["id"]))["meetingAnalytics"]
    assert after["speakerCount"] == 2

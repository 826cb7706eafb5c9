"""Chat search on both backends (SQLite FTS5, PostgreSQL tsvector): ranking, highlights, scope and visibility."""

from __future__ import annotations

from typing import Any

from tests.integration.test_chat import DELETE, SEARCH, room, say, search
from tests.support.world import World


def marked(hit: dict[str, Any]) -> str:
    """The highlight rendered with [brackets] around matches."""
    return "".join(f"[{s['text']}]" if s["match"] else s["text"] for s in hit["highlight"])


async def test_results_are_ranked_and_highlighted(world: World, backend: str) -> None:
    _host, m, (alice, bob) = await room(world, 2)
    once = await say(alice, m, "we should look at the kumquat later")
    thrice = await say(bob, m, "kumquat kumquat kumquat: the kumquat budget")
    await say(alice, m, "nothing to see here")
    hits = await search(bob, "kumquat", m)
    assert [h["message"]["id"] for h in hits] == [thrice["id"], once["id"]]
    assert hits[0]["rank"] > hits[1]["rank"]
    assert marked(hits[1]) == "we should look at the [kumquat] later"
    assert "[kumquat] [kumquat] [kumquat]" in marked(hits[0]) and hits[0]["meetingTitle"] == "Test meeting"
    # Every word must match; a trailing * matches a prefix; case and accents do not matter.
    assert [h["message"]["id"] for h in await search(bob, "KUMQUAT budget", m)] == [thrice["id"]]
    assert {h["message"]["id"] for h in await search(bob, "kumq*", m)} == {thrice["id"], once["id"]}
    assert await search(bob, "kumq", m) == []
    accented = await say(alice, m, "Crème brûlée for the team")
    # FTS5 folds accents (remove_diacritics); PostgreSQL's `simple` configuration keeps them.
    expected = [accented["id"]] if backend == "sqlite" else []
    assert [h["message"]["id"] for h in await search(bob, "creme", m)] == expected
    assert [h["message"]["id"] for h in await search(bob, "brûlée", m)] == [accented["id"]]


async def test_query_syntax_cannot_break_out(world: World) -> None:
    _host, m, (alice,) = await room(world, 1)
    msg = await say(alice, m, 'quote " and star * and NEAR(a b) and "kiwi"')
    for q in ['kiwi" AND *', "kiwi) AND (", "NEAR(kiwi", "kiwi & !", "'kiwi':*", "kiwi\\"]:
        assert [h["message"]["id"] for h in await search(alice, q, m)] == [msg["id"]], q
    for q in ["", "   ", '"*"', "&|!"]:
        err = await alice.client.error(SEARCH, q=q, m=m["id"])
        assert err.code == "BAD_INPUT" and err.field == "query", q


async def test_search_spans_my_meetings_and_only_what_i_may_see(world: World) -> None:
    host, m1, (alice, bob) = await room(world, 2)
    m2 = await world.meeting(host, title="Second")
    await world.join(host, m2)
    await world.join(alice, m2)
    a1 = await say(alice, m1, "pomegranate in the first")
    a2 = await say(alice, m2, "pomegranate in the second")
    gone = await say(alice, m2, "pomegranate to delete")
    await alice.client(DELETE, id=gone["id"])
    mine = await search(alice, "pomegranate")
    assert {h["message"]["id"] for h in mine} == {a1["id"], a2["id"]}
    assert {h["meetingTitle"] for h in mine} == {"Test meeting", "Second"}
    assert [h["message"]["id"] for h in await search(bob, "pomegranate")] == [a1["id"]]  # bob was never in m2
    err = await bob.client.error(SEARCH, q="pomegranate", m=m2["id"])
    assert err.code == "FORBIDDEN"
    stranger = await world.user("Stranger")
    assert await search(stranger, "pomegranate") == []
    # Leaving does not take away what you attended; the owner sees their meetings without having said anything.
    await bob.client("mutation($m: ID!) { leaveMeeting(meetingId: $m) { id } }", m=m1["id"])
    assert [h["message"]["id"] for h in await search(bob, "pomegranate")] == [a1["id"]]
    assert {h["message"]["id"] for h in await search(host, "pomegranate")} == {a1["id"], a2["id"]}

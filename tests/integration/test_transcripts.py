"""Transcripts as the transcription job stores them: read in order, replaced on a re-run, searched with the
same rules as chat (only meetings you may read; words, prefixes; plain-text highlights), on both databases."""

from __future__ import annotations

from typing import Any

import pytest

from api.recordings.transcripts import Line, save
from tests.conftest import RunningServer
from tests.integration.test_events import live_meeting
from tests.support.world import World

pytestmark = pytest.mark.timeout(60)

START = "mutation($m: ID!) { startRecording(meetingId: $m) { id } }"
TRANSCRIPT = "query($id: ID!) { recording(id: $id) { transcript { start end speakerId speakerName text } } }"
SEARCH = """query($q: String!, $m: ID) { searchTranscripts(query: $q, meetingId: $m) {
  recordingId meetingTitle line { speakerName text start } highlight { text match } } }"""


async def recorded(server: RunningServer, world: World, title: str, lines: list[tuple[float, str, str]]) -> Any:
    host, m = await live_meeting(world, title=title)
    rec = (await host.client(START, m=m["id"]))["startRecording"]
    svc = server.app.state.services
    await save(svc, rec["id"], [Line(t, t + 2.0, host.participant_id, who, text) for t, who, text in lines])
    return host, m, rec


async def test_transcripts_read_in_order_and_rerun_replaces(server: RunningServer, world: World) -> None:
    host, _, rec = await recorded(
        server, world, "Standup", [(4.0, "Bob", "second line"), (1.0, "Ada", "first line \x02sneaky\x03")]
    )
    lines = (await host.client(TRANSCRIPT, id=rec["id"]))["recording"]["transcript"]
    assert [(x["start"], x["speakerName"], x["text"]) for x in lines] == [
        (1.0, "Ada", "first line sneaky"),  # highlight markers can never be stored
        (4.0, "Bob", "second line"),
    ]
    assert lines[0]["speakerId"] == host.participant_id
    await save(server.app.state.services, rec["id"], [Line(0.0, 1.0, None, "Cy", "only line")])
    lines = (await host.client(TRANSCRIPT, id=rec["id"]))["recording"]["transcript"]
    assert [(x["speakerName"], x["speakerId"], x["text"]) for x in lines] == [("Cy", None, "only line")]


async def test_search_is_scoped_to_meetings_you_may_read(server: RunningServer, world: World) -> None:
    host, m, rec = await recorded(
        server,
        world,
        "Roadmap review",
        [(0.0, "Ada", "the quarterly roadmap needs budget"), (3.0, "Bob", "budgeting is hard")],
    )
    other_host, _, _ = await recorded(server, world, "Elsewhere", [(0.0, "Eve", "secret budget talk")])

    hits = (await host.client(SEARCH, q="budget", m=m["id"]))["searchTranscripts"]
    assert [h["line"]["speakerName"] for h in hits] == ["Ada"]  # a word, not a prefix: "budgeting" is not it
    assert hits[0]["recordingId"] == rec["id"] and hits[0]["meetingTitle"] == "Roadmap review"
    assert {"text": "budget", "match": True} in hits[0]["highlight"]
    prefix = (await host.client(SEARCH, q="budget*", m=None))["searchTranscripts"]
    assert sorted(h["line"]["speakerName"] for h in prefix) == ["Ada", "Bob"]  # never Eve's meeting
    assert [
        h["line"]["speakerName"] for h in (await other_host.client(SEARCH, q="budget", m=None))["searchTranscripts"]
    ] == ["Eve"]
    assert (await other_host.client.error(SEARCH, q="budget", m=m["id"])).code == "FORBIDDEN"
    assert (await host.client.error(SEARCH, q="  !! ", m=None)).code == "BAD_INPUT"
    assert (await other_host.client.error(TRANSCRIPT, id=rec["id"])).code == "FORBIDDEN"


async def test_lines_carry_their_language(server: RunningServer, world: World) -> None:
    host, m = await live_meeting(world, title="Multilingual")
    rec = (await host.client(START, m=m["id"]))["startRecording"]
    lines = [
        Line(0.0, 1.0, None, "Ana", "buenos días a todos", "es"),
        Line(1.5, 2.0, None, "Ben", "good morning", "en"),
        Line(2.5, 3.0, None, "Dora", "guten Morgen", "de-AT"),
        Line(3.5, 4.0, None, "Old", "before languages were stored"),  # a job from before: no language
        Line(4.5, 5.0, None, "Eve", "odd output", 'en"><b>'),  # not a language code: dropped, not stored
    ]
    await save(server.app.state.services, rec["id"], lines)
    query = "query($id: ID!) { recording(id: $id) { transcript { speakerName language } } }"
    got = (await host.client(query, id=rec["id"]))["recording"]["transcript"]
    assert [(x["speakerName"], x["language"]) for x in got] == [
        ("Ana", "es"),
        ("Ben", "en"),
        ("Dora", "de-at"),
        ("Old", None),
        ("Eve", None),
    ]
    search = 'query($m: ID) { searchTranscripts(query: "buenos", meetingId: $m) { line { language } } }'
    hits = (await host.client(search, m=m["id"]))["searchTranscripts"]
    assert [h["line"]["language"] for h in hits] == ["es"]

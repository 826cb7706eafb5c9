"""The recording player (``/r/<recording id>``, ``/s/<share id>``) in headless Chromium against the real API
(production ``create_app()`` on uvicorn, SQLite): a READY recording with a real H.264/AAC MP4, WebVTT captions
and a stored transcript plays, changes speed, shows captions, searches its transcript and seeks from it; a
share link asks for its passcode; strangers, missing and expired links get errors that say so."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page
from pycrdt import Array, Map
from sqlalchemy import update

from api.recordings import service, transcripts
from dbschema.models import utcnow
from dbschema.recordings import RecordingShare
from testkit.collab_peer import CollabPeer
from tests.conftest import RunningServer, make_settings
from tests.e2e.browser_support import chromium
from tests.support.gql import Client
from tests.support.recording_files import write_mp4
from tests.support.world import Person, World

pytestmark = [pytest.mark.slow, pytest.mark.timeout(90)]

SECONDS = 6
LINES = [
    (0.5, 2.0, "Ada", "Welcome to the quarterly review"),
    (2.0, 3.8, "Bob", "The budget <b>looks</b> fine"),  # markup is text: shown as typed, never parsed
    (4.0, 5.5, "Ada", "See you next week"),
]
START = "mutation($m: ID!) { startRecording(meetingId: $m) { id } }"
STOP = "mutation($m: ID!) { stopRecording(meetingId: $m) { id } }"
END = "mutation($m: ID!) { endMeeting(id: $m) { status } }"
SHARE = "mutation($id: ID!, $p: String) { shareRecording(id: $id, expiresInHours: 1, passcode: $p) { id url } }"


def vtt(seconds: float) -> str:
    whole = int(seconds)
    return f"00:00:{whole:02d}.{round((seconds - whole) * 1000):03d}"


@dataclass
class Recorded:
    server: RunningServer
    host: Person
    outsider: Person
    recording_id: str
    meeting_id: str


@pytest.fixture
async def recorded(tmp_path: Path) -> AsyncIterator[Recorded]:
    srv = RunningServer(make_settings(tmp_path))  # no processor: this test makes the recording READY itself
    await srv.start()
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            world = World(Client(srv.url, http))
            host = await world.user("Host")
            m = await world.meeting(host, title="Quarterly review")
            await world.join(host, m)
            rec = (await host.client(START, m=m["id"]))["startRecording"]["id"]
            await host.client(STOP, m=m["id"])
            svc = srv.app.state.services
            files = service.recording_dir(svc, rec)
            files.mkdir(parents=True, exist_ok=True)
            write_mp4(files / "recording.mp4", SECONDS)
            cues = "".join(f"{vtt(a)} --> {vtt(b)}\n{who}: {text}\n\n" for a, b, who, text in LINES)
            (files / "captions.vtt").write_text(f"WEBVTT\n\n{cues}")
            # Ada's lines transcribed in German, Bob's in English: the player labels the track and lines so.
            langs = {"Ada": "de", "Bob": "en"}
            await transcripts.save(
                svc, rec, [transcripts.Line(a, b, None, who, text, langs[who]) for a, b, who, text in LINES]
            )
            assert await service.finished(svc, rec)
            yield Recorded(srv, host, await world.user("Otto"), rec, m["id"])
    finally:
        await srv.stop()


async def _player(page: Page) -> None:
    await page.wait_for_selector("[data-role=player]:not([hidden])")


async def _error(page: Page) -> str:
    await page.wait_for_selector("[data-role=error]:not([hidden])")
    return await page.text_content("[data-role=error]") or ""


async def test_members_and_share_links_watch_search_and_seek(recorded: Recorded) -> None:
    srv, host = recorded.server, recorded.host
    async with chromium() as browser:
        member = await browser.new_context()
        await member.add_init_script(f"localStorage.setItem('meetmesh.accessToken', {json.dumps(host.client.token)})")
        page = await member.new_page()
        await page.goto(f"{srv.url}/r/{recorded.recording_id}")
        await _player(page)
        assert (await page.text_content("[data-role=title]") or "").startswith("Quarterly review - ")

        # It plays: time advances.
        await page.evaluate("document.querySelector('video').play()")
        await page.wait_for_function("document.querySelector('video').currentTime > 0.3", timeout=10_000)
        assert await page.evaluate("document.querySelector('video').videoWidth") == 320

        # Speed: 2x from the control, and back.
        await page.select_option("[data-role=speed]", "2")
        assert await page.evaluate("document.querySelector('video').playbackRate") == 2
        await page.select_option("[data-role=speed]", "0.5")
        assert await page.evaluate("document.querySelector('video').playbackRate") == 0.5

        # Captions: the WebVTT track loaded and is shown by default.
        await page.wait_for_function("document.querySelector('video').textTracks[0]?.cues?.length === 3")
        assert await page.evaluate("document.querySelector('video').textTracks[0].mode") == "showing"
        assert await page.evaluate("document.querySelector('video').textTracks[0].language") == "de"  # most lines
        langs = await page.eval_on_selector_all("[data-role=transcript] li .text", "els => els.map(e => e.lang)")
        assert langs == ["de", "en", "de"]
        first_cue = await page.evaluate("document.querySelector('video').textTracks[0].cues[0].text")
        assert first_cue == "Ada: Welcome to the quarterly review"

        # Transcript: every line with speaker and time; markup in a line stays text.
        lines = await page.eval_on_selector_all("[data-role=transcript] li", "els => els.map(e => e.textContent)")
        assert lines == [
            "0:00Ada: Welcome to the quarterly review",
            "0:02Bob: The budget <b>looks</b> fine",
            "0:04Ada: See you next week",
        ]
        assert await page.eval_on_selector_all("[data-role=transcript] b", "els => els.length") == 0

        # Search filters to the matching line and marks the match.
        await page.fill("[data-role=search]", "BUDGET")
        visible = "[data-role=transcript] li:not([hidden])"
        assert await page.eval_on_selector_all(visible, "els => els.map(e => e.dataset.start)") == ["2"]
        assert await page.eval_on_selector_all(f"{visible} mark", "els => els.map(e => e.textContent)") == ["budget"]
        await page.fill("[data-role=search]", "")
        assert len(await page.query_selector_all(visible)) == 3

        # Click-to-seek: the last line's start, from wherever playback is now.
        await page.evaluate("document.querySelector('video').pause()")
        before = await page.evaluate("document.querySelector('video').currentTime")
        assert before < 3.5
        await page.click("[data-role=transcript] li[data-start='4']")
        after = await page.evaluate("document.querySelector('video').currentTime")
        assert 4.0 <= after < 4.6, (before, after)
        current = "document.querySelector('[data-role=transcript] li.current')?.dataset.start"
        await page.wait_for_function(f"{current} === '4'")

        # A share link with a passcode: asked for, a wrong one refused, the right one plays (no sign-in).
        link = (await host.client(SHARE, id=recorded.recording_id, p="s3cret42"))["shareRecording"]
        assert link["url"] == f"{srv.url}/s/{link['id']}"
        stranger = await browser.new_context()
        shared = await stranger.new_page()
        await shared.goto(link["url"])
        await shared.wait_for_selector("[data-role=passcode-form]:not([hidden])")
        assert await shared.is_hidden("[data-role=player]")
        await shared.fill("[data-role=passcode]", "wrong-one")
        await shared.click("[data-role=passcode-form] button")
        assert "Wrong passcode" in await _error(shared)
        assert await shared.is_hidden("[data-role=player]")
        await shared.fill("[data-role=passcode]", "s3cret42")
        await shared.click("[data-role=passcode-form] button")
        await _player(shared)
        assert await shared.is_hidden("[data-role=error]")
        await shared.evaluate("document.querySelector('video').play()")
        await shared.wait_for_function("document.querySelector('video').currentTime > 0.3", timeout=10_000)
        assert len(await shared.query_selector_all("[data-role=transcript] li")) == 3

        # Strangers without a token, outsiders with one, links that do not exist or expired.
        await shared.goto(f"{srv.url}/r/{recorded.recording_id}")
        assert "Sign in to watch" in await _error(shared)
        outsider = await browser.new_context()
        await outsider.add_init_script(
            f"localStorage.setItem('meetmesh.accessToken', {json.dumps(recorded.outsider.client.token)})"
        )
        other = await outsider.new_page()
        await other.goto(f"{srv.url}/r/{recorded.recording_id}")
        assert "only the meeting's participants" in await _error(other)
        assert await other.is_hidden("[data-role=player]")
        await other.goto(f"{srv.url}/s/no-such-link")
        assert "does not exist" in await _error(other)
        open_link = (await host.client(SHARE, id=recorded.recording_id, p=None))["shareRecording"]
        async with srv.app.state.services.db.write() as tx:
            await tx.session.execute(
                update(RecordingShare)
                .where(RecordingShare.id == open_link["id"])
                .values(expires_at=utcnow() - timedelta(seconds=1))
            )
        await other.goto(open_link["url"])
        assert "expired" in await _error(other)
        for context in (member, stranger, outsider):
            await context.close()


async def test_the_meetings_notes_and_whiteboard_stay_readable_beside_its_recording(recorded: Recorded) -> None:
    srv, host, mid = recorded.server, recorded.host, recorded.meeting_id
    notes_text = "# Decisions\n- [x] ship the recording page\n- [ ] book the room"
    async with CollabPeer(srv.url, mid, "notes", host.client.token) as notes:
        notes.text().insert(0, notes_text)
        async with CollabPeer(srv.url, mid, "board:main", host.client.token) as board:
            # Numbers as a browser writes them (doubles): pycrdt would store Python ints as BigInts.
            red = {
                "tool": "rect",
                "x1": 400.0,
                "y1": 200.0,
                "x2": 1200.0,
                "y2": 700.0,
                "color": "#d1242f",
                "size": 16.0,
            }
            board.doc.get("shapes", type=Array).append(Map(red))
            # Both stored before the meeting ends: a second client gets them from the server.
            async with CollabPeer(srv.url, mid, "notes", host.client.token) as check:
                await check.wait_for(lambda: str(check.text()) == notes_text)
            async with CollabPeer(srv.url, mid, "board:main", host.client.token) as check:
                await check.wait_for(lambda: len(check.doc.get("shapes", type=Array)) == 1)
    assert (await host.client(END, m=mid))["endMeeting"]["status"] == "ENDED"

    shadow = "document.querySelector('[data-role=document]').shadowRoot"
    async with chromium() as browser:
        member = await browser.new_context()
        await member.add_init_script(f"localStorage.setItem('meetmesh.accessToken', {json.dumps(host.client.token)})")
        page = await member.new_page()
        await page.goto(f"{srv.url}/r/{recorded.recording_id}")
        await _player(page)
        await page.wait_for_selector("[data-role=documents]:not([hidden])")

        await page.click("[data-open-doc=notes]")
        area = f"{shadow}?.querySelector('[data-role=notes-text]')"
        await page.wait_for_function(f"{area}?.value === {json.dumps(notes_text)}")
        assert await page.evaluate(f"{area}.readOnly") is True  # the meeting has ended: read, not edited
        await page.wait_for_function(
            "document.querySelector('[data-role=document-status]').textContent.includes('Read only')"
        )

        await page.click("[data-open-doc=board]")
        canvas = f"{shadow}?.querySelector('.board-stage canvas')"
        await page.wait_for_function(f"!!{canvas}")
        # The rectangle's left edge (board units 400, 450) is red; its middle and the far corner are not.
        pixel = f"""(x, y) => {{ const c = {canvas};
            const at = [Math.round(x / 1600 * c.width), Math.round(y / 900 * c.height)];
            return [...c.getContext('2d').getImageData(at[0], at[1], 1, 1).data]; }}"""
        await page.wait_for_function(f"(([r, g]) => r > 150 && g < 100)(({pixel})(400, 450))")
        edge, middle, corner = [
            await page.evaluate(f"({pixel})({x}, {y})") for x, y in ((400, 450), (800, 450), (50, 50))
        ]
        assert edge[0] > 150 and edge[1] < 100 and edge[3] > 200, edge
        assert not (middle[0] > 150 and middle[1] < 100), middle
        assert not (corner[0] > 150 and corner[1] < 100), corner

        # Without the recording too: the home page's past meeting links its notes and whiteboard (/d/<meeting id>).
        await page.goto(f"{srv.url}/")
        link = page.locator(f"[data-role=past] [data-action=documents][href='/d/{mid}']")
        await link.click()
        await page.wait_for_url(f"{srv.url}/d/{mid}")
        await page.wait_for_selector("[data-role=documents]:not([hidden])")
        assert (await page.text_content("[data-role=title]") or "").startswith("Quarterly review")
        await page.click("[data-open-doc=notes]")
        await page.wait_for_function(f"{area}?.value === {json.dumps(notes_text)}")

        # Someone who was never in the meeting gets no further than the recording's own refusal.
        outsider = await browser.new_context()
        await outsider.add_init_script(
            f"localStorage.setItem('meetmesh.accessToken', {json.dumps(recorded.outsider.client.token)})"
        )
        stranger = await outsider.new_page()
        await stranger.goto(f"{srv.url}/r/{recorded.recording_id}")
        assert "only the meeting's participants" in await _error(stranger)
        assert await stranger.is_hidden("[data-role=documents]")
        await stranger.goto(f"{srv.url}/d/{mid}")
        assert "Only the meeting's participants" in await _error(stranger)
        assert await stranger.is_hidden("[data-role=documents]")

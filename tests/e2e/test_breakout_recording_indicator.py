"""The recording indicator follows the room a person is in, now that each occupied breakout room has a recording
of its own (docs/recordings.md#breakout-rooms): a guest moved into a room while the meeting records still sees
"recording" (their room's), and when the rooms close their room's recording stops but the main one runs on —
the indicator must stay, with no "Recording stopped" toast. Host actions go through GraphQL; what is checked is
the guest's page in Chromium against the real stack."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.browser_support import chromium, gql, host_with_meeting, run_stack
from tests.support.web_ui import SHADOW, join_as, open_meeting, sentence, wait_text

pytestmark = [pytest.mark.slow]

BANNER = "[data-role=recording-banner]"
ROOM = "document.querySelector('meetmesh-room').room"


async def _banner_text(page: object) -> str:
    text: str = await page.evaluate(  # type: ignore[attr-defined]
        f"(() => {{ const b = {SHADOW}.querySelector('{BANNER}'); return b && !b.hidden ? b.textContent : ''; }})()"
    )
    return text


@pytest.mark.timeout(240)
async def test_the_indicator_follows_the_guests_room_through_breakouts(tmp_path: Path) -> None:
    with run_stack(tmp_path) as stack:
        token, number = await host_with_meeting(stack.url)
        url = f"{stack.url}/m/{number}"
        async with chromium() as browser:
            host = await open_meeting(browser, url, token)
            await join_as(host, None)
            guest = await open_meeting(browser, url)
            await join_as(guest, "Gus")
            meeting_id: str = await host.evaluate(f"{ROOM}.meetingId")
            guest_id: str = await guest.evaluate(f"{ROOM}.me.id")
            recording = sentence("m.recordingCloud")

            await gql(stack.url, "mutation($m: ID!) { startRecording(meetingId: $m) { id } }", token, m=meeting_id)
            await wait_text(guest, BANNER, recording)

            created = await gql(
                stack.url,
                "mutation($i: CreateBreakoutRoomsInput!) { createBreakoutRooms(input: $i) { rooms { id name } } }",
                token,
                i={"meetingId": meeting_id, "count": 1},
            )
            room_id = created["createBreakoutRooms"]["rooms"][0]["id"]
            await gql(
                stack.url,
                "mutation($i: AssignBreakoutRoomsInput!) { assignBreakoutRooms(input: $i) { status } }",
                token,
                i={"meetingId": meeting_id, "assignments": [{"participantId": guest_id, "roomId": room_id}]},
            )
            await gql(
                stack.url,
                "mutation($i: OpenBreakoutRoomsInput!) { openBreakoutRooms(input: $i) { status } }",
                token,
                i={"meetingId": meeting_id},
            )
            # In Room 1: its own recording runs, so the guest is still told they are recorded.
            await guest.wait_for_function(f"{ROOM}.me.breakoutRoomId === {room_id!r}")
            recordings = await gql(
                stack.url,
                "query($m: ID!) { recordings(meetingId: $m) { status breakoutRoom { id } } }",
                token,
                m=meeting_id,
            )
            running = [r for r in recordings["recordings"] if r["status"] == "RECORDING"]
            rooms = {(r["breakoutRoom"] or {}).get("id") for r in running}
            assert rooms == {None, room_id}
            await wait_text(guest, BANNER, recording)

            # What the guest's page is told from here on (toasts come and go; the SDK's events stay counted).
            await guest.evaluate(
                f"window.told = []; {ROOM}.addEventListener('cloudrecording', (e) => window.told.push(e.detail.state))"
            )
            await gql(
                stack.url,
                "mutation($m: ID!) { closeBreakoutRooms(meetingId: $m, graceSeconds: 0) { status } }",
                token,
                m=meeting_id,
            )
            # Back in the main room: Room 1's recording stopped, the meeting's did not.
            await guest.wait_for_function(f"{ROOM}.me.breakoutRoomId === null")
            await guest.wait_for_timeout(1500)  # events after the move (the room recording's stop) have arrived
            assert recording in await _banner_text(guest)
            assert await guest.evaluate(f"{ROOM}.cloudRecording") == "recording"
            assert await guest.evaluate("window.told") == []  # no "Recording stopped" for Room 1's recording

            await gql(stack.url, "mutation($m: ID!) { stopRecording(meetingId: $m) { id } }", token, m=meeting_id)
            await guest.wait_for_function(f"{ROOM}.cloudRecording === null")
            assert await _banner_text(guest) == ""
            assert await guest.evaluate("window.told") == [None]

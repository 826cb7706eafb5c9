"""A person with no camera or microphone (or who refused access) still sees and hears the meeting: their browser
has nothing to send, so without a receive-only line it never offered and the edge never gave it anyone's media.
Chromium against the real stack; the viewer's getUserMedia is refused before the page loads."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.e2e.browser_support import chromium, host_with_meeting, run_stack, stat_of
from tests.support.web_ui import SHADOW, join_as, open_meeting

pytestmark = [pytest.mark.slow]

REFUSE_DEVICES = """navigator.mediaDevices.getUserMedia = () =>
  Promise.reject(new DOMException("Permission denied", "NotAllowedError"));"""


@pytest.mark.timeout(180)
async def test_a_viewer_without_devices_receives_the_meeting(tmp_path: Path) -> None:
    with run_stack(tmp_path) as stack:
        token, number = await host_with_meeting(stack.url)
        url = f"{stack.url}/m/{number}"
        async with chromium() as browser:
            host = await open_meeting(browser, url, token)
            await join_as(host, None)
            host_id: str = await host.evaluate("document.querySelector('meetmesh-room').room.me.id")

            ctx = await browser.new_context(locale="en-US")
            await ctx.add_init_script(REFUSE_DEVICES)
            viewer = await ctx.new_page()
            await viewer.goto(url)
            await viewer.wait_for_selector("meetmesh-room [data-action=join]")
            joined_at = time.monotonic()
            await join_as(viewer, "Listener")
            assert await viewer.evaluate("document.querySelector('meetmesh-room').room.stream") is None
            # The host's camera and microphone arrive and decode.
            await viewer.wait_for_function(
                f"[...{SHADOW}.querySelectorAll('video')].some((v) => v.videoWidth > 0)", timeout=20_000
            )
            first_picture_s = time.monotonic() - joined_at
            assert await stat_of(viewer, "video", "camera", host_id, "framesDecoded") > 0
            assert await stat_of(viewer, "audio", "microphone", host_id, "packetsReceived") > 0
            # A liveness bound far above a normal join (the edge's negotiation timeout is 10 s): media must come
            # with the first negotiation, not after a retry.
            assert first_picture_s < 9, first_picture_s

"""Simulcast end to end: Chromium publishes its camera in three sizes, the edge learns the layers from their
RID header extensions and forwards each subscriber the one that fits the size it shows the video at.

Two pages (headless Chromium, fake 1280x720 camera) meet through the real stack. The publisher's outbound
stats must show all three layers being encoded (the edge's answer accepted simulcast); the viewer's received
picture follows its tile: full size while the tile is big, the quarter layer once the tile is shrunk to a
thumbnail, full size again when it grows back, with frames decoded throughout (switches happen on key frames).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page

from tests.e2e.browser_support import (
    CHROMIUM,
    ROOM,
    by_source,
    chromium,
    host_with_meeting,
    join_via_ui,
    remote_stats,
    run_stack,
)
from tests.support.gql import eventually
from tests.support.netns import namespace

pytestmark = pytest.mark.slow

OUTBOUND = """(async () => {
  const out = {};
  (await document.querySelector('meetmesh-room').room.media.pc.getStats()).forEach((s) => {
    if (s.type !== 'outbound-rtp' || s.kind !== 'video') return;
    out[s.rid ?? ''] = {frames: s.framesEncoded ?? 0, height: s.frameHeight ?? 0};
  });
  return out;
})()"""


async def _outbound(page: Page) -> dict[str, dict[str, int]]:
    result: dict[str, dict[str, int]] = await page.evaluate(OUTBOUND)
    return result


async def _three_layers(publisher: Page) -> dict[str, dict[str, int]] | None:
    """The publisher's outbound layers once all three are encoding (a layer's size is 0 in its first stats)."""
    out = await _outbound(publisher)
    ready = set(out) == {"q", "h", "f"} and all(v["frames"] > 30 and v["height"] > 0 for v in out.values())
    return out if ready else None


async def _host_joins(browser: Browser, url: str, token: str) -> Page:
    """The host (signed in with ``token``) joins as Ada; her page."""
    context = await browser.new_context()
    await context.add_init_script(f"localStorage.setItem('meetmesh.accessToken', {token!r})")
    return await join_via_ui(context, url, "Ada")


async def _camera_of(page: Page, pid: str) -> dict[str, Any] | None:
    return by_source(await remote_stats(page), "video", "camera").get(pid)


async def _tile_width(page: Page, pid: str, css_width: str) -> None:
    await page.evaluate(
        """([pid, width]) => {
          const root = document.querySelector('meetmesh-room').shadowRoot;
          const tile = root.querySelector(`.tile[data-participant-id="${pid}"]`);
          tile.style.width = width;
          tile.style.flex = 'none';
          tile.parentElement.style.display = 'block';
        }""",
        [pid, css_width],
    )


async def _receives(viewer: Page, publisher: Page, pid: str, rid: str, timeout: float) -> dict[str, Any]:
    """Wait until ``viewer`` decodes ``pid``'s camera at the size ``publisher`` encodes layer ``rid`` at now (Chromium
    scales its layers down when the machine is busy) and keeps decoding; the viewer's last stats. ``rid`` may
    list several layers ("qh": either)."""
    seen: list[object] = []

    async def at_layer() -> dict[str, Any] | None:
        stat, sent = await _camera_of(viewer, pid), await _outbound(publisher)
        seen[:] = [stat, sent]
        heights = sorted(v["height"] for v in sent.values())
        wanted = [sent.get(r, {}).get("height", 0) for r in rid]
        # The layer's size must tell it apart from the others (no two layers scaled to one size).
        if stat is None or not all(wanted) or any(heights.count(h) != 1 for h in wanted):
            return None
        return stat if stat["frameHeight"] in wanted else None

    try:
        first = await eventually(at_layer, timeout=timeout)

        async def decoding() -> dict[str, Any] | None:
            stat = await at_layer()
            return stat if stat is not None and stat["framesDecoded"] >= first["framesDecoded"] + 10 else None

        last: dict[str, Any] = await eventually(decoding, timeout=10)
        return last
    except AssertionError:
        raise AssertionError(f"never decoded layer {rid}; last seen (received, sent): {seen}") from None


@pytest.mark.timeout(150)
async def test_each_viewer_gets_the_simulcast_layer_its_tile_needs(tmp_path: Path) -> None:
    with run_stack(tmp_path) as stack:
        token, number = await host_with_meeting(stack.url)
        url = f"{stack.url}/m/{number}"
        async with chromium() as browser:
            ada = await _host_joins(browser, url, token)
            bob = await join_via_ui(await browser.new_context(), url, "Bob")
            ada_id: str = await ada.evaluate(f"{ROOM}.me.id")

            # The camera is captured at 720p and encoded in three sizes at once.
            settings = await ada.evaluate(f"{ROOM}.stream.getVideoTracks()[0].getSettings()")
            assert (settings["width"], settings["height"]) == (1280, 720), settings

            layers = await eventually(lambda: _three_layers(ada), timeout=30)
            # A quarter, a half and the whole picture (Chromium scales the input down while the machine is busy).
            q, h, f = (layers[rid]["height"] for rid in "qhf")
            assert f <= 720 and abs(h - f / 2) <= 1 and abs(q - f / 4) <= 1, layers

            # A big tile gets the full-size layer.
            await _tile_width(bob, ada_id, "1200px")
            await _receives(bob, ada, ada_id, "f", timeout=30)

            # A thumbnail gets the quarter-size layer: a sixteenth of the pixels.
            await _tile_width(bob, ada_id, "200px")
            await _receives(bob, ada, ada_id, "q", timeout=15)

            # And back up when the tile grows again; the picture never stopped meanwhile.
            await _tile_width(bob, ada_id, "1200px")
            await _receives(bob, ada, ada_id, "f", timeout=20)
            # Ada's view of Bob (no tile changes) was never disturbed: it decodes too.
            bob_id: str = await bob.evaluate(f"{ROOM}.me.id")
            seen = await _camera_of(ada, bob_id)
            assert seen is not None and seen["framesDecoded"] > 0, seen


@pytest.mark.timeout(180)
async def test_a_viewer_on_a_slow_link_gets_a_smaller_layer_and_the_full_one_back(tmp_path: Path) -> None:
    """The viewer's Chromium runs in a network namespace whose only link to the edge is a veth pair; shaping that
    link to 700 kbit/s (less than the full layer's 1.5 Mbit/s) makes its receive estimate fall, and the edge
    moves it to a layer that fits while its tile stays big. Lifting the limit brings the full layer back once
    the edge's hold on the cap ends. Frames are decoded throughout."""
    with namespace() as ns, run_stack(tmp_path, host=ns.host_ip) as stack:
        token, number = await host_with_meeting(stack.url)
        url = f"{stack.url}/m/{number}"
        # Not localhost: Chromium gives an http page a camera only if told to treat its origin as secure.
        secure = [f"--unsafely-treat-insecure-origin-as-secure={stack.url}"]
        async with (
            chromium(extra_args=secure) as browser,
            chromium(ns.wrapper(tmp_path, CHROMIUM), extra_args=secure) as inside,
        ):
            ada = await _host_joins(browser, url, token)
            bob = await join_via_ui(await inside.new_context(), url, "Bob")
            ada_id: str = await ada.evaluate(f"{ROOM}.me.id")

            await eventually(lambda: _three_layers(ada), timeout=30)
            await _tile_width(bob, ada_id, "1200px")
            await _receives(bob, ada, ada_id, "f", timeout=30)

            ns.limit_downlink(700)
            slow = await _receives(bob, ada, ada_id, "qh", timeout=30)

            ns.unlimit()
            back = await _receives(bob, ada, ada_id, "f", timeout=60)
            assert back["framesDecoded"] > slow["framesDecoded"], (slow, back)

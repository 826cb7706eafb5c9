"""Annotation over a screen share (web/collab/annotate.js, docs/collaboration.md) in two Chromium pages against the
real stack: a viewer's mark lands on the same point of the shared picture on the sharer's smaller preview and on
the viewer's own tile before and after it is resized (pixels read from the overlay canvases at points the test
works out from each video's box and picture size); marks fade and leave the document; the sharer turns
annotation off, the viewer's pen goes grey and the server refuses the viewer's marks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.async_api import Page

from tests.e2e.browser_support import chromium, host_with_meeting, run_stack
from tests.support.web_ui import axe, join_as, my_id, open_meeting, sentence, shot, wait_text

pytestmark = [pytest.mark.slow]

ELEMENT = "document.querySelector('meetmesh-room')"
POINT = (0.3, 0.4)
"""The content point the viewer marks, as fractions of the shared picture."""
FAR = [(0.7, 0.8), (0.05, 0.05), (0.3, 0.7)]
"""Points of the picture the mark does not touch."""


def view(pid: str) -> str:
    return f"{ELEMENT}._annotations.get({json.dumps(pid)}).view"


async def frames(page: Page) -> None:
    await page.evaluate("new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")


async def where(page: Page, pid: str, fx: float, fy: float) -> dict[str, float]:
    """Where the picture's point (fx, fy) is on the page and on the overlay canvas, worked out here from the
    video element's box and its picture size (object-fit: contain) rather than by the code under test."""
    at: dict[str, float] = await page.evaluate(
        """([pid, fx, fy]) => {
          const frame = document.querySelector('meetmesh-room').shadowRoot
            .querySelector(`.screen[data-participant-id="${pid}"]`);
          const video = frame.querySelector('video');
          const box = video.getBoundingClientRect();
          const s = Math.min(box.width / video.videoWidth, box.height / video.videoHeight);
          const w = video.videoWidth * s, h = video.videoHeight * s;
          const x = (box.width - w) / 2 + fx * w, y = (box.height - h) / 2 + fy * h;
          return { pageX: box.left + x, pageY: box.top + y, x, y, boxW: box.width, boxH: box.height, w };
        }""",
        [pid, fx, fy],
    )
    return at


async def ink(page: Page, pid: str, fx: float, fy: float) -> int:
    """The most opaque overlay pixel within a pixel of the picture's point (fx, fy) (0: nothing drawn there)."""
    await frames(page)
    at = await where(page, pid, fx, fy)
    alpha: int = await page.evaluate(
        """([canvas, x, y]) => {
          const dpr = canvas.width / canvas.clientWidth;
          const d = canvas.getContext('2d').getImageData(Math.round(x * dpr) - 1, Math.round(y * dpr) - 1, 3, 3).data;
          let best = 0; for (let i = 3; i < d.length; i += 4) best = Math.max(best, d[i]); return best;
        }""",
        [await page.evaluate_handle(f"{view(pid)}.canvas"), at["x"], at["y"]],
    )
    return alpha


async def marked_at_point_only(page: Page, pid: str) -> None:
    assert await ink(page, pid, *POINT) > 200, await where(page, pid, *POINT)
    for far in FAR:
        assert await ink(page, pid, *far) == 0, far


@pytest.mark.timeout(240)
async def test_a_mark_on_a_shared_screen_stays_on_its_content_point(tmp_path: Path) -> None:
    with run_stack(tmp_path) as stack:
        token, number = await host_with_meeting(stack.url, "annotate-host@example.test")
        url = f"{stack.url}/m/{number}"
        async with chromium() as browser:
            sharer = await open_meeting(browser, url, token, viewport={"width": 900, "height": 700})
            await join_as(sharer, None)
            viewer = await open_meeting(browser, url, viewport={"width": 1400, "height": 900})
            await join_as(viewer, "Ada")
            pid = await my_id(sharer)
            # The shared "screen": a 640x360 picture (a canvas), repainted so frames keep flowing.
            await sharer.evaluate(
                f"""(() => {{
                  const c = Object.assign(document.createElement('canvas'), {{width: 640, height: 360}});
                  const g = c.getContext('2d'); let n = 0;
                  setInterval(() => {{ g.fillStyle = n++ % 2 ? '#f4f4f4' : '#f5f5f5'; g.fillRect(0, 0, 640, 360);
                    g.fillStyle = '#000'; g.fillRect(188, 140, 8, 8); }}, 60);
                  {ELEMENT}.room.shareScreen(c.captureStream(15).getVideoTracks()[0]);
                }})()"""
            )
            for page in (sharer, viewer):
                await page.wait_for_function(
                    f"{ELEMENT}._annotations?.get({json.dumps(pid)})?.view?.provider.synced && {ELEMENT}.shadowRoot"
                    f".querySelector('.screen[data-participant-id=\"{pid}\"] video').videoWidth === 640",
                    timeout=30_000,
                )
                await page.evaluate(f"{view(pid)}.fadeMs = 120000")  # the checks below must not race the fade
            # Two tile sizes, letterboxed differently: the sharer's preview is the smaller one.
            small, large = await where(sharer, pid, *POINT), await where(viewer, pid, *POINT)
            assert small["w"] < 0.8 * large["w"], (small, large)

            # The viewer marks the point with a short stroke across it.
            await viewer.click("meetmesh-room [data-annotate-action=pen]")
            left = await where(viewer, pid, POINT[0] - 0.04, POINT[1])
            right = await where(viewer, pid, POINT[0] + 0.04, POINT[1])
            await viewer.mouse.move(left["pageX"], left["pageY"])
            await viewer.mouse.down()
            await viewer.mouse.move(right["pageX"], right["pageY"], steps=8)
            await viewer.mouse.up()
            for page in (sharer, viewer):
                await page.wait_for_function(f"{view(pid)}.strokes.length === 1")
            stored = await sharer.evaluate(f"{view(pid)}.strokes.get(0).get('points')")
            assert all(abs(y - POINT[1]) < 0.01 for _, y in stored) and min(x for x, _ in stored) < POINT[0]
            await marked_at_point_only(viewer, pid)
            await marked_at_point_only(sharer, pid)
            await axe(viewer, "annotation-viewer")
            await axe(sharer, "annotation-sharer")
            # The viewer's tile changes size: the mark moves with the picture.
            await viewer.set_viewport_size({"width": 700, "height": 900})
            await viewer.wait_for_function(
                f"{ELEMENT}.shadowRoot.querySelector('.screen[data-participant-id=\"{pid}\"] video').clientWidth < 700"
            )
            resized = await where(viewer, pid, *POINT)
            assert abs(resized["w"] - large["w"]) > 100, (resized, large)
            await marked_at_point_only(viewer, pid)
            await shot(viewer, "annotation")

            # Marks fade: once faded, their author deletes them from the document, for everyone.
            for page in (sharer, viewer):
                await page.evaluate(f"{view(pid)}.fadeMs = 300")
            await sharer.wait_for_function(f"{view(pid)}.strokes.length === 0", timeout=10_000)
            assert await ink(sharer, pid, *POINT) == 0

            # The sharer turns annotation off: the viewer's pen goes grey, the server refuses the viewer's marks.
            assert await viewer.is_hidden("meetmesh-room [data-annotate-action=off]")
            await sharer.click("meetmesh-room [data-annotate-action=off]")
            await viewer.wait_for_selector("meetmesh-room [data-annotate-action=pen]:disabled")
            await wait_text(viewer, ".annotate-status", sentence("annotate.offForYou"))
            await viewer.evaluate(
                f"""(() => {{ const v = {view(pid)}; window.denied = null;
                  v.provider.addEventListener('denied', (e) => (window.denied = e.detail));
                  v.strokes.push([{{ points: [[0.5, 0.5]] }}]);  // past the grey pen, straight into the document
                }})()"""
            )
            await viewer.wait_for_function("window.denied !== null")
            assert (await viewer.evaluate("window.denied")).startswith("locked")
            await frames(sharer)
            assert await sharer.evaluate(f"{view(pid)}.strokes.length") == 0
            # The refused mark goes with the viewer's document (it starts over from the server's state), so the
            # next mark, once annotation is back on, reaches the sharer instead of waiting behind the refused one.
            await viewer.wait_for_function(
                f"{view(pid)}.strokes.length === 0 && {view(pid)}.provider.status === 'connected'"
            )
            await sharer.click("meetmesh-room [data-annotate-action=off]")
            await viewer.wait_for_selector("meetmesh-room [data-annotate-action=pen]:enabled")
            await viewer.click("meetmesh-room [data-annotate-action=pen]")
            await viewer.mouse.move(left["pageX"], left["pageY"])
            await viewer.mouse.down()
            await viewer.mouse.move(right["pageX"], right["pageY"], steps=8)
            await viewer.mouse.up()
            await sharer.wait_for_function(f"{view(pid)}.strokes.length === 1")

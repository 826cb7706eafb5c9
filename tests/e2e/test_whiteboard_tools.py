"""The whiteboard's editing tools (web/collab/board.js) in two Chromium pages against the real stack: select, move
and resize a shape, sticky notes, delete, the laser pointer (awareness only: nothing stored), SVG export, zoom and
pan (one page's own view); after each step both pages hold the same document and render the same picture."""

from __future__ import annotations

import asyncio
import base64
import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops
from playwright.async_api import Page

from tests.e2e.browser_support import chromium, host_with_meeting, run_stack
from tests.support.web_ui import join_as, open_meeting, open_panel

pytestmark = [pytest.mark.slow]

ELEMENT = "document.querySelector('meetmesh-room')"
BOARD = f"{ELEMENT}._collab?.whiteboard?.view"
W, H = 1600, 900


async def frames(page: Page) -> None:
    await page.evaluate("new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")


async def at(page: Page, x: float, y: float) -> tuple[float, float]:
    """Board units (1600x900) to page coordinates."""
    box = await page.locator("meetmesh-room [data-role=board-canvas]").bounding_box()
    assert box is not None
    return box["x"] + x / W * box["width"], box["y"] + y / H * box["height"]


async def drag(page: Page, points: list[tuple[float, float]]) -> None:
    """Press, move through ``points`` (board units while the view is not zoomed: canvas units) and release."""
    first = await at(page, *points[0])
    await page.mouse.move(*first)
    await page.mouse.down()
    for p in points[1:]:
        await page.mouse.move(*await at(page, *p), steps=5)
    await page.mouse.up()


async def shapes(page: Page) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await page.evaluate(f"{BOARD}.shapes.toJSON()")
    return found


async def same_document(a: Page, b: Page, predicate: str) -> list[dict[str, Any]]:
    """Wait until ``predicate`` (JavaScript over ``s``, the shapes) holds on both pages and they agree."""
    for page in (a, b):
        await page.wait_for_function(f"(() => {{ const s = {BOARD}.shapes.toJSON(); return {predicate}; }})()")
    mine, theirs = await shapes(a), await shapes(b)
    assert mine == theirs
    return mine


def pdf_pictures(pdf: bytes) -> list[Image.Image]:
    """The JPEG pictures of a PDF written by web/collab/board_pdf.js, after checking its cross-reference table: every
    object's offset points at that object (ISO 32000-1 section 7.5.4)."""
    assert pdf.startswith(b"%PDF-1.4\n") and pdf.rstrip().endswith(b"%%EOF")
    start = int(re.findall(rb"startxref\n(\d+)", pdf)[-1])
    table = pdf[start:].split(b"trailer")[0].split(b"\n")
    assert table[0] == b"xref"
    count = int(table[1].split()[1])
    for n, entry in enumerate(table[3 : 2 + count], start=1):
        offset = int(entry.split()[0])
        assert pdf[offset:].startswith(f"{n} 0 obj".encode()), n
    pictures = []
    for m in re.finditer(rb"/Filter /DCTDecode /Length (\d+) >>\nstream\n", pdf):
        jpeg = pdf[m.end() : m.end() + int(m.group(1))]
        pictures.append(Image.open(io.BytesIO(jpeg)).convert("RGB"))
    assert pdf.count(b"/Type /Page ") == len(pictures)
    return pictures


def differs(a: Image.Image, b: Image.Image) -> float:
    """The share of pixels that differ clearly (by more than 96 of 255 in grey): JPEG's own error stays below."""
    diff = ImageChops.difference(a, b).convert("L").point(lambda v: 255 if v > 96 else 0)
    return diff.histogram()[255] / (a.width * a.height)


async def rendered(page: Page) -> Image.Image:
    data = (await picture(page)).split(",", 1)[1]
    return Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB")


async def picture(page: Page) -> str:
    await frames(page)
    data: str = await page.evaluate(f"{BOARD}.canvas.toDataURL('image/png')")
    return data


@pytest.mark.timeout(240)
async def test_select_move_resize_sticky_delete_laser_and_svg(tmp_path: Path) -> None:
    with run_stack(tmp_path) as stack:
        token, number = await host_with_meeting(stack.url, "board-tools@example.test")
        url = f"{stack.url}/m/{number}"
        async with chromium() as browser:
            host = await open_meeting(browser, url, token, viewport={"width": 1400, "height": 900})
            await join_as(host, None)
            ada = await open_meeting(browser, url, viewport={"width": 1100, "height": 900})
            await join_as(ada, "Ada")
            for page in (host, ada):
                await open_panel(page, "whiteboard")
                await page.wait_for_function(f"{BOARD} && {ELEMENT}._collab.whiteboard.provider.synced")

            # A rectangle, then the select tool moves it by (400, 200) and resizes it from its corner handle.
            await host.click("meetmesh-room [data-tool=rect]")
            await drag(host, [(200, 100), (500, 300)])
            (rect,) = await same_document(host, ada, "s.length === 1")
            assert (rect["x1"], rect["y1"], rect["x2"], rect["y2"]) == pytest.approx((200, 100, 500, 300), abs=3)
            await host.click("meetmesh-room [data-tool=select]")
            await drag(host, [(350, 200), (550, 300), (750, 400)])  # grabbed inside, moved
            (rect,) = await same_document(host, ada, "s[0].x1 > 400")
            assert (rect["x1"], rect["y1"], rect["x2"], rect["y2"]) == pytest.approx((600, 300, 900, 500), abs=4)
            await drag(host, [(906, 506), (956, 556), (1006, 606)])  # the handle: 6 units beyond the corner
            (rect,) = await same_document(host, ada, "s[0].x2 > 950")
            assert (rect["x1"], rect["y1"], rect["x2"], rect["y2"]) == pytest.approx((600, 300, 1000, 600), abs=4)
            assert await host.evaluate(f"{BOARD}.selected !== null")
            # Undo takes the resize back as one step.
            await host.click("meetmesh-room [data-board-action=undo]")
            (rect,) = await same_document(host, ada, "s[0].x2 < 950")
            assert rect["x2"] == pytest.approx(900, abs=4)

            # Ada sticks a note on the board.
            await ada.click("meetmesh-room [data-tool=sticky]")
            await ada.fill("meetmesh-room [data-role=board-text]", "Book the venue before Friday")
            x, y = await at(ada, 100, 600)
            await ada.mouse.click(x, y)
            _, note = await same_document(host, ada, "s.length === 2")
            assert note["tool"] == "sticky" and note["text"] == "Book the venue before Friday"
            assert (note["x1"], note["y1"]) == pytest.approx((100, 600), abs=3)
            assert await picture(host) == await picture(ada)
            # A thick straight line.
            await ada.click("meetmesh-room [data-board-action=width][data-width='8']")
            await ada.click("meetmesh-room [data-tool=line]")
            await drag(ada, [(1100, 100), (1300, 200), (1500, 300)])
            _, _, line = await same_document(host, ada, "s.length === 3")
            assert line["tool"] == "line" and line["size"] == 8
            assert (line["x1"], line["y1"], line["x2"], line["y2"]) == pytest.approx((1100, 100, 1500, 300), abs=4)
            assert await picture(host) == await picture(ada)

            # SVG export: the same shapes as vector elements, the note's words as text.
            async with ada.expect_download() as download:
                await ada.click("meetmesh-room [data-board-action=export-svg]")
            svg = await asyncio.to_thread(Path(await (await download.value).path()).read_text)
            root = ET.fromstring(svg)
            assert root.tag == "{http://www.w3.org/2000/svg}svg" and root.get("viewBox") == "0 0 1600 900"
            tools = [el.get("data-tool") for el in root.iter() if el.get("data-tool")]
            assert tools == ["rect", "sticky", "line"]
            assert "Book the venue" in "".join(root.itertext())
            assert [el.get("stroke-width") for el in root.iter() if el.get("data-tool") == "line"] == ["8"]
            await ada.click("meetmesh-room [data-board-action=undo]")  # the line goes again
            await same_document(host, ada, "s.length === 2")

            # Ada selects her note and deletes it with the Delete key.
            await ada.click("meetmesh-room [data-tool=select]")
            x, y = await at(ada, 150, 650)
            await ada.mouse.click(x, y)
            await ada.wait_for_function(f"{BOARD}.selected?.get('tool') === 'sticky'")
            await ada.keyboard.press("Delete")
            (left,) = await same_document(host, ada, "s.length === 1")
            assert left["tool"] == "rect"

            # The laser pointer: Ada sees the host's trail while the button is down; nothing is stored.
            await host.click("meetmesh-room [data-tool=laser]")
            start = await at(host, 300, 300)
            await host.mouse.move(*start)
            await host.mouse.down()
            await host.mouse.move(*await at(host, 700, 450), steps=6)
            seen = (
                f"[...{ELEMENT}._collab.whiteboard.provider.awareness.getStates().values()]"
                ".find((s) => s.user?.name === 'Host')?.laser"
            )
            # The trail arrives once per animation frame: wait for its tip to reach where the pointer stopped.
            await ada.wait_for_function(
                f"(() => {{ const l = {seen}; return l?.length > 1"
                " && Math.hypot(l.at(-1)[0] - 700, l.at(-1)[1] - 450) <= 3; })()"
            )
            await host.mouse.up()
            await ada.wait_for_function(f"!({seen})")
            assert len(await shapes(ada)) == 1

            # Zoom and pan are the host's own view: a box drawn while zoomed lands where the view showed it.
            for _ in range(3):
                await host.click("meetmesh-room [data-board-action=zoom-in]")
            view = await host.evaluate(f"{BOARD}.view")
            assert view["scale"] == pytest.approx(1.25**3, abs=0.01)
            await host.click("meetmesh-room [data-tool=hand]")
            await drag(host, [(800, 450), (600, 350)])  # drags the board left and up: the view moves right and down
            panned = await host.evaluate(f"{BOARD}.view")
            assert panned["x"] == pytest.approx(view["x"] + 200 / view["scale"], abs=3)
            assert panned["y"] == pytest.approx(view["y"] + 100 / view["scale"], abs=3)
            await host.click("meetmesh-room [data-tool=rect]")
            await drag(host, [(400, 200), (800, 600)])  # canvas units: board = view corner + canvas / scale
            _, box = await same_document(host, ada, "s.length === 2")
            s, x0, y0 = panned["scale"], panned["x"], panned["y"]
            expected = (x0 + 400 / s, y0 + 200 / s, x0 + 800 / s, y0 + 600 / s)
            assert (box["x1"], box["y1"], box["x2"], box["y2"]) == pytest.approx(expected, abs=3)
            assert (await ada.evaluate(f"{BOARD}.view"))["scale"] == 1  # Ada's view did not move
            await host.click("meetmesh-room [data-board-action=zoom-reset]")
            assert await host.evaluate(f"{BOARD}.view") == {"scale": 1, "x": 0, "y": 0}
            assert await picture(host) == await picture(ada)

            # Pages: the host adds one and draws on it; Ada stays on page 1 until she follows.
            await host.click("meetmesh-room [data-board-action=page-add]")
            await host.wait_for_function(f"{BOARD}.page.index === 1 && {BOARD}.page.count === 2")
            await ada.wait_for_function(f"{BOARD}.page.count === 2")
            assert (await ada.evaluate(f"{BOARD}.page"))["index"] == 0
            first = await rendered(ada)
            await host.click("meetmesh-room [data-tool=ellipse]")
            await drag(host, [(100, 100), (700, 500)])
            await host.wait_for_function(f"{BOARD}.shapes.length === 1")
            assert len(await shapes(ada)) == 2  # page 1 still: the two boxes
            await ada.click("meetmesh-room [data-board-action=page-next]")
            (ellipse,) = await same_document(host, ada, "s.length === 1")
            assert ellipse["tool"] == "ellipse"
            second = await rendered(ada)
            # The board as PDF: one page per board page, each that page's picture.
            async with ada.expect_download() as download:
                await ada.click("meetmesh-room [data-board-action=export-pdf]")
            pdf = await asyncio.to_thread(Path(await (await download.value).path()).read_bytes)
            one, two = pdf_pictures(pdf)
            assert one.size == two.size == (1600, 900)
            assert differs(one, first) < 0.001 and differs(two, second) < 0.001
            assert differs(one, second) > 0.005  # and the two pages are not the same picture

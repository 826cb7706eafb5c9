"""Shared notes and the whiteboard through the meeting page, three Chromium pages against the real stack: strokes
drawn on one appear on the others (their rendered canvases are identical), undo takes back only one's own, a
concurrent edits to one notes paragraph converge everywhere, and a page that goes offline,
edits and comes back merges its edits."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from playwright.async_api import Page

from tests.e2e.browser_support import chromium, host_with_meeting, run_stack
from tests.support.web_ui import axe, join_as, open_meeting, open_panel, sentence, shot, wait_text

pytestmark = [pytest.mark.slow]

ELEMENT = "document.querySelector('meetmesh-room')"
BOARD = f"{ELEMENT}._collab?.whiteboard?.view"
NOTES = "meetmesh-room [data-role=notes-text]"


async def frames(page: Page) -> None:
    await page.evaluate("new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")


async def shape_count(page: Page) -> int:
    n: int = await page.evaluate(f"{BOARD}?.shapes.length ?? -1")
    return n


async def canvas_png(page: Page) -> str:
    await frames(page)
    data: str = await page.evaluate(f"{BOARD}.canvas.toDataURL('image/png')")
    return data


async def drag(page: Page, points: list[tuple[float, float]]) -> None:
    """Press, move through ``points`` (fractions of the canvas) and release, as a mouse would."""
    box = await page.locator("meetmesh-room [data-role=board-canvas]").bounding_box()
    assert box is not None
    at = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    await page.mouse.move(*at[0])
    await page.mouse.down()
    for x, y in at[1:]:
        await page.mouse.move(x, y, steps=4)
    await page.mouse.up()


def interleaves(text: str, parts: list[str]) -> bool:
    """Whether ``text`` is exactly ``parts`` merged, each keeping its own order (a shuffle of the sequences)."""
    reachable = {tuple(0 for _ in parts)}
    for ch in text:
        reachable = {
            tuple(n + (j == i) for j, n in enumerate(state))
            for state in reachable
            for i, part in enumerate(parts)
            if state[i] < len(part) and part[state[i]] == ch
        }
        if not reachable:
            return False
    return tuple(len(p) for p in parts) in reachable


async def notes_text(page: Page) -> str:
    return await page.input_value(NOTES)


async def converged(pages: list[Page], timeout_s: float = 20.0) -> str:
    async with asyncio.timeout(timeout_s):
        while True:
            texts = [await notes_text(p) for p in pages]
            if len(set(texts)) == 1:
                return texts[0]
            await asyncio.sleep(0.1)


@pytest.mark.timeout(240)
async def test_whiteboard_and_notes_across_three_pages(tmp_path: Path) -> None:
    with run_stack(tmp_path) as stack:
        token, number = await host_with_meeting(stack.url, "collab-host@example.test")
        url = f"{stack.url}/m/{number}"
        async with chromium() as browser:
            host = await open_meeting(browser, url, token, viewport={"width": 1400, "height": 900})
            await join_as(host, None)
            ada = await open_meeting(browser, url, viewport={"width": 1400, "height": 900})
            await join_as(ada, "Ada")
            bob = await open_meeting(browser, url, viewport={"width": 1400, "height": 900})
            await join_as(bob, "Bob")
            pages = [host, ada, bob]

            # -- the whiteboard ------------------------------------------------------------------------------
            for page in pages:
                await open_panel(page, "whiteboard")
                await page.wait_for_function(f"{BOARD} && {ELEMENT}._collab.whiteboard.provider.synced")
            await drag(host, [(0.1, 0.1), (0.2, 0.3), (0.3, 0.2), (0.4, 0.4)])  # a pen stroke
            await ada.click("meetmesh-room [data-tool=rect]")
            await ada.click("meetmesh-room [data-colour='#d1242f']")
            await drag(ada, [(0.5, 0.5), (0.7, 0.8)])
            await bob.click("meetmesh-room [data-tool=arrow]")
            await drag(bob, [(0.8, 0.1), (0.9, 0.4)])
            await bob.click("meetmesh-room [data-tool=ellipse]")
            await drag(bob, [(0.1, 0.6), (0.3, 0.9)])
            await bob.click("meetmesh-room [data-tool=text]")
            await bob.fill("meetmesh-room [data-role=board-text]", "Plan B")
            await drag(bob, [(0.45, 0.1)])
            for page in pages:
                await page.wait_for_function(f"{BOARD}.shapes.length === 5")
            pictures = [await canvas_png(p) for p in pages]
            assert pictures[0] == pictures[1] == pictures[2]
            blank = await host.evaluate(
                "(() => { const c = document.createElement('canvas'); c.width = 1600; c.height = 900;"
                " const x = c.getContext('2d'); x.fillStyle = '#fff'; x.fillRect(0, 0, 1600, 900);"
                " return c.toDataURL('image/png'); })()"
            )
            assert pictures[0] != blank
            # Others' cursors show with their names (in the overlay, not in the picture).
            await bob.mouse.move(700, 500)
            await host.wait_for_function(
                f"[...{ELEMENT}._collab.whiteboard.provider.awareness.getStates().values()]"
                ".some((s) => s.user?.name === 'Bob' && s.cursor)"
            )
            # Undo takes back only one's own: Ada's undo removes her rectangle, not the host's stroke.
            await ada.click("meetmesh-room [data-board-action=undo]")
            for page in pages:
                await page.wait_for_function(f"{BOARD}.shapes.length === 4")
            assert "rect" not in await host.evaluate(f"{BOARD}.shapes.toArray().map((s) => s.get('tool')).join()")
            await ada.click("meetmesh-room [data-board-action=redo]")
            await host.wait_for_function(f"{BOARD}.shapes.length === 5")
            # The eraser removes what it touches, for everyone.
            await host.click("meetmesh-room [data-tool=eraser]")
            await drag(host, [(0.6, 0.45), (0.6, 0.55)])  # across the rectangle's top edge
            await bob.wait_for_function(f"{BOARD}.shapes.length === 4")
            # The host locks the board: the others' tools go grey and they are told why; unlocking gives them back.
            assert await ada.is_hidden("meetmesh-room [data-board-action=lock]")
            await host.click("meetmesh-room [data-board-action=lock]")
            await ada.wait_for_selector("meetmesh-room [data-panel=whiteboard] [data-tool=pen]:disabled")
            await wait_text(ada, "[data-panel=whiteboard] .collab-status", sentence("collab.locked"))
            await host.wait_for_selector("meetmesh-room [data-board-action=lock][aria-pressed=true]")
            assert await host.is_enabled("meetmesh-room [data-panel=whiteboard] [data-tool=pen]")
            # Past the grey tools, straight into her document: the server refuses it, her page starts over on the
            # server's document (the shape is gone there too) and the others never see it.
            before = await shape_count(host)
            await ada.evaluate(
                f"""(async () => {{ const Y = await import("yjs"); const p = {ELEMENT}._collab.whiteboard.provider;
                  window.denied = null; p.addEventListener("denied", (e) => (window.denied = e.detail));
                  {BOARD}.shapes.push([new Y.Map(Object.entries({{ tool: "rect", color: "#1a7f37", size: 4,
                    x1: 100, y1: 100, x2: 300, y2: 200 }}))]); }})()"""
            )
            await ada.wait_for_function("window.denied !== null")
            assert (await ada.evaluate("window.denied")).startswith("locked")
            await ada.wait_for_function(
                f"{ELEMENT}._collab.whiteboard.provider.synced && {BOARD}.shapes.length === {before}"
            )
            assert await shape_count(host) == before
            await host.click("meetmesh-room [data-board-action=lock]")
            await ada.wait_for_selector("meetmesh-room [data-panel=whiteboard] [data-tool=pen]:enabled")
            # Hosts and presenters only: Ada shares no screen, so her tools go grey and she is told who may draw.
            assert await ada.is_hidden("meetmesh-room [data-board-action=lock-presenters]")
            await host.click("meetmesh-room [data-board-action=lock-presenters]")
            await ada.wait_for_selector("meetmesh-room [data-panel=whiteboard] [data-tool=pen]:disabled")
            await wait_text(ada, "[data-panel=whiteboard] .collab-status", sentence("collab.lockedPresenters"))
            await host.wait_for_selector("meetmesh-room [data-board-action=lock-presenters][aria-pressed=true]")
            assert await host.get_attribute("meetmesh-room [data-board-action=lock]", "aria-pressed") == "false"
            await host.click("meetmesh-room [data-board-action=lock-presenters]")
            await ada.wait_for_selector("meetmesh-room [data-panel=whiteboard] [data-tool=pen]:enabled")
            # PNG export: the picture as a file (a viewer could take it too).
            async with bob.expect_download() as download:
                await bob.click("meetmesh-room [data-board-action=export-png]")
            png = await asyncio.to_thread(Path(await (await download.value).path()).read_bytes)
            assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000
            await axe(host, "whiteboard")
            await shot(host, "whiteboard")

            # -- notes: concurrent edits to one paragraph converge --------------------------------------------
            for page in pages:
                await open_panel(page, "notes")
                await page.wait_for_function(f"{ELEMENT}._collab?.notes?.provider.synced")
            await host.click(NOTES)
            await host.keyboard.type("Agenda: budget")
            for page in pages:
                await page.wait_for_function(
                    f"{ELEMENT}.shadowRoot.querySelector('[data-role=notes-text]').value === 'Agenda: budget'"
                )

            async def type_at_end(page: Page, text: str) -> None:
                await page.click(NOTES)
                await page.keyboard.press("Control+End")
                await page.keyboard.type(text, delay=15)

            async def everyone_sees(text: str) -> None:
                for page in pages:
                    await page.wait_for_function(
                        f"{ELEMENT}.shadowRoot.querySelector('[data-role=notes-text]').value === {text!r}"
                    )

            # One after the other at one spot: a caret stays after its owner's words when someone else's arrive
            # there, so the host's word is not split by Ada's.
            await host.keyboard.type(" an")
            await everyone_sees("Agenda: budget an")
            await type_at_end(ada, " and travel")
            await everyone_sees("Agenda: budget an and travel")
            await host.keyboard.type("d hiring")  # the host's caret has not moved: still after "an"
            await everyone_sees("Agenda: budget and hiring and travel")

            # At the same time at one spot: nothing is lost, everyone ends with the same text, and each person's
            # keys keep their order. Where two people type at one spot before seeing each other, a CRDT orders the
            # concurrent runs by client, so words may interleave at that boundary (as in any collaborative editor).
            before = "Agenda: budget and hiring and travel"
            await asyncio.gather(type_at_end(host, "\nHost: rooms"), type_at_end(ada, "\nAda: flights"))
            await type_at_end(bob, ".")
            final = await converged(pages)
            assert final.startswith(before), final
            added = final[len(before) :]
            assert len(added) == len("\nHost: rooms") + len("\nAda: flights") + 1, final
            assert interleaves(added, ["\nHost: rooms", "\nAda: flights", "."]), final

            # -- offline and back ---------------------------------------------------------------------------
            await bob.context.set_offline(True)
            await bob.wait_for_function(
                f"{ELEMENT}._collab.notes.provider.status !== 'connected'",
            )
            await bob.click(NOTES)
            await bob.keyboard.press("Control+End")
            await bob.keyboard.type("\nBob wrote this offline")
            await type_at_end(ada, "\nAda wrote this meanwhile")
            await asyncio.sleep(1.0)
            assert "offline" not in await notes_text(host)
            await bob.context.set_offline(False)
            final = await converged(pages, 30.0)
            assert "Bob wrote this offline" in final and "Ada wrote this meanwhile" in final, final
            # Markdown export offers the notes as a file.
            async with host.expect_download() as download:
                await host.click("meetmesh-room [data-action=notes-export]")
            saved = await (await download.value).path()
            assert await asyncio.to_thread(Path(saved).read_text) == final
            label = await host.text_content("meetmesh-room [data-action=notes-export]")
            assert label == sentence("collab.exportMarkdown")

"""Shared notes in two Chromium pages against the real stack: the other person's caret and selection drawn with
their name at the right character (checked against Helvetica-free geometry: the textarea's own font measured by a
canvas), staying on that character when text is inserted before it; templates, headings and checkboxes toggled on
one page and seen on the other; the PDF export; the history of who changed the notes."""

from __future__ import annotations

import asyncio
import colorsys
import re
from pathlib import Path

import pytest
from playwright.async_api import Page

from tests.e2e.browser_support import chromium, host_with_meeting, run_stack
from tests.support.web_ui import axe, join_as, open_meeting, open_panel, shot

pytestmark = [pytest.mark.slow]

ELEMENT = "document.querySelector('meetmesh-room')"
ROOT = f"{ELEMENT}.shadowRoot"
NOTES = "meetmesh-room [data-role=notes-text]"
BOB_CARET = "meetmesh-room [data-role=notes-caret][data-name=Bob]"


async def caret_geometry(page: Page, before: str) -> dict[str, float]:
    """Where Bob's caret is drawn on ``page`` relative to the textarea's content box, and where a caret after
    ``before`` (the text of its line up to it) must be: the textarea's font measured on a canvas."""
    geometry: dict[str, float] = await page.evaluate(
        """([before]) => {
          const root = document.querySelector('meetmesh-room').shadowRoot;
          const area = root.querySelector('[data-role=notes-text]');
          const bar = root.querySelector('[data-role=notes-caret][data-name=Bob] .notes-caret-bar');
          const cs = getComputedStyle(area);
          const ctx = document.createElement('canvas').getContext('2d');
          ctx.font = `${cs.fontStyle} ${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
          const a = area.getBoundingClientRect(), b = bar.getBoundingClientRect();
          return {
            x: b.left + 1 - (a.left + area.clientLeft + parseFloat(cs.paddingLeft)),
            y: b.top - (a.top + area.clientTop + parseFloat(cs.paddingTop)) + area.scrollTop,
            want: ctx.measureText(before).width,
            line: parseFloat(cs.lineHeight),
          };
        }""",
        [before],
    )
    return geometry


def contrast_with_white(hsl: str) -> float:
    """WCAG 2 contrast ratio of white text on ``hsl(H S% L%)``."""
    h, s, lum = (float(v) for v in re.findall(r"[\d.]+", hsl))
    r, g, b = colorsys.hls_to_rgb(h / 360, lum / 100, s / 100)
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return 1.05 / (luminance + 0.05)


async def selection(page: Page) -> tuple[int, int]:
    area = f"{ROOT}.querySelector('[data-role=notes-text]')"
    got: list[int] = await page.evaluate(f"[{area}.selectionStart, {area}.selectionEnd]")
    return got[0], got[1]


async def everyone_sees(pages: list[Page], text: str) -> None:
    for page in pages:
        await page.wait_for_function(f"{ROOT}.querySelector('[data-role=notes-text]').value === {text!r}")


@pytest.mark.timeout(240)
async def test_carets_formatting_pdf_and_history_between_two_pages(tmp_path: Path) -> None:
    with run_stack(tmp_path) as stack:
        token, number = await host_with_meeting(stack.url, "notes-host@example.test")
        url = f"{stack.url}/m/{number}"
        async with chromium() as browser:
            host = await open_meeting(browser, url, token, viewport={"width": 1400, "height": 900})
            await join_as(host, None)
            bob = await open_meeting(browser, url, viewport={"width": 1400, "height": 900})
            await join_as(bob, "Bob")
            pages = [host, bob]
            for page in pages:
                await open_panel(page, "notes")
                await page.wait_for_function(f"{ELEMENT}._collab?.notes?.provider.synced")

            # -- Bob's caret on the host's page, at the right character, with his name -----------------------------
            await bob.click(NOTES)
            await bob.keyboard.type("Agenda: budget\nSecond line")
            for _ in range(5):
                await bob.keyboard.press("ArrowLeft")  # after "Second"
            await everyone_sees(pages, "Agenda: budget\nSecond line")
            after_second = len("Agenda: budget\nSecond")
            assert await selection(bob) == (after_second, after_second)
            await host.wait_for_selector(f"{BOB_CARET}[data-index='{after_second}']", state="attached")
            assert (await host.text_content(f"{BOB_CARET} .notes-caret-name")) == "Bob"
            at = await caret_geometry(host, "Second")
            assert abs(at["x"] - at["want"]) <= 2.5, at  # after "Second" ...
            assert at["line"] * 0.5 < at["y"] < at["line"] * 1.5, at  # ... on the second line

            # The host inserts text before it: the caret stays after "Second" on both screens.
            await host.click(NOTES)
            await host.evaluate(f"{ROOT}.querySelector('[data-role=notes-text]').setSelectionRange(15, 15)")
            await host.keyboard.type("XYZ ")
            await everyone_sees(pages, "Agenda: budget\nXYZ Second line")
            await host.wait_for_selector(f"{BOB_CARET}[data-index='{after_second + 4}']", state="attached")
            moved = await caret_geometry(host, "XYZ Second")
            assert abs(moved["x"] - moved["want"]) <= 2.5 and moved["x"] > at["x"] + 10, (at, moved)
            assert await selection(bob) == (after_second + 4, after_second + 4)
            await bob.keyboard.type("!")  # Bob's next key lands where both screens showed his caret
            await everyone_sees(pages, "Agenda: budget\nXYZ Second! line")

            # Bob's selection is highlighted on the host's page under his name.
            await bob.keyboard.press("Control+Home")
            for _ in range(6):
                await bob.keyboard.press("Shift+ArrowRight")
            await host.wait_for_function(
                f"[...{ROOT}.querySelectorAll('[data-role=notes-selection][data-name=Bob]')]"
                ".map((e) => e.textContent).join('') === 'Agenda'"
            )
            await shot(host, "notes-carets")
            await axe(host, "notes")  # this run's colours; every person's colour below
            labels: list[str] = await host.evaluate(
                "(async () => { const n = await import('/web/collab/notes.js');"
                " const p = await import('/web/collab/provider.js');"
                " return [0, 1, 2, 3, 4, 5, 6, 7].map((i) => n.labelColour(p.clientColour(i))); })()"
            )
            assert len(set(labels)) == 8 and all(contrast_with_white(c) >= 4.5 for c in labels), labels

            # -- templates, headings, checkboxes ------------------------------------------------------------------
            await bob.keyboard.press("Control+a")
            await bob.keyboard.press("Delete")
            await everyone_sees(pages, "")
            await host.click("meetmesh-room [data-notes-action=template-actions]")
            seeded = await host.input_value(NOTES)
            assert seeded.startswith("# Action items\n\n- [ ] \n- [ ] \n- [ ] \n"), seeded
            await everyone_sees(pages, seeded)
            assert await host.is_hidden("meetmesh-room [data-notes-action=template-actions]")
            assert await bob.is_hidden("meetmesh-room [data-notes-action=template-agenda]")
            # Bob ticks the second checkbox in the preview: the host's preview and text show it ticked.
            boxes = bob.locator("meetmesh-room [data-role=notes-checkbox]")
            assert await boxes.count() == 3
            await boxes.nth(1).check()
            ticked = seeded.replace("- [ ] \n- [ ] ", "- [ ] \n- [x] ", 1)
            await everyone_sees(pages, ticked)
            host_boxes = host.locator("meetmesh-room [data-role=notes-checkbox]")
            assert [await host_boxes.nth(i).is_checked() for i in range(3)] == [False, True, False]
            # The host turns a line into a heading with the toolbar.
            await host.click(NOTES)
            await host.keyboard.press("Control+End")
            await host.keyboard.type("Budget")
            await host.click("meetmesh-room [data-notes-action=heading]")
            await everyone_sees(pages, ticked + "## Budget")
            await bob.wait_for_function(
                f"[...{ROOT}.querySelectorAll('[data-role=notes-preview] h4')].some((h) => h.textContent === 'Budget')"
            )

            # -- PDF export ---------------------------------------------------------------------------------------
            async with host.expect_download() as download:
                await host.click("meetmesh-room [data-action=notes-export-pdf]")
            pdf = await asyncio.to_thread(Path(await (await download.value).path()).read_bytes)
            assert pdf.startswith(b"%PDF-1.4\n") and pdf.endswith(b"%%EOF\n")
            assert b"(Action items) Tj" in pdf and b"(Decisions) Tj" in pdf and b"(Budget) Tj" in pdf
            assert pdf.count(b" re S") == 3  # three checkboxes drawn, one ticked (its check mark is a path)
            # The cross-reference table points at every object (a reader finds them by these offsets).
            start = int(re.search(rb"startxref\n(\d+)\n", pdf)[1])  # type: ignore[index]
            assert pdf[start:].startswith(b"xref\n")
            offsets = [int(m) for m in re.findall(rb"(\d{10}) 00000 n ", pdf)]
            assert offsets and all(pdf[o:].startswith(f"{i + 1} 0 obj".encode()) for i, o in enumerate(offsets))

            # -- who changed what -----------------------------------------------------------------------------------
            await asyncio.sleep(0.5)  # past one flush interval (200 ms): the server has stored the edits
            await host.click("meetmesh-room [data-action=notes-history]")
            await host.wait_for_selector("meetmesh-room [data-role=notes-change][data-author=Bob]")
            authors = await host.eval_on_selector_all(
                "meetmesh-room [data-role=notes-change]", "(items) => items.map((i) => i.dataset.author)"
            )
            assert "Bob" in authors and len(set(authors)) == 2, authors

"""web/collab/markdown.js and pdf.js (the shared notes' Markdown and PDF) run in Chromium: the modules are served
from web/ by Playwright's router (no server, no import map needed: they import only each other)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, Route

from tests.e2e.browser_support import ROOT, chromium

pytestmark = [pytest.mark.slow]

ORIGIN = "http://notes.test"


@pytest.fixture
async def page() -> AsyncIterator[Page]:
    async def serve(route: Route) -> None:
        path = route.request.url.removeprefix(ORIGIN)
        if path == "/":
            await route.fulfill(body="<!doctype html><title>notes</title>", content_type="text/html")
            return
        file = ROOT / "web" / path.lstrip("/")
        assert file.is_file() and file.suffix == ".js", path
        await route.fulfill(body=file.read_text(), content_type="text/javascript")

    async with chromium() as browser:
        p = await browser.new_page()
        await p.route(f"{ORIGIN}/**", serve)
        await p.goto(f"{ORIGIN}/")
        yield p


async def run(page: Page, module: str, body: str, *args: Any) -> Any:
    """Evaluate ``body`` (an arrow function's body, with ``m`` the module and ``args``) in the page."""
    return await page.evaluate(f"async (args) => {{ const m = await import('/collab/{module}'); {body} }}", list(args))


async def test_blocks_are_read_line_by_line(page: Page) -> None:
    text = "# Title\n## Sub\n- [ ] open\n- [x] done\n* item\n3. third\n\nplain #not a heading"
    blocks = await run(page, "markdown.js", "return m.parseBlocks(args[0]);", text)
    assert [(b["kind"], b["text"]) for b in blocks] == [
        ("heading", "Title"),
        ("heading", "Sub"),
        ("task", "open"),
        ("task", "done"),
        ("bullet", "item"),
        ("numbered", "third"),
        ("blank", ""),
        ("text", "plain #not a heading"),
    ]
    assert [b.get("level") for b in blocks[:2]] == [1, 2]
    assert [b["checked"] for b in blocks[2:4]] == [False, True]
    # Each block knows where its line starts; a task knows the index of its box's character.
    for b in blocks:
        assert text[b["start"] :].startswith(text.split("\n")[blocks.index(b)])
    assert text[blocks[2]["box"]] == " " and text[blocks[3]["box"]] == "x"
    assert blocks[5]["number"] == 3


async def test_format_lines_adds_replaces_and_removes_prefixes(page: Page) -> None:
    apply = """
      const [text, from, to, kind] = args;
      let out = text;
      for (const [i, del, ins] of m.formatLines(text, from, to, kind)) out = out.slice(0, i) + ins + out.slice(i + del);
      return out;
    """
    text = "one\ntwo\nthree"
    assert await run(page, "markdown.js", apply, text, 5, 5, "heading") == "one\n## two\nthree"
    # A selection over two lines turns both; a list item becomes a checkbox (its prefix replaced, not doubled).
    assert await run(page, "markdown.js", apply, text, 1, 6, "bullet") == "- one\n- two\nthree"
    assert await run(page, "markdown.js", apply, "- one\n- two", 0, 9, "task") == "- [ ] one\n- [ ] two"
    # When every line already has it, the button takes it away.
    assert await run(page, "markdown.js", apply, "## one", 3, 3, "heading") == "one"
    assert await run(page, "markdown.js", apply, "", 0, 0, "task") == "- [ ] "


async def test_templates_seed_checkboxes_and_headings(page: Page) -> None:
    seeded = await run(
        page,
        "markdown.js",
        "const t = (k) => k.split('.').pop(); return [m.TEMPLATES.agenda(t), m.TEMPLATES.actions(t)];",
    )
    agenda, actions = seeded
    assert agenda.startswith("# agendaTitle\n\n## agenda\n1. ") and "## actions\n- [ ] " in agenda
    assert actions.startswith("# actionsTitle\n\n- [ ] \n- [ ] \n- [ ] \n")


async def test_pdf_strings_are_win_ansi_with_escapes(page: Page) -> None:
    got = await run(page, "pdf.js", "return args[0].map((s) => m.pdfString(s));", ["a(b)\\c", "café €", "日本 🙂"])
    assert got == ["(a\\(b\\)\\\\c)", "(caf\\351 \\200)", "(?? ?)"]


async def test_wrapping_uses_helvetica_widths(page: Page) -> None:
    # "iiii iiii" is 8 x 222 + 278 (the space) = 2,054 units: 20.54 pt at 10 pt; "mmmm" 4 x 833: 33.32 pt.
    lines = await run(
        page,
        "pdf.js",
        "return [m.wrap('iiii iiii', 10, 20.6), m.wrap('iiii iiii', 10, 20.5), m.wrap('mmmm mmmm', 10, 40)];",
    )
    assert lines == [["iiii iiii"], ["iiii", "iiii"], ["mmmm", "mmmm"]]
    # A word longer than a line is cut.
    cut = await run(page, "pdf.js", "return m.wrap('m'.repeat(20), 10, 40);")
    assert "".join(cut) == "m" * 20 and all(len(line) <= 4 for line in cut)


async def test_a_long_document_is_several_pages_with_a_valid_cross_reference_table(page: Page, tmp_path: Path) -> None:
    text = "# Long\n" + "\n".join(f"- [{'x' if n % 2 else ' '}] task {n}" for n in range(120))
    data = bytes(await run(page, "pdf.js", "return [...m.notesPdf(args[0], { title: 'Notes' })];", text))
    pages = int(re.search(rb"/Count (\d+)", data)[1])  # type: ignore[index]
    assert pages >= 3, pages
    assert data.count(b"/Type /Page ") == pages
    assert data.count(b" re S") == 120 and b"(task 119) Tj" in data
    start = int(re.search(rb"startxref\n(\d+)\n", data)[1])  # type: ignore[index]
    assert data[start:].startswith(b"xref\n")
    offsets = [int(m) for m in re.findall(rb"(\d{10}) 00000 n ", data)]
    assert all(data[o:].startswith(f"{i + 1} 0 obj".encode()) for i, o in enumerate(offsets))
    # Each content stream's /Length is its byte length.
    for length, body in re.findall(rb"/Length (\d+) >>\nstream\n(.*?)\nendstream", data, re.S):
        assert int(length) == len(body)

"""Shared notes between two headless Chromium pages (Debian's) through ``python -m api`` (one process, SQLite) on
this machine: a key pressed in one page until its character is in the other page's notes.

Both pages open the meeting page (for its import map) and mount the notes panel (``web/collab/notes.js``) on a
``CollabProvider`` with a guest token, as the meeting page does. Page A types ``KEYS`` characters one at a time
with Playwright's keyboard (real key events: the textarea's input handler, the Y.Text change, the caret in
awareness); page B's Y.Text observer, registered after the panel's own (so after B's textarea and carets were
redrawn), stamps the moment each character arrives. Both stamps are ``performance.timeOrigin + performance.now()``
(the same clock for every page of one machine). Keys are pressed one after another: each is waited for before the
next, bounded by ``WAIT_MS``.
"""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Mapping

from playwright.async_api import Page, async_playwright

from bench.collab import meeting_with_guests
from bench.results import Value
from testkit.server import running_api

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
KEYS = 200
WAIT_MS = 10_000

MOUNT = """async ([meetingId, token, role]) => {
  const { CollabProvider } = await import('/web/collab/provider.js');
  const { mountNotes } = await import('/web/collab/notes.js');
  const box = document.createElement('div');
  box.style.cssText = 'position: fixed; inset: 0; z-index: 9999; background: #fff; display: flex;'
    + ' flex-direction: column';
  document.body.append(box);
  const provider = new CollabProvider({ meetingId, doc: 'notes', token });
  const notes = mountNotes(box, provider, {});
  await new Promise((r) => provider.addEventListener('synced', r, { once: true }));
  const now = () => performance.timeOrigin + performance.now();
  window.__stamps = [];
  if (role === 'typist') notes.area.addEventListener('keydown', () => window.__stamps.push(now()), true);
  else provider.ydoc.getText('notes').observe((e) => {
    const n = provider.ydoc.getText('notes').length;
    while (window.__stamps.length < n) window.__stamps.push(now());
  });
}"""


def _pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def _open(page: Page, url: str, meeting_id: str, token: str, role: str) -> None:
    await page.goto(url)
    await page.wait_for_function("!!customElements.get('meetmesh-room')", timeout=WAIT_MS)
    await page.evaluate(MOUNT, [meeting_id, token, role])


async def _measure() -> dict[str, Value]:
    with running_api("meetmesh-bench-notes-") as api:
        meeting, tokens = await meeting_with_guests(api.url, 2)
        url = f"{api.url}/m/{meeting['number']}"
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                typist, reader = await browser.new_page(), await browser.new_page()
                await _open(typist, url, meeting["id"], tokens[0], "typist")
                await _open(reader, url, meeting["id"], tokens[1], "reader")
                await typist.click("[data-role=notes-text]")
                for n in range(KEYS):
                    await typist.keyboard.press("x" if n % 10 else "Enter")
                    await reader.wait_for_function(f"window.__stamps.length >= {n + 1}", timeout=WAIT_MS)
                sent: list[float] = await typist.evaluate("window.__stamps")
                got: list[float] = await reader.evaluate("window.__stamps")
            finally:
                await browser.close()
    samples = [b - a for a, b in zip(sent, got, strict=True)]
    print(
        f"  notes in the browser: key -> other page p50 {statistics.median(samples):.2f} ms,"
        f" p95 {_pct(samples, 95):.2f} ms ({len(samples)} keys)",
        flush=True,
    )
    return {
        "notes_sync_browser_p50_ms": round(statistics.median(samples), 2),
        "notes_sync_browser_p95_ms": round(_pct(samples, 95), 2),
    }


def run() -> Mapping[str, Value]:
    return asyncio.run(_measure())

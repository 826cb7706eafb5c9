"""What the browser tests of the web pages share: screenshots and axe-core results under ``test-artifacts/web/``
(gitignored), the English catalogue's wording, a phone's Playwright descriptor, and layout checks that look
inside the meeting element's (open) shadow root."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "web"
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
EN = (ROOT / "web" / "i18n" / "en.js").read_text()
# Playwright's "Galaxy S8" descriptor: 360x740 CSS pixels, touch, a phone's user agent.
PHONE: dict[str, Any] = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": "Mozilla/5.0 (Linux; Android 7.0; SM-G950U Build/NRD90M) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/120.0.0.0 Mobile Safari/537.36",
}


def sentence(key: str, **values: str) -> str:
    """The English catalogue's text for ``key`` (web/i18n/en.js) with ``{name}`` filled in: tests follow the
    wording instead of copying it."""
    marker = f'"{key}": "'
    start = EN.index(marker) + len(marker)
    text = EN[start : EN.index('",\n', start)]
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text


async def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


async def axe(page: Page, name: str) -> None:
    """Run axe-core (from web/node_modules, injected: pages never load it; it reads open shadow roots too) and
    keep its results; fail on serious or critical violations."""
    await page.add_script_tag(path=str(AXE))
    results = await page.evaluate("axe.run(document, { resultTypes: ['violations'] })")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"axe-{name}.json").write_text(json.dumps(results["violations"], indent=1))
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:5])
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], (name, bad)


# Every element of the page and of open shadow roots below it.
_ALL = """(() => { const out = []; const walk = (root) => { for (const el of root.querySelectorAll('*')) {
  out.push(el); if (el.shadowRoot) walk(el.shadowRoot); } }; walk(document); return out; })()"""


async def off_screen(page: Page) -> list[str]:
    """Visible elements (shadow roots included) sticking out of the viewport, and a page wider than the screen."""
    found: list[str] = await page.evaluate(
        f"""() => {{
          const root = document.documentElement, w = root.clientWidth, hgt = root.clientHeight, out = [];
          if (root.scrollWidth > w) out.push(`page is ${{root.scrollWidth}}px wide`);
          for (const el of {_ALL}) {{
            const r = el.getBoundingClientRect();
            if (!r.width || !r.height || getComputedStyle(el).visibility === 'hidden') continue;
            if (r.left < -1 || r.right > w + 1 || (getComputedStyle(el).position === 'fixed' && r.bottom > hgt + 1))
              out.push(`${{el.tagName.toLowerCase()}}.${{el.className}}[${{el.dataset?.action ?? ''}}]`
                + ` ${{Math.round(r.left)}}..${{Math.round(r.right)}}`);
          }}
          return out;
        }}"""
    )
    return found


async def small_targets(page: Page, within: str = "") -> list[str]:
    """Visible buttons, selects and fields (shadow roots included) under 44 px high or wide; ``within`` limits
    it to elements inside a matching ancestor."""
    found: list[str] = await page.evaluate(
        f"""(within) => {{ const els = {_ALL};
          const fields = 'button, select, input:not([type=checkbox]):not([type=radio]):not([type=file])';
          return els.filter((el) => el.matches(fields) && (!within || el.closest(within)))
            .map((el) => [el, el.getBoundingClientRect()])
            .filter(([el, r]) => r.width && r.height && (r.height < 43.5 || r.width < 43.5))
            .map(([el, r]) => `${{el.tagName}} "${{el.dataset.action || el.textContent.trim()}}"`
              + ` ${{Math.round(r.width)}}x${{Math.round(r.height)}}`) }}""",
        within,
    )
    return found


# ---- driving <meetmesh-room> (the meeting element; its shadow root is open, Playwright's CSS pierces it) ----

SHADOW = "document.querySelector('meetmesh-room').shadowRoot"


async def open_meeting(browser: Browser, url: str, token: str | None = None, **context: Any) -> Page:
    """A new context (English) on the meeting page ``url``, signed in with ``token`` if given, preview playing."""
    ctx = await browser.new_context(locale="en-US", **context)
    if token:
        await ctx.add_init_script(f"localStorage.setItem('meetmesh.accessToken', {json.dumps(token)})")
    page = await ctx.new_page()
    await page.goto(url)
    await page.wait_for_function(f"{SHADOW}.querySelector('[data-role=preview]').videoWidth > 0")
    return page


async def join_as(page: Page, name: str | None, until: str = "meeting") -> None:
    if name:
        await page.fill("meetmesh-room [data-role=name]", name)
    await page.click("meetmesh-room [data-action=join]")
    await page.wait_for_selector(f"meetmesh-room [data-page={until}]:not([hidden])")


async def text_of(page: Page, selector: str) -> str:
    text: str = await page.evaluate(f"{SHADOW}.querySelector({json.dumps(selector)})?.textContent ?? ''")
    return text


async def wait_text(page: Page, selector: str, wanted: str) -> None:
    await page.wait_for_function(
        f"({SHADOW}.querySelector({json.dumps(selector)})?.textContent ?? '').includes({json.dumps(wanted)})"
    )


async def toolbar(page: Page, action: str) -> None:
    """Press a toolbar control, through More when it has moved there (narrow screens)."""
    in_more = await page.evaluate(f"!!{SHADOW}.querySelector('[data-role=more-menu] [data-action={action}]')")
    if in_more:
        await page.click("meetmesh-room [data-action=more]")
    await page.click(f"meetmesh-room [data-action={action}]")


async def open_panel(page: Page, name: str) -> None:
    if await page.is_hidden(f"meetmesh-room [data-panel={name}]"):
        await toolbar(page, name)
    await page.wait_for_selector(f"meetmesh-room [data-panel={name}]:not([hidden])")


async def host_menu(page: Page, action: str) -> None:
    await page.click("meetmesh-room [data-action=more]")
    await page.click(f"meetmesh-room [data-role=host-menu] [data-action={action}]")


async def my_id(page: Page) -> str:
    pid: str = await page.evaluate("document.querySelector('meetmesh-room').room.me.id")
    return pid

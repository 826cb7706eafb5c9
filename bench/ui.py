"""The web client's own speed in headless Chromium (Debian's) against ``python -m api`` (one uvicorn process,
embedded SQLite) on this machine: how long the home page and the meeting page take to become usable, with a
cold browser (new profile: nothing cached, no service worker) and warm (the same profile again, the service
worker installed and controlling: the shell comes from its cache after the network answers), and what the
meeting page transfers cold.

"Interactive": home - a signed-in person's upcoming-meetings list rendered (its GraphQL answered); meeting page -
the pre-join page shows the meeting's title (the lobby query answered) and its Join button. Measured inside the
page as ``performance.now()`` at that moment (ms since navigation start). Page weight: the navigation's and every
resource's ``transferSize`` (Resource Timing), cold, until the page is interactive and the network is idle.
"""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Mapping

import httpx
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from bench.results import Value
from testkit.server import running_api

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RUNS = 5
TIMEOUT_MS = 20_000

HOME_READY = (
    "(() => { const l = document.querySelector('[data-role=upcoming] li'); return l ? performance.now() : 0; })()"
)
MEETING_READY = (
    "(() => { const r = document.querySelector('meetmesh-room')?.shadowRoot;"
    " const title = r?.querySelector('[data-role=title]')?.textContent;"
    " return title === 'UI bench' && r.querySelector('[data-action=join]') ? performance.now() : 0; })()"
)
TRANSFERRED = (
    "(performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource')))"
    ".reduce((sum, e) => sum + (e.transferSize || 0), 0)"
)


async def _gql(http: httpx.AsyncClient, query: str, token: str | None = None, **variables: object) -> dict[str, object]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    body = (await http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)).json()
    if body.get("errors"):
        raise RuntimeError(f"GraphQL error: {body['errors']}")
    data: dict[str, object] = body["data"]
    return data


async def _host(api_url: str) -> tuple[str, str]:
    """A host with one scheduled meeting: (access token, meeting path with its invite key)."""
    async with httpx.AsyncClient(base_url=api_url, timeout=10, trust_env=False) as http:
        signed = await _gql(
            http,
            "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }",
            i={"email": "ui@bench.test", "password": "correct horse battery", "displayName": "Host"},
        )
        token = str(signed["signUp"]["accessToken"])  # type: ignore[index]
        created = await _gql(
            http,
            'mutation { createMeeting(input: {title: "UI bench", startsAt: "2030-01-07T09:00:00Z",'
            ' recurrence: "FREQ=WEEKLY;COUNT=5"}) { inviteLink } }',
            token,
        )
        link = str(created["createMeeting"]["inviteLink"])  # type: ignore[index]
    return token, link.split("://", 1)[1].split("/", 1)[1]


async def _ready(page: Page, url: str, predicate: str) -> float:
    await page.goto(url)
    handle = await page.wait_for_function(predicate, timeout=TIMEOUT_MS)
    return float(await handle.json_value())


async def _context(browser: Browser, token: str) -> BrowserContext:
    ctx = await browser.new_context()
    await ctx.add_init_script(f"localStorage.setItem('meetmesh.accessToken', {token!r})")
    return ctx


async def _measure() -> dict[str, Value]:
    times: dict[str, list[float]] = {}
    weights: dict[str, list[float]] = {"home": [], "meeting": []}
    with running_api("meetmesh-ui-bench-") as api:
        token, meeting_path = await _host(api.url)
        pages = {"home": (f"{api.url}/", HOME_READY), "meeting": (f"{api.url}/{meeting_path}", MEETING_READY)}
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for run in range(RUNS):
                    for name, (url, predicate) in pages.items():
                        ctx = await _context(browser, token)
                        try:
                            page = await ctx.new_page()
                            cold = await _ready(page, url, predicate)
                            await page.wait_for_load_state("networkidle")
                            weights[name].append(float(await page.evaluate(TRANSFERRED)))
                            # Warm: the service worker controls this profile now; open the page again.
                            await page.wait_for_function("navigator.serviceWorker.controller !== null")
                            await page.close()
                            page = await ctx.new_page()
                            warm = await _ready(page, url, predicate)
                        finally:
                            await ctx.close()
                        times.setdefault(f"{name}_cold", []).append(cold)
                        times.setdefault(f"{name}_warm", []).append(warm)
                        print(f"  run {run + 1} {name}: cold {cold:.0f} ms, warm {warm:.0f} ms", flush=True)
            finally:
                await browser.close()
    out: dict[str, Value] = {
        f"ui_time_to_interactive_ms_{key}_p50": round(statistics.median(values), 1) for key, values in times.items()
    }
    out["ui_meeting_page_kb"] = round(statistics.median(weights["meeting"]) / 1024, 1)
    out["ui_home_page_kb"] = round(statistics.median(weights["home"]) / 1024, 1)
    out["ui_notes"] = (
        f"{RUNS} runs, headless Chromium on this machine beside one API process (SQLite). Time to interactive: "
        "ms from navigation start to the signed-in home page's upcoming list rendered / the meeting page's pre-join "
        "showing the meeting title and Join; cold = new browser profile, warm = the same profile again with the "
        "service worker controlling. *_kb: transferred bytes (navigation + resources), cold, p50."
    )
    return out


def run() -> Mapping[str, Value]:
    return asyncio.run(_measure())

"""Join time in real browsers: headless Chromium (Debian's, fake 720p camera and microphone) joining one meeting
one after another through the meeting page, against the API and the edge as ``just up`` runs them (two
processes, media on loopback). Each page measures its own "joinMeeting request sent → first remote video frame
decoded" (``Room.timing.joinToFirstFrameMs``); the first joiner has nobody to see yet, so joiners 2..N count.

Run side by side in one go: the SDK's default (the camera in three simulcast layers) and ``simulcast="off"``
(one layer), so the cost or gain of simulcast for joining is measured on the same machine at the same time.
All browsers share this machine's cores with the API, the edge and each other: on 2 cores a 4th browser that
encodes and decodes everyone's video is the load, not the network.
"""

from __future__ import annotations

import asyncio
import json
import statistics
from collections.abc import Mapping

import httpx
from playwright.async_api import Browser, async_playwright

from bench.results import Value
from testkit.media_stack import running_stack

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--allow-loopback-in-peer-connection",
]
JOINERS = 4
RUNS = 3
PAGE_TIMEOUT_MS = 20_000


async def _gql(http: httpx.AsyncClient, query: str, token: str | None = None, **variables: object) -> dict[str, object]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    body = (await http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)).json()
    if body.get("errors"):
        raise RuntimeError(f"GraphQL error: {body['errors']}")
    data: dict[str, object] = body["data"]
    return data


async def _meeting(api_url: str, run: int) -> tuple[str, str]:
    async with httpx.AsyncClient(base_url=api_url, timeout=10, trust_env=False) as http:
        signed = await _gql(
            http,
            "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }",
            i={"email": f"host{run}@bench.test", "password": "correct horse battery", "displayName": "Host"},
        )
        token = str(signed["signUp"]["accessToken"])  # type: ignore[index]
        created = await _gql(
            http,
            # Open: guests come straight in (no passcode, no waiting room), joining is what is measured.
            'mutation { createMeeting(input: {title: "Join bench", passcode: "", '
            "settings: {waitingRoom: false, guestWaitingRoom: false}}) { number } }",
            token,
        )
        return token, str(created["createMeeting"]["number"])  # type: ignore[index]


# In the page: resize one remote tile and time until its decoded picture changes size the expected way.
SWITCH = """async ([width, smaller]) => {
  const el = document.querySelector('meetmesh-room');
  const camera = async () => (await el.room.stats()).find((s) => s.kind === 'video' && s.source === 'camera');
  const first = await camera();
  const tile = el.shadowRoot.querySelector(`.tile[data-participant-id="${first.participantId}"]`);
  tile.parentElement.style.display = 'block';
  tile.style.flex = 'none';
  const start = performance.now();
  tile.style.width = width;
  while (performance.now() - start < 10000) {
    const now = await camera();
    if (now && (smaller ? now.frameHeight < first.frameHeight : now.frameHeight > first.frameHeight)) {
      return performance.now() - start;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return null;
}"""
SWITCHES = 3
# Where a join's time goes, each mark in ms after the joinMeeting request (the SDK's Room.timing).
PHASES = """(() => {
  const t = document.querySelector('meetmesh-room').room.timing;
  const out = {};
  for (const k of ['admittedAt', 'edgeJoinedAt', 'connectedAt', 'firstTrackAt', 'firstFrameAt']) {
    if (t[k] !== null) out[k] = t[k] - t.joinRequestAt;
  }
  return out;
})()"""


async def _one_run(
    browser: Browser, api_url: str, run: int, simulcast: bool, phases: list[dict[str, float]]
) -> tuple[list[float], list[float]]:
    """Join times of joiners 2..N (each one's phases appended to ``phases``), then (simulcast only) layer switch
    times on the last joiner's page."""
    token, number = await _meeting(api_url, run)
    contexts = []
    times: list[float] = []
    switches: list[float] = []
    try:
        for i in range(JOINERS):
            context = await browser.new_context()
            contexts.append(context)
            if i == 0:
                await context.add_init_script(f"localStorage.setItem('meetmesh.accessToken', {json.dumps(token)})")
            page = await context.new_page()
            page.set_default_timeout(PAGE_TIMEOUT_MS)
            await page.goto(f"{api_url}/m/{number}")
            if not simulcast:
                await page.evaluate("document.querySelector('meetmesh-room').setAttribute('simulcast', 'off')")
            await page.wait_for_function(
                "(() => { const v = document.querySelector('meetmesh-room').shadowRoot"
                ".querySelector('[data-role=preview]'); return v.srcObject && v.videoWidth > 0; })()"
            )
            await page.fill("meetmesh-room [data-role=name]", f"P{i + 1}")
            await page.click("meetmesh-room [data-action=join]")
            if i == 0:
                await page.wait_for_selector("meetmesh-room [data-page=meeting]:not([hidden])")
                continue
            handle = await page.wait_for_function(
                "document.querySelector('meetmesh-room').room?.timing.joinToFirstFrameMs"
            )
            times.append(float(await handle.json_value()))
            phases.append(await page.evaluate(PHASES))
        if simulcast:
            await asyncio.sleep(3)  # settled: every layer flowing, tiles reported
            for _ in range(SWITCHES):
                for width, smaller in (("160px", True), ("1200px", False)):
                    took = await page.evaluate(SWITCH, [width, smaller])
                    if took is None:
                        raise RuntimeError(f"the picture did not change size within 10 s (tile {width})")
                    switches.append(float(took))
                    await asyncio.sleep(1.5)
    finally:
        for context in contexts:
            await context.close()
    return times, switches


async def _measure() -> dict[str, Value]:
    by_mode: dict[bool, list[list[float]]] = {True: [], False: []}
    phases: dict[bool, list[dict[str, float]]] = {True: [], False: []}
    switches: list[float] = []
    with running_stack("meetmesh-join-bench-") as stack:
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for run in range(RUNS):
                    for simulcast in (True, False):  # alternate, so both see the same machine
                        times, switched = await _one_run(
                            browser, stack.api_url, 2 * run + int(simulcast), simulcast, phases[simulcast]
                        )
                        by_mode[simulcast].append(times)
                        switches += switched
                        print(
                            f"  run {run + 1} simulcast={'on' if simulcast else 'off'}: {times} {switched}", flush=True
                        )
            finally:
                await browser.close()
    out: dict[str, Value] = {}
    for simulcast, key in (
        (True, "browser_join_to_first_frame_ms"),
        (False, "browser_join_to_first_frame_ms_no_simulcast"),
    ):
        runs = by_mode[simulcast]
        out[f"{key}_p50"] = round(statistics.median(t for times in runs for t in times), 1)
        for joiner in range(2, JOINERS + 1):
            out[f"{key}_joiner{joiner}_p50"] = round(statistics.median(times[joiner - 2] for times in runs), 1)
        marks = phases[simulcast]
        for mark, name in (
            ("admittedAt", "admitted"),
            ("edgeJoinedAt", "edge_joined"),
            ("connectedAt", "published"),
            ("firstTrackAt", "first_track"),
            ("firstFrameAt", "first_frame"),
        ):
            values = [p[mark] for p in marks if mark in p]
            if values:
                out[f"{key}_phase_{name}_p50"] = round(statistics.median(values), 1)
    out["simulcast_switch_ms_p50"] = round(statistics.median(switches), 1)
    out["simulcast_switch_ms_max"] = round(max(switches), 1)
    out["browser_join_notes"] = (
        f"{RUNS} runs x {JOINERS} headless Chromium pages joining one after another (fake 720p camera), simulcast "
        "on and off alternating; joinMeeting sent -> first remote video frame decoded, joiners 2..N; browsers, "
        "API and edge share this machine's cores. simulcast_switch_ms: the last joiner shrinks a remote tile to 160 px "
        "wide and back to 1200 px (3 times per run) -> its decoded picture is smaller / bigger (ResizeObserver, "
        "videoSize, the edge's PLI to the new layer, key frame, decode). *_phase_*_p50: ms after the joinMeeting "
        "request at which each joiner was admitted, joined the edge, had published (connected), got its first "
        "remote video track and decoded its first frame (SDK Room.timing)."
    )
    return out


def run() -> Mapping[str, Value]:
    return asyncio.run(_measure())


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))

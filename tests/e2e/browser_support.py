"""What the browser tests share: the real stack (``python -m stack``) with media on loopback, headless Debian
Chromium with fake camera/microphone, and small GraphQL helpers for setting a meeting up."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from playwright.async_api import Browser, BrowserContext, Page, Route, async_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--use-fake-device-for-media-stream",  # a test pattern camera and a beeping microphone
    "--use-fake-ui-for-media-stream",  # grant getUserMedia/getDisplayMedia without a prompt
    "--auto-select-desktop-capture-source=Entire screen",
    "--autoplay-policy=no-user-gesture-required",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--allow-loopback-in-peer-connection",  # gather 127.0.0.1: the edge offers only loopback candidates
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Stack:
    url: str
    edge_url: str
    log: Path


@contextmanager
def run_stack(tmp: Path, host: str = "127.0.0.1", extra: dict[str, str] | None = None) -> Iterator[Stack]:
    """``python -m stack`` (API and edge processes, wired by their control feed) on free ports of ``host``, media
    on that address only (``EDGE_ICE_ADDRESSES``); ``extra`` adds settings (``API_MAX_UPLOAD_BYTES``…)."""
    api_port, edge_port = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("API_", "EDGE_")) and k != "DATABASE_URL"}
    env |= {
        "API_PORT": str(api_port),
        "EDGE_PORT": str(edge_port),
        "API_DATA_DIR": str(tmp / "var"),
        "API_HOST": host,
        "EDGE_ICE_ADDRESSES": host,
        "API_LOG_LEVEL": "warning",
        "EDGE_LOG_LEVEL": "warning",
    }
    env |= extra or {}
    log_path = tmp / "stack.log"
    log = log_path.open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "stack"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    stack = Stack(f"http://{host}:{api_port}", f"http://{host}:{edge_port}", log_path)
    try:
        # 60 s: on a loaded 2-core machine the API can take 20 s to start and the edge retries its control feed
        # with back-off (up to 8 s between tries).
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log_path.read_text()
            try:
                if (
                    httpx.get(f"{stack.url}/healthz", timeout=1).status_code == 200
                    and httpx.get(f"{stack.edge_url}/healthz", timeout=1).json().get("controlFeed") == "connected"
                ):
                    break
            except (httpx.TransportError, ValueError):
                pass
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        yield stack
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(15)
        finally:
            if proc.poll() is None:
                proc.kill()
            log.close()


@asynccontextmanager
async def chromium(executable: str | Path = CHROMIUM, extra_args: Sequence[str] = ()) -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=executable, args=[*CHROMIUM_ARGS, *extra_args])
        try:
            yield browser
        finally:
            await browser.close()


async def gql(base_url: str, query: str, token: str | None = None, **variables: Any) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        body = (await http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)).json()
    assert not body.get("errors"), body
    data: dict[str, Any] = body["data"]
    return data


async def host_with_meeting(base_url: str, email: str = "host@example.test") -> tuple[str, str]:
    """Sign a host up and create an instant meeting (no waiting room); returns (access token, number)."""
    signed = await gql(
        base_url,
        "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }",
        i={"email": email, "password": "correct horse battery", "displayName": "Host"},
    )
    token = signed["signUp"]["accessToken"]
    created = await gql(
        base_url,
        # Open (no passcode, nobody waits): the browser tests of the safer defaults make their own meetings.
        'mutation { createMeeting(input: {title: "Browser test", passcode: "", '
        "settings: {waitingRoom: false, guestWaitingRoom: false}}) { number } }",
        token,
    )
    return token, created["createMeeting"]["number"]


ROOM = "document.querySelector('meetmesh-room').room"


async def signed_up(base_url: str, email: str, display_name: str) -> str:
    """A new account's access token."""
    signed = await gql(
        base_url,
        "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }",
        i={"email": email, "password": "correct horse battery", "displayName": display_name},
    )
    return str(signed["signUp"]["accessToken"])


@asynccontextmanager
async def offline_page(base_url: str, access_token: str) -> AsyncIterator[tuple[Page, list[str]]]:
    """A Chromium page signed in as the home page would be (the token in localStorage) that may reach nothing but
    ``base_url``: every other request is aborted and its URL listed (the second item), for "nothing from a CDN"."""
    ours = urlsplit(base_url).netloc
    elsewhere: list[str] = []

    async def offline(route: Route) -> None:
        if urlsplit(route.request.url).netloc == ours:
            await route.continue_()
        else:
            elsewhere.append(route.request.url)
            await route.abort()

    async with chromium() as browser:
        ctx = await browser.new_context()
        await ctx.route("**/*", offline)
        await ctx.add_init_script(f"localStorage.setItem('meetmesh.accessToken', {json.dumps(access_token)})")
        yield await ctx.new_page(), elsewhere


async def remote_stats(page: Page) -> list[dict[str, Any]]:
    """Inbound RTP stats per remote track, as the SDK maps them to participants and sources."""
    stats: list[dict[str, Any]] = await page.evaluate(f"{ROOM}.stats()")
    return stats


def by_source(stats: list[dict[str, Any]], kind: str, source: str) -> dict[str, dict[str, Any]]:
    """``{participantId: stat}`` for one kind and source."""
    return {s["participantId"]: s for s in stats if s["kind"] == kind and s["source"] == source}


async def stat_of(
    page: Page, kind: str, source: str, participant_id: str, field: str, timeout_s: float = 10.0
) -> float:
    """``field`` of one participant's inbound track once it is above zero: a track's inbound-rtp entry appears
    only after its first packet, and a picture can be on screen a stats interval before its counters say so.
    Fails with the stats seen when the deadline passes."""
    deadline = time.monotonic() + timeout_s
    while True:
        stats = await remote_stats(page)
        stat = by_source(stats, kind, source).get(participant_id)
        if stat is not None and stat.get(field, 0) > 0:
            value: float = stat[field]
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"no {field} for {participant_id}'s {source} {kind} within {timeout_s} s: {stats}")
        await asyncio.sleep(0.2)


async def join_via_ui(context: BrowserContext, url: str, name: str) -> Page:
    """Open the meeting page in ``context``, wait for the camera preview, join as ``name``; the page in the meeting."""
    page = await context.new_page()
    await page.goto(url)
    # Pre-join: the camera preview plays and the device lists are filled before joining.
    await page.wait_for_function(
        "(() => { const r = document.querySelector('meetmesh-room').shadowRoot;"
        " const v = r.querySelector('[data-role=preview]');"
        " return v.srcObject && v.srcObject.getVideoTracks().length === 1 && v.videoWidth > 0"
        " && r.querySelector('[data-role=camera]').options.length > 0; })()"
    )
    await page.fill("meetmesh-room [data-role=name]", name)
    await page.click("meetmesh-room [data-action=join]")
    await page.wait_for_selector("meetmesh-room [data-page=meeting]:not([hidden])")
    return page

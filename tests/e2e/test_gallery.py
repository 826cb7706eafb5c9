"""The gallery with more people than one page holds, in headless Chromium against the real stack: a host's
browser and nine synthetic aiortc participants (two send video, the rest audio). Nine tiles show, the tenth is
on page 2 behind the page controls; a tile off the page is reported to the edge as 0 x 0 (it then sends that
video in its smallest layer) and gets its real size once its page shows. Each tile shows its connection
quality from the browser's WebRTC stats (your own: good on loopback); the grading itself (loss, round trip, jitter →
good / fair / poor) is checked with given stats in the page."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import httpx
import pytest

from edge.ice import use_host_addresses
from edge.synthetic import encode_opus_clip, encode_vp8_clip
from testkit.media_load import MediaParticipant, Meeting
from tests.e2e.browser_support import chromium, host_with_meeting, run_stack
from tests.support.web_ui import SHADOW, axe, join_as, open_meeting, sentence, shot, wait_text

pytestmark = [pytest.mark.slow]

ROOM = "document.querySelector('meetmesh-room').room"
# The size the page last told the edge for a participant's camera video ("WxH" device pixels), or null.
SIZE_OF = f"""(pid) => {{ const m = {ROOM}.media;
  for (const [mid, info] of m.remote) if (info.participantId === pid && info.source === 'camera'
      && info.track?.kind === 'video') return m._sizes?.get(mid) ?? null;
  return null; }}"""


@pytest.mark.timeout(240)
async def test_two_pages_of_tiles_with_quality(tmp_path: Path) -> None:
    use_host_addresses(["127.0.0.1"])
    video = encode_vp8_clip(frames=20, fps=10, width=160, height=120, gop=5)
    audio = encode_opus_clip()
    people = [MediaParticipant(f"Peer {n}") for n in range(1, 10)]
    with run_stack(tmp_path) as stack:
        token, number = await host_with_meeting(stack.url, "gallery-host@example.test")
        try:
            async with chromium() as browser:
                host = await open_meeting(
                    browser, f"{stack.url}/m/{number}", token, viewport={"width": 1280, "height": 800}
                )
                await join_as(host, None)
                async with httpx.AsyncClient(base_url=stack.url, timeout=20) as http:
                    meeting = Meeting(number=number, host_token=token)
                    # One at a time (2 cores); the first and the last send video, the others audio.
                    for i, person in enumerate(people):
                        clips = [video] if i in (0, len(people) - 1) else [audio]
                        await person.join(http, meeting, clips, host=False)
                await wait_text(host, "[data-role=people-count]", "10")

                # Page 1: nine tiles (yours first); the tenth waits on page 2.
                await wait_text(host, "[data-role=page-status]", sentence("m.pageOf", page="1", pages="2"))
                visible = (
                    "els => els.filter(e => getComputedStyle(e).display !== 'none').map(e => e.dataset.participantId)"
                )
                on_page = await host.eval_on_selector_all("meetmesh-room .tile", visible)
                assert len(on_page) == 9, on_page
                last_id = await host.evaluate(
                    f"[...{ROOM}.participants.values()].find(p => p.displayName === 'Peer 9').id"
                )
                first_id = await host.evaluate(
                    f"[...{ROOM}.participants.values()].find(p => p.displayName === 'Peer 1').id"
                )
                assert last_id not in on_page and first_id in on_page
                assert await host.is_disabled("meetmesh-room [data-action=page-prev]")
                # The off-page video is told to the edge as hidden; the visible one with its size.
                await host.wait_for_function(f"({SIZE_OF})({last_id!r}) === '0x0'")
                await host.wait_for_function(f"(({SIZE_OF})({first_id!r}) ?? '0x0') !== '0x0'")
                # Connection quality on the tiles, named for screen readers. Your own tile grades your round trip
                # to the edge (loopback: good); a peer's also its jitter and loss, which on this shared host the
                # Python senders can push past "good" - whatever it is, the tile says it in words.
                host_id = await host.evaluate(f"{ROOM}.me.id")
                await host.wait_for_selector(f"meetmesh-room .tile[data-participant-id='{host_id}'][data-quality=good]")
                peer_tile = f"meetmesh-room .tile[data-participant-id='{first_id}']"
                await host.wait_for_selector(f"{peer_tile}[data-quality]")
                quality = await host.get_attribute(peer_tile, "data-quality")
                assert quality in ("good", "fair", "poor")
                label = await host.get_attribute(f"{peer_tile} .quality", "aria-label")
                assert label == sentence("m.quality", grade=sentence(f"m.quality.{quality}"))
                await shot(host, "gallery-page-1")
                await axe(host, "gallery")

                await host.click("meetmesh-room [data-action=page-next]")
                await wait_text(host, "[data-role=page-status]", sentence("m.pageOf", page="2", pages="2"))
                on_page = await host.eval_on_selector_all("meetmesh-room .tile", visible)
                assert on_page == [last_id], on_page
                await host.wait_for_function(f"(({SIZE_OF})({last_id!r}) ?? '0x0') !== '0x0'")
                await host.wait_for_function(f"({SIZE_OF})({first_id!r}) === '0x0'")
                assert await host.is_disabled("meetmesh-room [data-action=page-next]")
                await shot(host, "gallery-page-2")
                # Hiding your own tile leaves nine: one page again, the controls go.
                await host.click("meetmesh-room [data-action=more]")
                await host.click("meetmesh-room [data-action=hide-self]")
                await host.wait_for_selector("meetmesh-room [data-role=pager]", state="hidden")
                on_page = await host.eval_on_selector_all("meetmesh-room .tile", visible)
                assert len(on_page) == 9 and last_id in on_page and first_id in on_page

                # The grading, with given stats: loss over the interval, round trip, jitter.
                grades = await host.evaluate(
                    """async () => { const { QualityMeter, grade } = await import('/web/sdk/quality.js');
                      const m = new QualityMeter();
                      const s = (received, lost, jitter) => [{ mid: '1', participantId: 'p', packetsReceived: received,
                        packetsLost: lost, jitter }];
                      m.update(s(1000, 0, 0.005), 20);
                      const out = [m.update(s(2000, 0, 0.005), 20).get('p').grade,
                        m.update(s(2950, 50, 0.005), 20).get('p').grade,   // 5 % lost
                        m.update(s(3850, 150, 0.005), 20).get('p').grade,  // 10 % lost
                        m.update(s(4850, 150, 0.005), 500).get('p').grade, // no loss, 500 ms round trip
                        m.update(s(5850, 150, 0.06), 20).get('p').grade];  // 60 ms jitter
                      return [...out, grade({ loss: 0, rttMs: null, jitterMs: null })]; }"""
                )
                assert grades == ["good", "fair", "poor", "poor", "fair", "good"], grades
                assert await host.evaluate(f"{SHADOW}.querySelectorAll('.tile').length") == 10
        finally:
            for person in people:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(person.close(), 5)

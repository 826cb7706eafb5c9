"""The whole journey through the UI, in headless Chromium against the real stack (API with the recording jobs
in-process, edge): a host and three guests, by clicking. Sign up and schedule on the home page → copy the
invitation → start → guests join through the link → waiting room, admitted → chat to everyone and privately with
a file → a reaction and a raised hand → a poll → breakout rooms opened and closed → mute all → a cloud recording
whose indicator everyone sees → lock → remove (the removed guest cannot return) → end for all; then the host
finds the recording on the home page and plays it. Screenshots and axe results of each page:
``test-artifacts/web/journey-*``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from playwright.async_api import FilePayload, Page

from tests.e2e.browser_support import chromium, run_stack
from tests.e2e.test_home import sign_up_and_schedule
from tests.support.web_ui import (
    SHADOW,
    axe,
    host_menu,
    join_as,
    my_id,
    open_meeting,
    open_panel,
    sentence,
    shot,
    text_of,
    toolbar,
    wait_text,
)

pytestmark = [pytest.mark.slow]


async def _everyone(pages: list[Page], selector: str, wanted: str) -> None:
    # All at once: a toast shows for 6 s, so waiting for one page after another could miss the last one's.
    await asyncio.gather(*(wait_text(page, selector, wanted) for page in pages))


@pytest.mark.timeout(420)
async def test_host_and_three_guests_from_schedule_to_playback(tmp_path: Path) -> None:
    with run_stack(tmp_path) as stack:
        async with chromium() as browser:
            home, link, copied = await sign_up_and_schedule(browser, stack.url)
            assert link in copied
            # Start from the home page: the meeting page, signed in (no name asked).
            await (
                home.locator("[data-role=upcoming] li", has_text="Weekly design review")
                .locator("[data-action=start]")
                .click()
            )
            await home.wait_for_url("**/m/**")
            await home.wait_for_function(
                "document.querySelector('meetmesh-room')?.shadowRoot"
                ".querySelector('[data-role=preview]').videoWidth > 0"
            )
            host = home
            await join_as(host, None)
            await shot(host, "journey-host-meeting")

            # Three guests through the invite link: waiting room; the host admits one, then the rest at once.
            guests = {}
            for name in ("Bea", "Cal", "Dan"):
                guests[name] = await open_meeting(browser, link)
                if name == "Bea":
                    # The invite link carries the key: no passcode asked.
                    assert await guests[name].is_hidden("meetmesh-room [data-role=passcode-row]")
                    await shot(guests[name], "journey-pre-join")
                    await axe(guests[name], "journey-pre-join")
                await join_as(guests[name], name, until="waiting")
            bea, cal, dan = guests["Bea"], guests["Cal"], guests["Dan"]
            await shot(bea, "journey-waiting-room")
            await wait_text(host, "[data-role=waiting-count]", "3")
            await open_panel(host, "people")
            await host.click("meetmesh-room li[data-state=waiting]:has-text('Bea') [data-action=admit-participant]")
            await bea.wait_for_selector("meetmesh-room [data-page=meeting]:not([hidden])")
            await shot(host, "journey-waiting-list")
            await axe(host, "journey-waiting-list")
            await host.click("meetmesh-room [data-action=admit-all]")
            for g in (cal, dan):
                await g.wait_for_selector("meetmesh-room [data-page=meeting]:not([hidden])")
            bea_id, dan_id = await my_id(bea), await my_id(dan)
            await wait_text(host, "[data-role=people-count]", "4")
            await host.click("meetmesh-room [data-panel=people] [data-action=close-panel]")

            # Chat: Bea to everyone, Cal privately to Bea with a file; the host sees the first only.
            await bea.click("meetmesh-room [data-action=chat]")
            await bea.fill("meetmesh-room [data-role=chat-input]", "Hello all, notes at https://example.com/n")
            await bea.press("meetmesh-room [data-role=chat-input]", "Enter")
            await cal.click("meetmesh-room [data-action=chat]")
            await wait_text(cal, "[data-role=chat-log]", "Hello all")
            await cal.select_option("meetmesh-room [data-role=chat-to]", bea_id)
            await cal.set_input_files(
                "meetmesh-room [data-role=chat-file]",
                files=FilePayload(name="secret.txt", mimeType="text/plain", buffer=b"for Bea only\n"),
            )
            await wait_text(bea, "[data-role=chat-log]", "secret.txt")
            await wait_text(bea, "[data-role=chat-log]", sentence("c.privateFrom"))
            await host.click("meetmesh-room [data-action=chat]")
            await wait_text(host, "[data-role=chat-log]", "Hello all")
            await host.wait_for_timeout(300)
            assert "secret.txt" not in await text_of(host, "[data-role=chat-log]")
            await shot(bea, "journey-chat")
            await axe(bea, "journey-chat")
            for page in (host, bea, cal):
                await page.click("meetmesh-room [data-panel=chat] [data-action=close-panel]")

            # A reaction (Dan) and a raised hand (Cal) reach the host.
            await dan.click("meetmesh-room [data-action=reactions]")
            emoji = await dan.evaluate(
                f"(async () => {{ for (;;) {{ const b = {SHADOW}.querySelector('[data-action=send-reaction]');"
                " if (b) return b.dataset.emoji; await new Promise(r => setTimeout(r, 50)); } })()"
            )
            await dan.click("meetmesh-room [data-action=send-reaction]")
            await wait_text(host, "[data-role=toasts]", sentence("r.from", name="Dan", emoji=emoji))
            await cal.keyboard.press("Alt+y")
            await host.wait_for_selector("meetmesh-room .tile .hand:not([hidden])")

            # A poll: launched by the host, Bea and Dan vote, ended and shared.
            await toolbar(host, "polls")
            await host.fill("meetmesh-room [data-role=poll-question]", "Ship on Friday?")
            await host.fill("meetmesh-room [data-role=poll-options]", "Yes\nNo")
            await host.click("meetmesh-room [data-action=launch-new-poll]")
            await _everyone([bea, dan], "[data-role=toasts]", sentence("poll.launched", question="Ship on Friday?"))
            for g, choice in ((bea, "Yes"), (dan, "No")):
                await toolbar(g, "polls")
                await g.click(f"meetmesh-room [data-poll-id] label:has-text('{choice}') input")
                await g.click("meetmesh-room [data-poll-id] [data-action=vote]")
            await wait_text(host, "[data-role=poll-list]", sentence("poll.voters", n="2"))
            await host.click("meetmesh-room [data-poll-id] [data-action=end-poll]")
            await host.click("meetmesh-room [data-poll-id] [data-action=share-poll]")
            await wait_text(dan, "[data-role=poll-list]", "Yes: 1 (50%)")
            await shot(dan, "journey-poll")
            for page in (host, bea, dan):
                await page.click("meetmesh-room [data-panel=polls] [data-action=close-panel]")

            # Breakout rooms: two, assigned automatically, opened; everyone is told; closed at once.
            await toolbar(host, "breakouts")
            await host.fill("meetmesh-room [data-role=bo-count]", "2")
            await host.click("meetmesh-room [data-action=create-rooms]")
            await host.click("meetmesh-room [data-action=auto-assign]")
            await host.wait_for_selector("meetmesh-room [data-action=open-rooms]")
            await host.click("meetmesh-room [data-action=open-rooms]")
            for g in (bea, cal, dan):
                await g.wait_for_function(f"{SHADOW}.querySelector('[data-role=toasts]').textContent.includes('Room ')")
            await shot(host, "journey-breakouts")
            await host.fill("meetmesh-room [data-role=bo-grace]", "0")
            await host.click("meetmesh-room [data-action=close-rooms]")
            await _everyone([bea, cal, dan], "[data-role=toasts]", sentence("t.movedMain"))
            await host.click("meetmesh-room [data-panel=breakouts] [data-action=close-panel]")

            # Mute all: each guest is told why.
            await host_menu(host, "mute-all")
            await _everyone([bea, cal, dan], "[data-role=toasts]", sentence("t.mutedByHost"))

            # Cloud recording: everyone sees the indicator; a few seconds, then stopped.
            await host.click("meetmesh-room [data-action=cloud-record]")
            await _everyone([host, bea, cal, dan], "[data-role=recording-banner]", sentence("m.recordingCloud"))
            await shot(cal, "journey-recording-indicator")
            await host.wait_for_timeout(4000)
            await host.click("meetmesh-room [data-action=cloud-record]")
            await _everyone([bea, cal, dan], "[data-role=toasts]", sentence("t.recordingStopped"))

            # Lock: everyone sees the badge.
            await host_menu(host, "lock")
            for g in (bea, cal, dan):
                await g.wait_for_selector("meetmesh-room [data-role=lock-badge]:not([hidden])")

            # Remove Dan (confirmed); with the lock off again he still cannot come back.
            await open_panel(host, "people")
            await host.click(f"meetmesh-room li[data-participant-id='{dan_id}'] [data-action=person-menu]")
            await host.click(f"meetmesh-room li[data-participant-id='{dan_id}'] [data-action=remove-participant]")
            await host.click("meetmesh-room dialog [data-dialog=confirm]")
            await wait_text(dan, "[data-role=left-text]", sentence("m.removed"))
            await host_menu(host, "lock")  # unlocked: only the removal keeps Dan out
            await _everyone([bea], "[data-role=toasts]", sentence("t.unlocked"))
            again = await dan.context.new_page()
            await again.goto(link)
            await again.wait_for_function(f"{SHADOW}.querySelector('[data-role=preview]').videoWidth > 0")
            await again.fill("meetmesh-room [data-role=name]", "Dan again")
            await again.click("meetmesh-room [data-action=join]")
            await wait_text(again, "[data-role=error]", sentence("error.removed"))
            await shot(again, "journey-removed-refused")

            # End for all.
            await host.click("meetmesh-room [data-action=leave]")
            await host.click("meetmesh-room dialog [data-dialog=end-for-all]")
            await _everyone([bea, cal], "[data-role=left-text]", sentence("m.ended"))
            await shot(bea, "journey-ended")

            # Home: the recording is listed, processed in-process, and plays.
            await host.goto(f"{stack.url}/")
            recording = host.locator("[data-role=recordings] li")
            await recording.wait_for()
            ready = json.dumps(sentence("rec.status.READY"))
            await host.wait_for_selector(f"[data-role=recording-status]:has-text({ready})", timeout=150_000)
            await shot(host, "journey-home-recording")
            await axe(host, "journey-home-recording")
            await recording.locator("[data-action=play]").click()
            await host.wait_for_selector("[data-role=player]:not([hidden])")
            await host.evaluate("document.querySelector('video').play()")
            await host.wait_for_function("document.querySelector('video').currentTime > 0.3", timeout=20_000)
            await shot(host, "journey-player")
            await axe(host, "journey-player")

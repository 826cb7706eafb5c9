"""The web client under the safer defaults, in real Chromium against the real stack: a guest comes in through
the invite link (no passcode typed) and waits for the host, must give a name, sees who is recording, cannot
record without permission, and once removed cannot walk back in - not by Rejoin, not under a new name."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.async_api import Page

from tests.e2e.browser_support import ROOM, chromium, gql, run_stack

SHADOW = "document.querySelector('meetmesh-room').shadowRoot"


async def _text(page: Page, role: str) -> str:
    text: str = await page.evaluate(f"{SHADOW}.querySelector('[data-role={role}]').textContent")
    return text


async def _visible(page: Page, selector: str) -> bool:
    hidden: bool = await page.evaluate(f"{SHADOW}.querySelector('{selector}').hidden")
    return not hidden


async def _wait_preview(page: Page) -> None:
    await page.wait_for_function(f"{SHADOW}.querySelector('[data-role=preview]').videoWidth > 0")


@pytest.mark.slow
@pytest.mark.timeout(120)
async def test_invite_link_waiting_room_name_recording_banner_and_removal(tmp_path: Path) -> None:
    with run_stack(tmp_path) as stack:
        signed = await gql(
            stack.url,
            "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }",
            i={"email": "safe-host@example.test", "password": "correct horse battery", "displayName": "Hosta"},
        )
        token = signed["signUp"]["accessToken"]
        # The defaults: a generated passcode and a waiting room for guests.
        m = (
            await gql(
                stack.url,
                'mutation { createMeeting(input: {title: "Safe"}) { id number passcode inviteLink '
                "settings { guestWaitingRoom } } }",
                token,
            )
        )["createMeeting"]
        assert m["passcode"] and m["settings"]["guestWaitingRoom"]
        link = urlparse(m["inviteLink"])
        invite_url = f"{stack.url}{link.path}?{link.query}"
        async with chromium() as browser:
            host_ctx, guest_ctx = await browser.new_context(), await browser.new_context()
            await host_ctx.add_init_script(f"localStorage.setItem('meetmesh.accessToken', {json.dumps(token)})")
            host = await host_ctx.new_page()
            await host.goto(invite_url)
            await _wait_preview(host)
            await host.click("meetmesh-room [data-action=join]")
            await host.wait_for_selector("meetmesh-room [data-page=meeting]:not([hidden])")

            guest = await guest_ctx.new_page()
            await guest.goto(invite_url)
            await _wait_preview(guest)
            await guest.wait_for_function(f"{SHADOW}.querySelector('[data-role=title]').textContent === 'Safe'")
            assert not await _visible(guest, "[data-role=passcode-row]")  # the link carries the key
            # No name, no entry.
            await guest.fill("meetmesh-room [data-role=name]", "")
            await guest.click("meetmesh-room [data-action=join]")
            await guest.wait_for_function(f"{SHADOW}.querySelector('[data-role=error]').textContent.includes('name')")
            await guest.fill("meetmesh-room [data-role=name]", "Gil")
            await guest.click("meetmesh-room [data-action=join]")
            await guest.wait_for_selector("meetmesh-room [data-page=waiting]:not([hidden])")
            # The host admits Gil from the participants panel.
            await host.click("meetmesh-room [data-action=people]")
            await host.click("meetmesh-room li[data-state=waiting] [data-action=admit-participant]")
            await guest.wait_for_selector("meetmesh-room [data-page=meeting]:not([hidden])")

            # Gil may not record (no permission): the button is not offered, and the API refuses the SDK.
            assert not await _visible(guest, "[data-action=local-record]")
            refused = await guest.evaluate(f"{ROOM}.startLocalRecording().then(() => 'started', (e) => e.code)")
            assert refused == "FORBIDDEN"
            # The host records locally: Gil is told.
            await host.click("meetmesh-room [data-action=local-record]")
            await guest.wait_for_function(
                f"{SHADOW}.querySelector('[data-role=recording-banner]').textContent.includes('Hosta is recording')"
            )
            await host.click("meetmesh-room [data-action=local-record]")
            await guest.wait_for_function(f"{SHADOW}.querySelector('[data-role=recording-banner]').hidden")

            # The host removes Gil (the person's menu, then a confirmation): no Rejoin, and the same browser cannot
            # come back under another name.
            await host.click("meetmesh-room [data-role=people] li [data-action=person-menu]")
            await host.click("meetmesh-room [data-role=people] li [data-action=remove-participant]")
            await host.click("meetmesh-room dialog[open] [data-dialog=confirm]")
            await guest.wait_for_selector("meetmesh-room [data-page=left]:not([hidden])")
            assert "removed" in await _text(guest, "left-text")
            assert not await _visible(guest, "[data-role=rejoin]")
            again = await guest_ctx.new_page()
            await again.goto(invite_url)
            await _wait_preview(again)
            await again.fill("meetmesh-room [data-role=name]", "Totally Not Gil")
            await again.click("meetmesh-room [data-action=join]")
            await again.wait_for_function(
                f"{SHADOW}.querySelector('[data-role=error]').textContent.includes('removed you')"
            )
            assert await _visible(again, "[data-page=prejoin]")

"""Leaving as host, through the UI: Leave asks who runs the meeting next (or to end it for all). A signed-in
person becomes host (told so, gets the host's controls, and is offered "end for all" when leaving in turn); a
guest, who cannot be host, becomes co-host. The meeting carries on without the one who left."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.browser_support import chromium, gql, host_with_meeting, run_stack
from tests.support.web_ui import axe, join_as, my_id, open_meeting, sentence, shot, wait_text

pytestmark = [pytest.mark.slow]


@pytest.mark.timeout(180)
async def test_leaving_host_hands_over_to_a_member_then_to_a_guest(tmp_path: Path) -> None:
    with run_stack(tmp_path) as stack:
        token, number = await host_with_meeting(stack.url, "leave-host@example.test")
        mia_token = (
            await gql(
                stack.url,
                "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }",
                i={"email": "mia@example.test", "password": "correct horse battery", "displayName": "Mia"},
            )
        )["signUp"]["accessToken"]
        url = f"{stack.url}/m/{number}"
        async with chromium() as browser:
            host = await open_meeting(browser, url, token)
            await join_as(host, None)
            gus = await open_meeting(browser, url)
            await join_as(gus, "Gus")
            mia = await open_meeting(browser, url, mia_token)
            await join_as(mia, None)
            mia_id, gus_id = await my_id(mia), await my_id(gus)
            await wait_text(host, "[data-role=people-count]", "3")

            # The host's Leave: a choice of who comes next (the signed-in Mia first), or end for all.
            await host.click("meetmesh-room [data-action=leave]")
            await host.wait_for_selector("meetmesh-room dialog[open] [data-role=dialog-select-row]:not([hidden])")
            options = await host.eval_on_selector_all(
                "meetmesh-room dialog [data-role=dialog-select] option", "els => els.map(o => [o.value, o.textContent])"
            )
            assert options == [[mia_id, "Mia"], [gus_id, sentence("leave.asCohost", name="Gus")]], options
            assert await host.is_visible("meetmesh-room dialog [data-dialog=end-for-all]")
            await shot(host, "leave-as-host")
            await axe(host, "leave-as-host")
            await host.click("meetmesh-room dialog [data-dialog=leave-assign]")
            await wait_text(host, "[data-role=left-text]", sentence("m.left"))

            # Mia is told, and has the host's menu; the meeting goes on for Gus.
            await wait_text(mia, "[data-role=toasts]", sentence("t.host"))
            await mia.click("meetmesh-room [data-action=more]")
            await mia.wait_for_selector("meetmesh-room [data-role=host-menu] [data-action=mute-all]")
            await mia.click("meetmesh-room [data-action=more]")
            await wait_text(gus, "[data-role=people-count]", "2")
            assert await gus.is_visible("meetmesh-room [data-page=meeting]")

            # Mia leaves in turn: only Gus is left to choose, a guest - he becomes co-host.
            await mia.click("meetmesh-room [data-action=leave]")
            await mia.wait_for_selector("meetmesh-room dialog[open] [data-dialog=end-for-all]")
            await mia.click("meetmesh-room dialog [data-dialog=leave-assign]")
            await wait_text(gus, "[data-role=toasts]", sentence("t.cohost"))
            await wait_text(gus, "[data-role=people-count]", "1")
            assert await gus.is_visible("meetmesh-room [data-page=meeting]")

"""The meeting's Settings (More → Settings), through the UI in headless Chromium against the real stack:
camera and microphone lists (a pick switches the device), light and dark themes (kept for the next meeting;
axe finds no serious or critical violation in either), the language (German on the next page opened), hiding
your own tile (in step with More's button)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.browser_support import chromium, host_with_meeting, run_stack
from tests.support.web_ui import SHADOW, axe, join_as, open_meeting, shot, toolbar

pytestmark = [pytest.mark.slow]

DE = (Path(__file__).resolve().parents[2] / "web" / "i18n" / "de.js").read_text()


@pytest.mark.timeout(150)
async def test_settings_devices_theme_language_self_view(tmp_path: Path) -> None:
    with run_stack(tmp_path) as stack:
        token, number = await host_with_meeting(stack.url, "settings-host@example.test")
        url = f"{stack.url}/m/{number}"
        async with chromium() as browser:
            page = await open_meeting(browser, url, token)
            await join_as(page, None)
            await toolbar(page, "settings")
            await page.wait_for_selector("meetmesh-room [data-panel=settings]:not([hidden]) [data-setting=videoinput]")
            for kind in ("videoinput", "audioinput"):
                count = await page.eval_on_selector_all(f"meetmesh-room [data-setting={kind}] option", "o => o.length")
                assert count >= 1, kind
            # Picking a camera switches to it: the published track is that device's.
            camera = await page.evaluate(f"{SHADOW}.querySelector('[data-setting=videoinput]').options[0].value")
            await page.select_option("meetmesh-room [data-setting=videoinput]", camera)
            await page.wait_for_function(
                "(id) => document.querySelector('meetmesh-room').room.stream.getVideoTracks()[0]"
                ".getSettings().deviceId === id",
                arg=camera,
            )
            await axe(page, "settings-dark")
            await shot(page, "settings-dark")

            # Light theme: the element's colours change at once, and axe is content with them.
            dark_bg = await page.evaluate("getComputedStyle(document.querySelector('meetmesh-room')).backgroundColor")
            await page.check("meetmesh-room [data-setting=theme][value=light]")
            light_bg = await page.evaluate("getComputedStyle(document.querySelector('meetmesh-room')).backgroundColor")
            assert (dark_bg, light_bg) == ("rgb(17, 20, 26)", "rgb(244, 245, 248)")
            await axe(page, "settings-light")
            await shot(page, "settings-light")

            # Hide self-view from Settings: the tile goes, and More's button says so too.
            await page.check("meetmesh-room [data-setting=hide-self]")
            await page.wait_for_selector("meetmesh-room .tile.self", state="hidden")
            assert await page.get_attribute("meetmesh-room [data-action=hide-self]", "aria-pressed") == "true"
            await page.uncheck("meetmesh-room [data-setting=hide-self]")
            await page.wait_for_selector("meetmesh-room .tile.self", state="visible")

            # Language: German from the next page on; the theme stays light there too.
            await page.select_option("meetmesh-room [data-setting=language]", "de")
            await page.wait_for_selector("meetmesh-room [data-role=language-hint]:has-text('nächsten Seite')")
            again = await page.context.new_page()
            await again.goto(url)
            join_de = DE.split('"prejoin.join": "', 1)[1].split('"', 1)[0]
            await again.wait_for_selector(f"meetmesh-room [data-action=join]:has-text('{join_de}')")
            assert await again.evaluate("document.querySelector('meetmesh-room').getAttribute('theme')") == "light"

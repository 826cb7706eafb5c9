"""The home page and the way into a meeting, through the UI in headless Chromium against the real API
(production ``create_app()`` on uvicorn, SQLite): sign up, a wrong password said in words, schedule a weekly
meeting with the repeat editor, see it in upcoming, copy the invitation from the clipboard, a guest opens the
invite link and reaches the waiting room (title shown) without a passcode prompt, a wrong passcode said in words;
a recording made through the API is listed, renamed and deleted from the home page; offline, the service worker
still opens the home page. axe-core (npm, injected)
finds no serious or critical violation on the sign-in, home and pre-join pages; at 360x740 with touch nothing on
the home page is off-screen and every control is a 44 px target. Screenshots and axe results go to
``test-artifacts/web/`` (gitignored)."""

from __future__ import annotations

import json

import pytest
from playwright.async_api import Browser, Page

from api.recordings import service as recordings
from tests.conftest import RunningServer
from tests.e2e.browser_support import chromium, gql
from tests.support.recording_files import write_mp4
from tests.support.web_ui import PHONE, axe, sentence, shot

pytestmark = [pytest.mark.slow, pytest.mark.timeout(150)]

PASSWORD = "correct horse battery"
SHADOW = "document.querySelector('meetmesh-room').shadowRoot"


async def off_screen(page: Page) -> list[str]:
    """Elements (light DOM) sticking out of the viewport sideways, and a page wider than the screen."""
    found: list[str] = await page.evaluate(
        """() => {
          const root = document.documentElement, w = root.clientWidth, out = [];
          if (root.scrollWidth > w) out.push(`page is ${root.scrollWidth}px wide`);
          for (const el of document.body.querySelectorAll('*')) {
            const r = el.getBoundingClientRect();
            if (r.width && r.height && (r.left < -1 || r.right > w + 1))
              out.push(`${el.tagName.toLowerCase()}.${el.className} ${Math.round(r.left)}..${Math.round(r.right)}`);
          }
          return out;
        }"""
    )
    return found


async def small_targets(page: Page) -> list[str]:
    """Visible buttons, links styled as buttons, fields and selects under 44 px high."""
    found: list[str] = await page.evaluate(
        """() => [...document.querySelectorAll('button, a.btn, select, input:not([type=checkbox]):not([type=radio])')]
          .filter((el) => { const r = el.getBoundingClientRect(); return r.width && r.height && r.height < 43.5; })
          .map((el) => `${el.tagName} "${el.textContent.trim() || el.name}" ${el.getBoundingClientRect().height}px`)"""
    )
    return found


async def sign_up_and_schedule(browser: Browser, url: str) -> tuple[Page, str, str]:
    """The host's journey up to a scheduled weekly meeting; returns (page, invite link, copied invitation)."""
    ctx = await browser.new_context(viewport={"width": 1100, "height": 900}, locale="en-US")
    await ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)
    page = await ctx.new_page()
    await page.goto(f"{url}/")
    await page.wait_for_selector("[data-form=signIn]")
    await axe(page, "sign-in")
    await shot(page, "sign-in")

    await page.click("[data-action=switch-auth]")
    await page.fill("[data-form=signUp] input[name=name]", "Ada Host")
    await page.fill("[data-form=signUp] input[name=email]", "ada@example.test")
    await page.fill("[data-form=signUp] input[name=password]", PASSWORD)
    await page.click("[data-action=sign-up]")
    await page.wait_for_selector("[data-role=me]")

    # A wrong password is said in words (not "UNAUTHENTICATED: …" nor "CONFLICT: account exists").
    await page.click("[data-action=sign-out]")
    await page.fill("[data-form=signIn] input[name=email]", "ada@example.test")
    await page.fill("[data-form=signIn] input[name=password]", "not the password")
    await page.click("[data-action=sign-in]")
    await page.wait_for_selector("[data-role=error]")
    assert await page.text_content("[data-role=error]") == sentence("error.wrongPassword")
    await shot(page, "sign-in-wrong-password")
    await page.fill("[data-form=signIn] input[name=password]", PASSWORD)
    await page.click("[data-action=sign-in]")
    await page.wait_for_selector("[data-role=me]")

    # Keyboard: Tab reaches Schedule with a visible focus ring, Enter opens the form with focus inside it, Escape
    # closes it and focus returns to the button.
    for _ in range(12):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement?.dataset.action") == "schedule":
            break
    assert await page.evaluate("document.activeElement.dataset.action") == "schedule"
    assert await page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    await page.keyboard.press("Enter")
    await page.wait_for_selector("mm-schedule dialog[open]")
    assert await page.evaluate("!!document.activeElement.closest('dialog[open]')")
    await page.keyboard.press("Escape")
    await page.wait_for_selector("mm-schedule dialog:not([open])", state="attached")
    assert await page.evaluate("document.activeElement.dataset.action") == "schedule"

    # Schedule: weekly on Monday and Wednesday, six times, with the waiting room (the form's default).
    await page.click("[data-action=schedule]")
    await page.fill("mm-schedule input[name=title]", "Weekly design review")
    await page.select_option("mm-schedule select[name=freq]", "WEEKLY")
    await page.check("mm-schedule input[name=day-MO]")
    await page.check("mm-schedule input[name=day-WE]")
    await page.select_option("mm-schedule select[name=ends]", "COUNT")
    await page.fill("mm-schedule input[name=count]", "6")
    summary = "Every week on Monday and Wednesday, 6 times"
    assert await page.text_content("[data-role=repeat-summary]") == summary
    assert await page.is_checked("mm-schedule input[name=waitingRoom]")
    await axe(page, "schedule-dialog")
    await shot(page, "schedule")
    await page.click("[data-action=save-meeting]")
    item = page.locator("[data-role=upcoming] li", has_text="Weekly design review")
    await item.wait_for()
    assert await item.locator("[data-role=recurrence]").text_content() == f" {summary}"
    await axe(page, "home")
    await shot(page, "home")
    # The dark theme (the toggle; stored) passes the same checks, contrast included.
    await page.click("[data-action=theme]")
    assert await page.evaluate("document.documentElement.dataset.theme") == "dark"
    await axe(page, "home-dark")
    await shot(page, "home-dark")
    await page.click("[data-action=theme]")

    # Invite: the copied invitation holds the link (with its key), the number and the passcode.
    await item.locator("[data-action=invite]").click()
    await page.click("[data-action=copy-invitation]")
    await page.wait_for_selector("[data-role=copy-status]:has-text('Copied')")
    copied: str = await page.evaluate("navigator.clipboard.readText()")
    link = await page.input_value("[data-role=invite-link]")
    number = await page.text_content("[data-role=invite-number]") or ""
    passcode = await page.text_content("[data-role=invite-passcode]") or ""
    assert "?k=" in link
    assert link in copied and number in copied and passcode in copied, copied
    assert "Weekly design review" in copied and summary in copied and "Ada Host invites you" in copied
    await axe(page, "invite-dialog")
    await shot(page, "invite")
    await page.click("mm-invite button[value=close]")

    # Edit: the repeat rule reads back into the editor; 09:00 in Tokyo is stored as midnight UTC of that date.
    await item.locator("[data-action=edit]").click()
    assert await page.is_checked("mm-schedule input[name=day-MO]")
    assert await page.is_checked("mm-schedule input[name=day-WE]")
    assert not await page.is_checked("mm-schedule input[name=day-TU]")
    assert await page.input_value("mm-schedule input[name=count]") == "6"
    await page.select_option("mm-schedule select[name=timezone]", "Asia/Tokyo")
    await page.fill("mm-schedule input[name=time]", "09:00")
    await page.select_option("mm-schedule select[name=duration]", "30")
    date = await page.input_value("mm-schedule input[name=date]")
    await page.click("[data-action=save-meeting]")
    await item.locator("text=30 min").wait_for()
    token = await page.evaluate("localStorage.getItem('meetmesh.accessToken')")
    (stored,) = (await gql(url, "{ myMeetings { items { startsAt timezone durationMinutes recurrence } } }", token))[
        "myMeetings"
    ]["items"]
    assert stored["startsAt"].startswith(f"{date}T00:00:00"), (date, stored)
    assert stored["timezone"] == "Asia/Tokyo" and stored["durationMinutes"] == 30
    assert stored["recurrence"] == "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=6"
    return page, link, copied


async def test_schedule_invite_waiting_room_recordings_accessible_and_phone_sized(server: RunningServer) -> None:
    url = server.url
    async with chromium() as browser:
        host, link, _ = await sign_up_and_schedule(browser, url)

        # A guest opens the invite link: no passcode asked, a name, then the waiting room with the title.
        guest = await (await browser.new_context(locale="en-US")).new_page()
        await guest.goto(link)
        title = json.dumps("Weekly design review")
        await guest.wait_for_function(f"{SHADOW}.querySelector('[data-role=title]').textContent === {title}")
        await guest.wait_for_function(f"{SHADOW}.querySelector('[data-role=preview]').videoWidth > 0")
        assert await guest.is_hidden("meetmesh-room [data-role=passcode-row]")
        await axe(guest, "pre-join")
        await shot(guest, "pre-join")
        await guest.fill("meetmesh-room [data-role=name]", "Gus Guest")
        await guest.click("meetmesh-room [data-action=join]")
        await guest.wait_for_function(
            f"!{SHADOW}.querySelector('[data-page=waiting]').hidden"
            f" || {SHADOW}.querySelector('[data-role=error]').textContent"
        )
        assert await guest.evaluate(f"{SHADOW}.querySelector('[data-role=error]').textContent") == ""
        waiting = await guest.evaluate(f"{SHADOW}.querySelector('[data-page=waiting]').textContent")
        assert sentence("waiting.title") in waiting and "Weekly design review" in waiting
        await shot(guest, "waiting-room")

        # The number alone (no key) asks for the passcode, and a wrong one is said in words.
        number = link.split("/m/")[1].split("?")[0]
        stranger = await (await browser.new_context(locale="en-US")).new_page()
        await stranger.goto(f"{url}/m/{number}")
        await stranger.wait_for_selector("meetmesh-room [data-role=passcode-row]:not([hidden])")
        await stranger.fill("meetmesh-room [data-role=name]", "Sam")
        await stranger.fill("meetmesh-room [data-role=passcode]", "wrong1")
        await stranger.click("meetmesh-room [data-action=join]")
        wrong = json.dumps(sentence("error.badPasscode"))
        await stranger.wait_for_function(f"{SHADOW}.querySelector('[data-role=error]').textContent === {wrong}")
        await shot(stranger, "pre-join-wrong-passcode")

        # A cloud recording made through the API shows on the home page; rename and delete it there.
        token = await host.evaluate("localStorage.getItem('meetmesh.accessToken')")
        mine = (await gql(url, "{ myMeetings { items { id number } } }", token))["myMeetings"]["items"]
        (meeting_id,) = [m["id"] for m in mine if m["number"] == number]
        await gql(url, "mutation($n: String!) { joinMeeting(input: {number: $n}) { status } }", token, n=number)
        await gql(url, "mutation($m: ID!) { startRecording(meetingId: $m) { id } }", token, m=meeting_id)
        await gql(url, "mutation($m: ID!) { stopRecording(meetingId: $m) { id } }", token, m=meeting_id)
        await host.reload()
        recording = host.locator("[data-role=recordings] li")
        await recording.wait_for()
        assert await recording.locator("[data-role=recording-status]").text_content() == sentence("rec.status.STOPPED")
        await shot(host, "home-recordings")
        await recording.locator("[data-action=rename]").click()
        await host.fill("dialog input[name=value]", "Design review, week 1")
        await host.click("dialog [data-action=confirm]")
        await host.wait_for_selector("[data-role=recording-title]:has-text('Design review, week 1')")
        # Processed (the compose job's file, written here): play it in the /r/ player, share it, download it.
        recording_id = await recording.get_attribute("data-recording")
        assert recording_id
        svc = server.app.state.services
        files = recordings.recording_dir(svc, recording_id)
        files.mkdir(parents=True, exist_ok=True)
        write_mp4(files / "recording.mp4", 2)
        assert await recordings.finished(svc, recording_id)
        # The list looks again by itself while a recording is being processed.
        ready = json.dumps(sentence("rec.status.READY"))
        await host.wait_for_selector(f"[data-role=recording-status]:has-text({ready})")
        download = await recording.locator("[data-action=download]").get_attribute("href")
        assert download and "recording.mp4" in download
        await recording.locator("[data-action=share]").click()
        shared = await host.input_value("[data-role=share-link] input")
        assert "/s/" in shared and await host.evaluate("navigator.clipboard.readText()") == shared
        await shot(host, "home-recording-ready")
        await recording.locator("[data-action=play]").click()
        await host.wait_for_url(f"{url}/r/{recording_id}")
        await host.wait_for_selector("[data-role=player]:not([hidden])")
        await host.go_back()
        await recording.wait_for()
        await recording.locator("[data-action=delete]").click()
        await host.wait_for_selector("dialog[open] [data-action=confirm]")
        await axe(host, "confirm-dialog")
        await shot(host, "confirm-delete")
        await host.click("dialog [data-action=confirm]")
        await host.wait_for_selector(f"text={sentence('home.noRecordings')}")
        listed = await gql(url, "query($m: ID!) { recordings(meetingId: $m) { id } }", token, m=meeting_id)
        assert listed["recordings"] == []

        # The installed app's shell: the service worker controls the page, and with the network gone the home page
        # still opens (from its cache) and says what is wrong.
        await host.wait_for_function("navigator.serviceWorker.controller !== null")
        await host.context.set_offline(True)
        await host.reload()
        await host.wait_for_selector(f"[data-role=error]:has-text({json.dumps(sentence('error.network'))})")
        await shot(host, "home-offline")
        await host.context.set_offline(False)
        await host.click("[data-action=retry]")
        await host.wait_for_selector("[data-role=upcoming] li")

        # The second language: German from the browser's language, no setting needed.
        german = await (await browser.new_context(locale="de-DE")).new_page()
        await german.goto(f"{url}/")
        await german.wait_for_selector("#auth-title:has-text('Anmelden, um Meetings zu veranstalten')")
        assert await german.evaluate("document.documentElement.lang") == "de"
        await shot(german, "sign-in-de")

        # A phone: 360x740 with touch. Nothing off-screen, every control a 44 px target, the form fits too.
        phone_ctx = await browser.new_context(**PHONE, locale="en-US")
        await phone_ctx.add_init_script(f"localStorage.setItem('meetmesh.accessToken', {json.dumps(token)})")
        phone = await phone_ctx.new_page()
        await phone.goto(f"{url}/")
        await phone.wait_for_selector("[data-role=upcoming] li")
        assert await off_screen(phone) == []
        assert await small_targets(phone) == []
        await shot(phone, "phone-home")
        await phone.tap("[data-action=schedule]")
        await phone.wait_for_selector("mm-schedule dialog[open]")
        assert await phone.input_value("mm-schedule input[name=title]") == "Ada Host's meeting"
        assert await off_screen(phone) == []
        await shot(phone, "phone-schedule")

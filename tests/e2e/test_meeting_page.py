"""The meeting page through its UI, in headless Chromium against the real stack (API + edge): a host and two
guests. Guests come through the waiting room (the host hears of it: badge, toast) and are admitted from the
participants panel; chat to everyone and privately with a file (a link stays a safe link, markup stays text, a
file over the limit is refused in words, history reaches a late opener, unread badge); a reaction and a raised
hand (by keyboard shortcut) reach the host; mute all says "The host muted you"; a cloud recording's indicator
reaches a guest; a removed guest cannot come back; lock keeps newcomers out; end for all ends it for everyone.
axe-core finds no serious or critical violation with the panels open. A 360x740 touch phone joins, mutes, opens
chat as a sheet, and leaves, with nothing off-screen. Screenshots and axe results: ``test-artifacts/web/``."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.async_api import FilePayload

from tests.e2e.browser_support import chromium, gql, host_with_meeting, run_stack
from tests.support.web_ui import (
    PHONE,
    SHADOW,
    axe,
    host_menu,
    join_as,
    my_id,
    off_screen,
    open_meeting,
    open_panel,
    sentence,
    shot,
    small_targets,
    text_of,
    toolbar,
    wait_text,
)

pytestmark = [pytest.mark.slow]

UPLOAD_LIMIT = 200_000


@pytest.mark.timeout(240)
async def test_host_and_two_guests_through_the_meeting_page(tmp_path: Path) -> None:
    with run_stack(tmp_path, extra={"API_MAX_UPLOAD_BYTES": str(UPLOAD_LIMIT)}) as stack:
        signed = await gql(
            stack.url,
            "mutation($i: SignUpInput!) { signUp(input: $i) { accessToken } }",
            i={"email": "ui-host@example.test", "password": "correct horse battery", "displayName": "Hosta"},
        )
        token = signed["signUp"]["accessToken"]
        # The defaults: a passcode (the invite link carries its key) and a waiting room for guests.
        m = (await gql(stack.url, 'mutation { createMeeting(input: {title: "Team sync"}) { inviteLink } }', token))[
            "createMeeting"
        ]
        link = urlparse(m["inviteLink"])
        invite = f"{stack.url}{link.path}?{link.query}"
        async with chromium() as browser:
            host = await open_meeting(browser, invite, token)
            await join_as(host, None)
            # The microphone's device menu lists the microphones and cameras; picking one switches to it.
            await host.click("meetmesh-room [data-action=mic-devices]")
            await host.click("meetmesh-room [data-action=pick-device][data-kind=audioinput]")
            await host.wait_for_selector("meetmesh-room [data-role=device-menu]", state="hidden")
            tracks = "document.querySelector('meetmesh-room').room.stream.getAudioTracks().length"
            assert await host.evaluate(tracks) == 1
            # Keyboard: Enter on Mute mutes and focus stays on the button (the toolbar re-measures itself).
            await host.focus("meetmesh-room [data-action=mic]")
            await host.keyboard.press("Enter")
            await host.wait_for_selector("meetmesh-room [data-action=mic][aria-pressed=true]")
            assert await host.evaluate(f"{SHADOW}.activeElement?.dataset.action") == "mic"
            await host.keyboard.press("Enter")
            await host.wait_for_selector("meetmesh-room [data-action=mic][aria-pressed=false]")
            # Hide self-view (More): the own tile goes, and comes back.
            await toolbar(host, "hide-self")
            await host.wait_for_selector("meetmesh-room .tile.self", state="hidden")
            await toolbar(host, "hide-self")
            await host.wait_for_selector("meetmesh-room .tile.self", state="visible")
            bea = await open_meeting(browser, invite)
            await join_as(bea, "Bea", until="waiting")
            # The host hears of it: a badge on Participants and a toast.
            await wait_text(host, "[data-role=waiting-count]", "1")
            await wait_text(host, "[data-role=toasts]", sentence("t.waiting", name="Bea"))
            await host.click("meetmesh-room [data-action=people]")
            await host.click("meetmesh-room li[data-state=waiting] [data-action=admit-participant]")
            await bea.wait_for_selector("meetmesh-room [data-page=meeting]:not([hidden])")
            cal = await open_meeting(browser, invite)
            await join_as(cal, "Cal", until="waiting")
            await host.wait_for_selector("meetmesh-room li[data-state=waiting]")
            await shot(host, "meeting-host-waiting-list")
            await host.click("meetmesh-room [data-action=admit-all]")
            await cal.wait_for_selector("meetmesh-room [data-page=meeting]:not([hidden])")
            bea_id, cal_id = await my_id(bea), await my_id(cal)
            await wait_text(host, "[data-role=people-count]", "3")
            # Search narrows the list.
            await host.fill("meetmesh-room [data-role=people-search]", "ca")
            names = await host.eval_on_selector_all("meetmesh-room [data-role=people] li", "els => els.length")
            assert names == 1
            await host.fill("meetmesh-room [data-role=people-search]", "")

            # Chat to everyone: a link stays a link (https only, noopener), markup stays text; the host, whose
            # chat is closed, gets an unread badge.
            await bea.keyboard.press("Alt+h")  # the chat shortcut
            await bea.wait_for_selector("meetmesh-room [data-panel=chat]:not([hidden])")
            await bea.fill("meetmesh-room [data-role=chat-input]", "Agenda: https://example.com/agenda <b>bold?</b>")
            await bea.press("meetmesh-room [data-role=chat-input]", "Enter")
            await wait_text(host, "[data-role=chat-unread]", "1")
            await host.click("meetmesh-room [data-action=chat]")
            await wait_text(host, "[data-role=chat-log]", "<b>bold?</b>")
            links = await host.eval_on_selector_all(
                "meetmesh-room [data-role=chat-log] a", "els => els.map(a => [a.href, a.rel])"
            )
            assert links == [["https://example.com/agenda", "noopener noreferrer nofollow"]]
            assert await host.eval_on_selector_all("meetmesh-room [data-role=chat-log] b", "els => els.length") == 0
            assert await text_of(host, "[data-role=chat-unread]") == ""
            await axe(host, "meeting-panels")
            await shot(host, "meeting-host-panels")

            # Privately, with a file, from Cal to Bea: Bea sees it and can download it, the host does not.
            await cal.click("meetmesh-room [data-action=chat]")
            await wait_text(cal, "[data-role=chat-log]", "Agenda")  # history (sent before Cal opened chat)
            await cal.select_option("meetmesh-room [data-role=chat-to]", bea_id)
            await cal.fill("meetmesh-room [data-role=chat-input]", "just for you")
            await cal.press("meetmesh-room [data-role=chat-input]", "Enter")
            await cal.set_input_files(
                "meetmesh-room [data-role=chat-file]",
                files=FilePayload(name="notes.txt", mimeType="text/plain", buffer=b"minutes of the meeting\n"),
            )
            await wait_text(bea, "[data-role=chat-log]", "notes.txt")
            await wait_text(bea, "[data-role=chat-log]", sentence("c.privateFrom"))
            href = await bea.evaluate(f"{SHADOW}.querySelector('[data-role=chat-log] a[download]').href")
            got = await bea.evaluate("async (u) => (await fetch(u)).text()", href)
            assert got == "minutes of the meeting\n"
            await shot(bea, "meeting-guest-chat-private")
            # Too large: refused in words, nothing sent.
            await cal.set_input_files(
                "meetmesh-room [data-role=chat-file]",
                files=FilePayload(
                    name="big.bin", mimeType="application/octet-stream", buffer=b"x" * (UPLOAD_LIMIT + 1)
                ),
            )
            await wait_text(cal, "[data-role=chat-status]", sentence("c.tooLargeLimit", name="big.bin", limit="195 KB"))
            await host.wait_for_timeout(300)
            host_log = await text_of(host, "[data-role=chat-log]")
            assert "just for you" not in host_log and "notes.txt" not in host_log and "big.bin" not in host_log

            # Cal takes the private line back: Bea sees it deleted.
            await cal.click("meetmesh-room .msg:has-text('just for you') [data-action=delete-message]")
            await bea.wait_for_selector("meetmesh-room [data-role=chat-log] .msg .deleted")
            assert "just for you" not in await text_of(bea, "[data-role=chat-log]")

            # A reaction and a raised hand (Alt+Y) reach the host.
            await bea.click("meetmesh-room [data-action=reactions]")
            await bea.wait_for_selector("meetmesh-room [data-action=send-reaction]")
            emoji = await bea.evaluate(f"{SHADOW}.querySelector('[data-action=send-reaction]').dataset.emoji")
            await bea.click("meetmesh-room [data-action=send-reaction]")
            await wait_text(host, "[data-role=toasts]", sentence("r.from", name="Bea", emoji=emoji))
            # Cameras on show video; Bea's camera off (Alt+V) shows her initials, not a frozen frame.
            await host.wait_for_selector(f"meetmesh-room .tile[data-participant-id='{bea_id}']:not(.camera-off)")
            await bea.keyboard.press("Alt+v")
            await host.wait_for_selector(f"meetmesh-room .tile.camera-off[data-participant-id='{bea_id}'] .placeholder")
            assert await text_of(host, f".tile[data-participant-id='{bea_id}'] .initials") == "BE"
            await cal.keyboard.press("Alt+y")
            await host.wait_for_selector(f"meetmesh-room .tile[data-participant-id='{cal_id}'] .hand:not([hidden])")
            await host.wait_for_selector(f"meetmesh-room li[data-participant-id='{cal_id}'] .state-hand")
            assert await cal.get_attribute("meetmesh-room [data-action=hand]", "aria-pressed") == "true"
            await shot(host, "meeting-host-hand-reaction")

            # A poll: the host launches it, Bea is told and votes, the host ends it and shares the results.
            await toolbar(host, "polls")
            await host.fill("meetmesh-room [data-role=poll-question]", "Lunch?")
            await host.fill("meetmesh-room [data-role=poll-options]", "Pizza\nSalad")
            await host.click("meetmesh-room [data-action=launch-new-poll]")
            await wait_text(bea, "[data-role=toasts]", sentence("poll.launched", question="Lunch?"))
            await toolbar(bea, "polls")
            await bea.click("meetmesh-room [data-poll-id] label:has-text('Salad') input")
            await bea.click("meetmesh-room [data-poll-id] [data-action=vote]")
            await wait_text(bea, "[data-role=poll-list]", sentence("poll.voted"))
            await wait_text(host, "[data-role=poll-list]", sentence("poll.voters", n="1"))
            await host.click("meetmesh-room [data-poll-id] [data-action=end-poll]")
            await host.click("meetmesh-room [data-poll-id] [data-action=share-poll]")
            await wait_text(bea, "[data-role=poll-list]", "Salad: 1 (100%)")
            await shot(bea, "meeting-guest-poll-results")
            await axe(bea, "meeting-poll")
            await bea.click("meetmesh-room [data-panel=polls] [data-action=close-panel]")
            await host.click("meetmesh-room [data-panel=polls] [data-action=close-panel]")

            # Breakout rooms: two rooms, Bea and Cal assigned by hand, opened with a 5-minute timer; Bea is told
            # where she went, sees the countdown and asks for help; the host closes the rooms.
            await toolbar(host, "breakouts")
            await host.fill("meetmesh-room [data-role=bo-count]", "2")
            await host.click("meetmesh-room [data-action=create-rooms]")
            for pid, room_name in ((bea_id, "Room 1"), (cal_id, "Room 2")):
                await host.select_option(
                    f"meetmesh-room [data-panel=breakouts] li[data-participant-id='{pid}'] select", label=room_name
                )
                await host.wait_for_selector(
                    f"meetmesh-room [data-panel=breakouts] li[data-participant-id='{pid}']", state="detached"
                )
            await host.fill("meetmesh-room [data-role=bo-minutes]", "5")
            await host.click("meetmesh-room [data-action=open-rooms]")
            await wait_text(bea, "[data-role=toasts]", sentence("t.moved", room="Room 1"))
            await wait_text(bea, "[data-role=breakout-countdown]", "Rooms close in 4:")
            await toolbar(bea, "breakouts")
            await wait_text(bea, "[data-role=breakout-body]", sentence("bo.youAreIn", room="Room 1"))
            await bea.click("meetmesh-room [data-action=ask-help]")
            await wait_text(host, "[data-role=toasts]", sentence("bo.helpFrom", name="Bea", room="Room 1"))
            await shot(host, "meeting-host-breakouts")
            await axe(host, "meeting-breakouts")
            await host.fill("meetmesh-room [data-role=bo-grace]", "0")
            await host.click("meetmesh-room [data-action=close-rooms]")
            await wait_text(bea, "[data-role=toasts]", sentence("t.movedMain"))
            await bea.click("meetmesh-room [data-panel=breakouts] [data-action=close-panel]")
            await host.click("meetmesh-room [data-panel=breakouts] [data-action=close-panel]")

            # Mute all: the guests are told why their microphone went off.
            await host_menu(host, "mute-all")
            for guest in (bea, cal):
                await wait_text(guest, "[data-role=toasts]", sentence("t.mutedByHost"))
                await guest.wait_for_selector("meetmesh-room [data-action=mic][aria-pressed=true]")
            await host.wait_for_selector(
                f"meetmesh-room .tile[data-participant-id='{bea_id}'] .muted-icon:not([hidden])"
            )
            # No unmuting yourself: Bea is told so in words; the host asks her to unmute, and then she can.
            await host_menu(host, "self-unmute")
            await wait_text(bea, "[data-role=toasts]", sentence("t.selfUnmuteOff"))
            await bea.click("meetmesh-room [data-action=mic]")
            await wait_text(bea, "[data-role=toasts]", sentence("error.selfUnmuteOff"))
            assert await bea.get_attribute("meetmesh-room [data-action=mic]", "aria-pressed") == "true"
            await open_panel(host, "people")
            await host.click(f"meetmesh-room li[data-participant-id='{bea_id}'] [data-action=person-menu]")
            await host.click(f"meetmesh-room li[data-participant-id='{bea_id}'] [data-action=ask-unmute]")
            await wait_text(bea, "[data-role=toasts]", sentence("t.askedToUnmute"))
            await bea.click("meetmesh-room [data-action=mic]")
            await bea.wait_for_selector("meetmesh-room [data-action=mic][aria-pressed=false]")
            await host.wait_for_selector(
                f"meetmesh-room .tile[data-participant-id='{bea_id}'] .muted-icon[hidden]", state="attached"
            )

            # Cloud recording: a guest sees the indicator and is told.
            await host.click("meetmesh-room [data-action=cloud-record]")
            await wait_text(bea, "[data-role=recording-banner]", sentence("m.recordingCloud"))
            await wait_text(bea, "[data-role=toasts]", sentence("t.recordingStarted"))
            await shot(bea, "meeting-guest-recording")

            # The person menu: spotlight Bea (Cal's screen features her), rename her, make her co-host - each
            # said to her in words.
            async def person(pid: str, action: str) -> None:
                await open_panel(host, "people")
                await host.click(f"meetmesh-room li[data-participant-id='{pid}'] [data-action=person-menu]")
                await host.click(f"meetmesh-room li[data-participant-id='{pid}'] [data-action={action}]")

            await person(bea_id, "spotlight")
            await cal.wait_for_selector(f"meetmesh-room .tile.featured[data-participant-id='{bea_id}']")
            await wait_text(cal, "[data-role=toasts]", sentence("t.spotlight", name="Bea"))
            await person(bea_id, "rename-participant")
            await host.fill("meetmesh-room dialog[open] [data-role=dialog-input]", "Bea B.")
            await host.click("meetmesh-room dialog[open] [data-dialog=rename]")
            await wait_text(bea, "[data-role=toasts]", sentence("t.renamed", name="Bea B."))
            await cal.wait_for_selector(f"meetmesh-room .tile[data-participant-id='{bea_id}'] .label:text('Bea B.')")
            await person(bea_id, "make-cohost")
            await wait_text(bea, "[data-role=toasts]", sentence("t.cohost"))
            await bea.wait_for_selector("meetmesh-room [data-action=cloud-record]:not([hidden])", state="attached")

            # Remove Cal (confirmed): Cal is out and cannot come back, not even by a fresh page.
            await open_panel(host, "people")
            await host.click(f"meetmesh-room li[data-participant-id='{cal_id}'] [data-action=person-menu]")
            await host.click(f"meetmesh-room li[data-participant-id='{cal_id}'] [data-action=remove-participant]")
            await host.wait_for_selector("meetmesh-room dialog[open]")
            await shot(host, "meeting-remove-confirm")
            await axe(host, "meeting-remove-dialog")
            await host.click("meetmesh-room dialog [data-dialog=confirm]")
            await wait_text(cal, "[data-role=left-text]", sentence("m.removed"))
            assert await cal.is_hidden("meetmesh-room [data-role=rejoin]")
            again = await cal.context.new_page()
            await again.goto(invite)
            await again.wait_for_function(f"{SHADOW}.querySelector('[data-role=preview]').videoWidth > 0")
            await again.fill("meetmesh-room [data-role=name]", "Not Cal")
            await again.click("meetmesh-room [data-action=join]")
            await wait_text(again, "[data-role=error]", sentence("error.removed"))

            # Lock: the host's menu says it is on, everyone sees the badge, a newcomer is refused in words.
            await host_menu(host, "lock")
            await bea.wait_for_selector("meetmesh-room [data-role=lock-badge]:not([hidden])")
            await wait_text(bea, "[data-role=toasts]", sentence("t.locked"))
            await host_menu(host, "waiting-room")
            await wait_text(bea, "[data-role=toasts]", sentence("t.waitingOn"))
            dee = await open_meeting(browser, invite)
            await dee.fill("meetmesh-room [data-role=name]", "Dee")
            await dee.click("meetmesh-room [data-action=join]")
            await wait_text(dee, "[data-role=error]", sentence("error.meetingLocked"))

            # End for all: the host's Leave asks; everyone's meeting ends.
            await host.click("meetmesh-room [data-action=leave]")
            await host.wait_for_selector("meetmesh-room dialog[open]")
            await host.click("meetmesh-room dialog [data-dialog=end-for-all]")
            await wait_text(bea, "[data-role=left-text]", sentence("m.ended"))
            await host.wait_for_selector("meetmesh-room [data-page=left]:not([hidden])")
            await shot(bea, "meeting-ended")


@pytest.mark.timeout(120)
async def test_phone_joins_mutes_chats_in_a_sheet_and_leaves(tmp_path: Path) -> None:
    with run_stack(tmp_path) as stack:
        token, number = await host_with_meeting(stack.url, "phone-host@example.test")
        async with chromium() as browser:
            phone = await open_meeting(browser, f"{stack.url}/m/{number}", token, **PHONE)
            await join_as(phone, None)
            await phone.wait_for_timeout(300)  # the toolbar has measured itself
            assert await off_screen(phone) == []
            assert await small_targets(phone, ".toolbar") == []
            await axe(phone, "meeting-phone")
            await shot(phone, "meeting-phone")

            await phone.tap("meetmesh-room [data-action=mic]")
            await phone.wait_for_selector("meetmesh-room [data-action=mic][aria-pressed=true]")

            # More holds what the bar has no room for, inside the screen.
            await phone.tap("meetmesh-room [data-action=more]")
            await phone.wait_for_selector("meetmesh-room [data-role=more-menu]:not([hidden])")
            moved = await phone.eval_on_selector_all(
                "meetmesh-room [data-role=overflow] [data-action]", "els => els.map(e => e.dataset.action)"
            )
            assert "invite" in moved and "mic" not in moved, moved
            assert await off_screen(phone) == []
            await shot(phone, "meeting-phone-more")
            if "chat" not in moved:
                await phone.tap("meetmesh-room [data-action=more]")
            await phone.tap("meetmesh-room [data-action=chat]")
            sheet = await phone.evaluate(
                f"(() => {{ const p = {SHADOW}.querySelector('[data-panel=chat]'); const r = p.getBoundingClientRect();"
                " return [getComputedStyle(p).position, ...[r.left, r.right, r.bottom].map(Math.round)]; })()"
            )
            assert sheet == ["fixed", 0, 360, 740], sheet
            await phone.fill("meetmesh-room [data-role=chat-input]", "from my phone")
            await phone.tap("meetmesh-room [data-action=send]")
            await wait_text(phone, "[data-role=chat-log]", "from my phone")
            assert await off_screen(phone) == []
            await shot(phone, "meeting-phone-chat-sheet")
            await phone.tap("meetmesh-room [data-panel=chat] [data-action=close-panel]")

            # Settings (More) as a sheet, inside the screen.
            await phone.tap("meetmesh-room [data-action=more]")
            await phone.tap("meetmesh-room [data-action=settings]")
            await phone.wait_for_selector("meetmesh-room [data-panel=settings] [data-setting=videoinput]")
            assert await off_screen(phone) == []
            await axe(phone, "meeting-phone-settings")
            await shot(phone, "meeting-phone-settings")
            await phone.tap("meetmesh-room [data-panel=settings] [data-action=close-panel]")

            await phone.tap("meetmesh-room [data-action=leave]")
            await phone.wait_for_selector("meetmesh-room dialog[open]")
            assert await off_screen(phone) == []
            await phone.tap("meetmesh-room dialog [data-dialog=leave-only]")
            await wait_text(phone, "[data-role=left-text]", sentence("m.left"))

"""The chat panel through its UI, in headless Chromium against the real stack: a host and a guest. Replies
quote what they answer, emoji reactions count per message and toggle, the sender edits (everyone sees
"(edited)") and deletes, search finds a message and shows it in the log, a file upload shows its progress and a
file over the limit is refused saying the limit. axe-core finds no serious or critical violation with a reply
being written and a message's emoji row open."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import FilePayload

from tests.e2e.browser_support import chromium, host_with_meeting, run_stack
from tests.support.web_ui import SHADOW, axe, join_as, open_meeting, sentence, shot, text_of, wait_text

pytestmark = [pytest.mark.slow]

UPLOAD_LIMIT = 200_000


def _msg(text: str) -> str:
    """The message in the chat log whose text contains ``text``."""
    return f"meetmesh-room [data-role=chat-log] .msg:has(p.text:has-text('{text}'))"


@pytest.mark.timeout(180)
async def test_replies_reactions_edit_delete_search_and_uploads(tmp_path: Path) -> None:
    with run_stack(tmp_path, extra={"API_MAX_UPLOAD_BYTES": str(UPLOAD_LIMIT)}) as stack:
        token, number = await host_with_meeting(stack.url, "chat-host@example.test")
        url = f"{stack.url}/m/{number}"
        async with chromium() as browser:
            host = await open_meeting(browser, url, token)
            await join_as(host, None)
            bea = await open_meeting(browser, url)
            await join_as(bea, "Bea")
            for page in (host, bea):
                await page.click("meetmesh-room [data-action=chat]")

            await bea.fill("meetmesh-room [data-role=chat-input]", "Agenda at https://example.com/agenda")
            await bea.press("meetmesh-room [data-role=chat-input]", "Enter")
            await host.wait_for_selector(_msg("Agenda at"))

            # Reply: the composer says to whom; the reply quotes the message for everyone.
            await host.click(f"{_msg('Agenda at')} [data-action=chat-reply]")
            await wait_text(host, "[data-role=composer-context]", sentence("c.replyingTo", name="Bea"))
            await host.fill("meetmesh-room [data-role=chat-input]", "Sounds good")
            await axe(host, "chat-reply")
            await host.press("meetmesh-room [data-role=chat-input]", "Enter")
            await bea.wait_for_selector(f"{_msg('Sounds good')} .reply-quote:has-text('Agenda at')")
            assert await host.is_hidden("meetmesh-room [data-role=composer-context]")

            # Reactions: Bea picks 👍 from the message's row; the host sees 1 and adds his (2, pressed for him).
            await bea.click(f"{_msg('Sounds good')} [data-action=chat-react-menu]")
            await bea.wait_for_selector(f"{_msg('Sounds good')} .emoji-row")
            await axe(bea, "chat-react-menu")
            await shot(bea, "chat-react-menu")
            # Escape closes the row and gives focus back to React; opened again by keyboard.
            await bea.keyboard.press("Escape")
            await bea.wait_for_selector(f"{_msg('Sounds good')} .emoji-row", state="detached")
            assert await bea.evaluate(f"{SHADOW}.activeElement?.dataset.action") == "chat-react-menu"
            await bea.keyboard.press("Enter")
            await bea.wait_for_selector(f"{_msg('Sounds good')} .emoji-row")
            await bea.click(f"{_msg('Sounds good')} .emoji-row [data-emoji='👍']")
            chip = f"{_msg('Sounds good')} .msg-reactions [data-emoji='👍']"
            await host.wait_for_selector(f"{chip}[aria-pressed=false]:has-text('👍 1')")
            await host.click(chip)
            await host.wait_for_selector(f"{chip}[aria-pressed=true]:has-text('👍 2')")
            await bea.wait_for_selector(f"{chip}[aria-pressed=true]:has-text('👍 2')")
            # Toggled back: Bea's goes, the count follows everywhere.
            await bea.click(chip)
            await host.wait_for_selector(f"{chip}[aria-pressed=true]:has-text('👍 1')")

            # Edit: only the sender is offered it; the composer holds the text; everyone sees the new text, edited.
            assert await bea.is_hidden(f"{_msg('Sounds good')} [data-action=chat-edit]")
            await host.click(f"{_msg('Sounds good')} [data-action=chat-edit]")
            assert await host.input_value("meetmesh-room [data-role=chat-input]") == "Sounds good"
            await wait_text(host, "[data-role=composer-context]", sentence("c.editing"))
            await host.fill("meetmesh-room [data-role=chat-input]", "Sounds great")
            await host.press("meetmesh-room [data-role=chat-input]", "Enter")
            await bea.wait_for_selector(f"{_msg('Sounds great')} .edited")
            assert "Sounds good" not in await text_of(bea, "[data-role=chat-log]")
            # The reaction stayed with the message.
            await bea.wait_for_selector(f"{_msg('Sounds great')} .msg-reactions [data-emoji='👍']")

            # Search: a word finds Bea's message, marked; choosing the hit shows it in the log, focused.
            await bea.fill("meetmesh-room [data-role=chat-search]", "agenda")
            await bea.press("meetmesh-room [data-role=chat-search]", "Enter")
            await bea.wait_for_selector("meetmesh-room [data-role=chat-results]:not([hidden]) mark")
            assert (await text_of(bea, "[data-role=chat-results] mark")).lower() == "agenda"
            await wait_text(bea, "[data-role=chat-results]", sentence("c.results", n="1"))
            await shot(bea, "chat-search")
            await axe(bea, "chat-search")
            await bea.click("meetmesh-room [data-role=chat-results] [data-action=chat-hit]")
            await bea.wait_for_selector(f"{_msg('Agenda at')}.found")
            assert await bea.evaluate(f"{SHADOW}.activeElement?.classList.contains('found')")
            await bea.fill("meetmesh-room [data-role=chat-search]", "nothingsaidlikethis")
            await bea.press("meetmesh-room [data-role=chat-search]", "Enter")
            await wait_text(bea, "[data-role=chat-results]", sentence("c.noResults"))
            await bea.click("meetmesh-room [data-role=chat-results] [data-action=close-search]")
            await bea.wait_for_selector("meetmesh-room [data-role=chat-log]:not([hidden])")

            # The link stays a safe link after the edits and reactions re-rendered things.
            links = await host.eval_on_selector_all(
                "meetmesh-room [data-role=chat-log] p.text a", "els => els.map(a => [a.href, a.rel, a.target])"
            )
            assert links == [["https://example.com/agenda", "noopener noreferrer nofollow", "_blank"]]

            # Upload: a progress bar shows and reaches the end; the file arrives.
            await bea.evaluate(
                f"""(() => {{ window.progressSeen = [];
                  new MutationObserver(() => {{
                    const p = {SHADOW}.querySelector('[data-role=chat-status] progress');
                    if (p) window.progressSeen.push(p.value);
                  }}).observe({SHADOW}.querySelector('[data-role=chat-status]'),
                    {{ subtree: true, childList: true, attributes: true }}); }})()"""
            )
            await bea.set_input_files(
                "meetmesh-room [data-role=chat-file]",
                files=FilePayload(name="slides.bin", mimeType="application/octet-stream", buffer=b"s" * 150_000),
            )
            await host.wait_for_selector("meetmesh-room [data-role=chat-log] a[download]:has-text('slides.bin')")
            seen = await bea.evaluate("window.progressSeen")
            assert seen and seen[-1] == 1, seen
            # Too large: refused, saying the limit (200,000 bytes = 195 KB), nothing sent.
            await bea.set_input_files(
                "meetmesh-room [data-role=chat-file]",
                files=FilePayload(
                    name="big.bin", mimeType="application/octet-stream", buffer=b"x" * (UPLOAD_LIMIT + 1)
                ),
            )
            await wait_text(bea, "[data-role=chat-status]", sentence("c.tooLargeLimit", name="big.bin", limit="195 KB"))
            await host.wait_for_timeout(300)
            assert "big.bin" not in await text_of(host, "[data-role=chat-log]")

            # Delete: the host (sender) deletes his reply; Bea sees the tombstone, and the quote is gone too.
            await host.click(f"{_msg('Sounds great')} [data-action=delete-message]")
            await bea.wait_for_selector("meetmesh-room [data-role=chat-log] .msg .deleted")
            assert "Sounds great" not in await text_of(bea, "[data-role=chat-log]")
            await shot(host, "chat-after")

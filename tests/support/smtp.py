"""A real SMTP server for tests (aiosmtpd on loopback) that keeps what it received, and the reading of the iTIP
invitations (iMIP) the API mails."""

from __future__ import annotations

import email
import email.message
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import icalendar
from aiosmtpd.controller import Controller

from testkit.server import free_port


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], email.message.Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 OK"

    def to(self, address: str) -> list[email.message.Message]:
        return [m for rcpt, m in self.messages if address in rcpt]


@contextmanager
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def imip(msg: email.message.Message) -> tuple[str, icalendar.Event]:
    """A server invitation's iTIP method and its VEVENT: an iMIP mail is ``multipart/alternative`` with a text part
    and one ``text/calendar; method=…`` part whose calendar carries the same METHOD (RFC 6047 section 2.4)."""
    assert msg.get_content_type() == "multipart/alternative", msg.as_string()[:2000]
    parts = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1, msg.as_string()[:2000]
    payload = parts[0].get_payload(decode=True)
    assert isinstance(payload, bytes)
    cal = icalendar.Calendar.from_ical(payload)
    [ev] = cal.walk("VEVENT")
    assert isinstance(ev, icalendar.Event)
    method = parts[0].get_param("method")
    assert isinstance(method, str) and method == str(cal["method"])
    return method, ev


def attendees(ev: icalendar.Event) -> list[str]:
    """The VEVENT's ATTENDEE addresses, sorted (one ATTENDEE is a single value, several a list)."""
    raw = ev.get("attendee", [])
    return sorted(str(a).removeprefix("mailto:") for a in (raw if isinstance(raw, list) else [raw]))

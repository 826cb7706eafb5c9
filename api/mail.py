"""Sending e-mail: a small ``Mailer`` interface and its SMTP implementation (stdlib ``smtplib``, run in a thread so
a slow mail server never stalls the event loop), with optional TLS (STARTTLS or implicit) and AUTH."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

from api.settings import Settings

TLS_MODES = ("none", "starttls", "implicit")


@dataclass(frozen=True, slots=True)
class CalendarPart:
    """An iMIP body (RFC 6047 section 2.4): ``text/calendar`` whose ``method`` parameter equals the METHOD inside."""

    method: str
    ics: bytes


@dataclass(frozen=True, slots=True)
class Mail:
    to: str
    subject: str
    text: str
    calendar: CalendarPart | None = None


class Mailer(Protocol):
    async def send(self, mail: Mail) -> None:
        """Hand the message to the mail system; raises OSError / smtplib.SMTPException when it cannot."""
        ...


def message(sender: str, mail: Mail) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = mail.to
    msg["Subject"] = mail.subject
    msg.set_content(mail.text)
    if mail.calendar is not None:
        # RFC 6047 section 2.4: multipart/alternative of the text and the text/calendar part carrying the method,
        # which is how Gmail, Outlook and Apple Mail recognise an invitation (and offer to add or update it).
        # As bytes in base64: a str part would have its CRLF line ends (RFC 5545 section 3.1) turned into LF.
        msg.add_alternative(
            mail.calendar.ics,
            maintype="text",
            subtype="calendar",
            params={"method": mail.calendar.method, "charset": "utf-8"},
        )
    return msg


class SmtpMailer:
    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        timeout_s: float = 10.0,
        *,
        tls: str = "none",
        username: str = "",
        password: str = "",
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        if tls not in TLS_MODES:
            raise ValueError(f"API_SMTP_TLS must be one of {', '.join(TLS_MODES)} (got {tls!r})")
        self.host, self.port, self.sender, self.timeout_s = host, port, sender, timeout_s
        self.tls, self.username, self.password = tls, username, password
        self.tls_context = tls_context or ssl.create_default_context()

    def _send(self, mail: Mail) -> None:
        msg = message(self.sender, mail)
        smtp: smtplib.SMTP
        if self.tls == "implicit":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout_s, context=self.tls_context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
        with smtp:
            if self.tls == "starttls":
                smtp.starttls(context=self.tls_context)
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(msg)

    async def send(self, mail: Mail) -> None:
        await asyncio.to_thread(self._send, mail)


class NoMailer:
    """No SMTP server configured: nothing is e-mailed (owners still get the webhook event)."""

    async def send(self, mail: Mail) -> None:
        return None


def mailer_for(settings: Settings) -> Mailer:
    if not settings.smtp_host:
        return NoMailer()
    return SmtpMailer(
        settings.smtp_host,
        settings.smtp_port,
        settings.mail_from,
        tls=settings.smtp_tls,
        username=settings.smtp_username,
        password=settings.smtp_password,
    )

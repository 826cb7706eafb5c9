"""Sending e-mail: a small ``Mailer`` interface and its plain-SMTP implementation (stdlib ``smtplib``, run in a
thread so a slow mail server never stalls the event loop)."""

from __future__ import annotations

import asyncio
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

from api.settings import Settings


@dataclass(frozen=True, slots=True)
class Mail:
    to: str
    subject: str
    text: str


class Mailer(Protocol):
    async def send(self, mail: Mail) -> None:
        """Hand the message to the mail system; raises OSError / smtplib.SMTPException when it cannot."""
        ...


class SmtpMailer:
    def __init__(self, host: str, port: int, sender: str, timeout_s: float = 10.0) -> None:
        self.host, self.port, self.sender, self.timeout_s = host, port, sender, timeout_s

    def _send(self, mail: Mail) -> None:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = mail.to
        msg["Subject"] = mail.subject
        msg.set_content(mail.text)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
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
    return SmtpMailer(settings.smtp_host, settings.smtp_port, settings.mail_from)

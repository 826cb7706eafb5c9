"""iTIP over e-mail (iMIP, RFC 6047): invitees get METHOD:REQUEST when invited and on every change (with a higher
SEQUENCE), METHOD:CANCEL when the meeting is cancelled or they are uninvited.

Mail goes out after the transaction commits, in a background task: a slow or absent SMTP server never holds a
request (or a database lock). A failed send is logged and not retried (no outbox for invitations yet).
"""

from __future__ import annotations

import asyncio
import logging
import smtplib

from api.calendars import entries, store
from api.calendars.ics import Method, calendar, details
from api.db import Tx
from api.mail import CalendarPart, Mail, Mailer, mailer_for
from api.services import Services
from dbschema.models import Meeting, utcnow

log = logging.getLogger(__name__)

_tasks: set[asyncio.Task[None]] = set()
"""Strong references to the sending tasks (the loop keeps only weak ones)."""


def _mailer(svc: Services) -> Mailer:
    return mailer_for(svc.settings)


async def _send(svc: Services, meeting_id: str, method: Method, only: tuple[str, ...] | None) -> None:
    async with svc.db.read() as session:
        m = await session.get(Meeting, meeting_id)
        if m is None:
            return
        state = await store.state(session, meeting_id)
        organizer = await store.user(session, m.host_user_id)
        invited = tuple(await store.invitees(session, meeting_id))
    recipients = only if only is not None else invited
    if not recipients:
        return
    # Uninvited people get a CANCEL naming only themselves (RFC 5546 section 3.2.5).
    attendees = recipients if method is Method.CANCEL and only is not None else invited
    info = entries.entry(svc, m, state, organizer, attendees)
    ics = calendar([info], method=method, now=utcnow())
    verb = {Method.REQUEST: "Invitation", Method.CANCEL: "Cancelled"}.get(method, "Meeting")
    if method is Method.REQUEST and info.sequence > 0:
        verb = "Updated invitation"
    subject = f"{verb}: {m.title}"
    text = f"{subject}\n\n{details(info)}\n"
    mailer = _mailer(svc)
    for to in recipients:
        try:
            await mailer.send(Mail(to, subject, text, CalendarPart(method.value, ics)))
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("invitation for meeting %s to %s not sent: %s", meeting_id, to, exc)


async def _send_logged(svc: Services, meeting_id: str, method: Method, only: tuple[str, ...] | None) -> None:
    # The task boundary: nobody awaits this task, so whatever goes wrong is logged here, with the meeting's id.
    try:
        await _send(svc, meeting_id, method, only)
    except Exception:
        log.exception("invitations for meeting %s (%s) failed", meeting_id, method.value)


def _spawn(svc: Services, meeting_id: str, method: Method, only: tuple[str, ...] | None) -> None:
    task = asyncio.get_running_loop().create_task(
        _send_logged(svc, meeting_id, method, only), name=f"calendar-imip-{meeting_id}"
    )
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


def after_commit(tx: Tx, svc: Services, meeting_id: str, method: Method, only: tuple[str, ...] | None = None) -> None:
    """Send once ``tx`` has committed (never after a rollback)."""
    tx.after_commit.append(lambda: _spawn(svc, meeting_id, method, only))


async def drain() -> None:
    """Wait for the invitations being sent (tests, shutdown)."""
    while _tasks:
        await asyncio.gather(*list(_tasks), return_exceptions=True)

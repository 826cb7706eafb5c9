"""Who may open a shared document, and whether they may change it or only watch.

The rule (docs/collaboration.md): anyone who may read the meeting (``meetings.service.access``: its owner, anyone
admitted now or before) may open its notes and main-room board. Only people in the meeting *now* may change them;
after the meeting ends, and for someone who left or an owner who is not in it, documents are read-only. A breakout
room's board is changed by the people in that room and by hosts and co-hosts; while the meeting runs, other
participants may not open it (rooms are private to their members); after it ends, everyone who attended may read it.
An annotation document (``annotate:<participantId>``, the marks over that participant's screen share) follows the
rule of the board of the room the sharer is in now; the sharer counts as a host of it (may turn annotation off,
which is the document lock, and still draw), as do the meeting's hosts and co-hosts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import select

from api.collab.names import DocName
from api.errors import ForbiddenError, NotFoundError
from api.meetings.service import access
from api.participants.permissions import HOSTS
from api.security import GuestPrincipal, Principal, UserPrincipal
from api.services import Services
from dbschema.breakouts import BreakoutRoom
from dbschema.models import Participant, User


@dataclass(frozen=True, slots=True)
class Grant:
    writable: bool
    name: str
    """The name others see on this person's cursor."""
    checked_at: float
    """Monotonic time of the decision (decided again after ``API_COLLAB_ACCESS_RECHECK_S``: api/collab/http.py)."""
    host: bool = False
    """A host or co-host in the meeting now: may lock the document, and change it while locked."""
    participant_id: str | None = None
    """Their participation in the meeting (every writer has one): who changed what is recorded against it."""
    presenter: bool = False
    """Sharing their screen now (and may write): may change a document a host locked for hosts and presenters."""


async def decide(svc: Services, principal: Principal | None, meeting_id: str, doc: DocName) -> Grant:
    """Raises UNAUTHENTICATED, NOT_FOUND or FORBIDDEN (api/errors) when the document may not be opened."""
    a = await access(svc, principal, meeting_id)
    ended = a.meeting.status in ("ended", "cancelled")
    live = a.state == "admitted" and not ended
    async with svc.db.read() as session:
        p = await session.get(Participant, a.participant_id) if a.participant_id else None
        room = doc.breakout_room
        sharer_id = doc.sharer
        if sharer_id is not None:
            sharer = await session.get(Participant, sharer_id)
            if sharer is None or sharer.meeting_id != meeting_id:
                raise NotFoundError(f"meeting {meeting_id} has no participant {sharer_id}")
            room = sharer.breakout_room_id  # marks over a screen belong where that screen is shown
        elif room is not None:
            found = await session.scalar(
                select(BreakoutRoom.id).where(BreakoutRoom.id == room, BreakoutRoom.meeting_id == meeting_id)
            )
            if found is None:
                raise NotFoundError(f"meeting {meeting_id} has no breakout room {room}")
        if p is not None:
            name = p.display_name
        elif isinstance(principal, UserPrincipal):
            name = await session.scalar(select(User.display_name).where(User.id == principal.user_id)) or "Host"
        else:
            name = principal.display_name if isinstance(principal, GuestPrincipal) else "Guest"
    host = a.role in HOSTS or (sharer_id is not None and sharer_id == a.participant_id)
    here = p.breakout_room_id if p is not None else None
    if doc.kind != "notes" and room is not None and not host and here != room:
        if not ended:
            raise ForbiddenError(f"this breakout room's {doc.kind} document is for the people in that room")
        return Grant(False, name, time.monotonic())
    if doc.kind != "notes" and room is None:
        writable = live and (here is None or host)
    else:
        writable = live
    presenter = writable and p is not None and p.sharing
    return Grant(
        writable, name, time.monotonic(), host=host and writable, participant_id=a.participant_id, presenter=presenter
    )

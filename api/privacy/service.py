"""Personal data: export, account deletion, recording retention. No Strawberry here.

Export: ``request_export`` hands out a short-lived signed URL; fetching it (``http.py``) gathers the data in
one read transaction, checks the size bound, then builds the zip in a thread and streams it.
Deletion: re-authenticate with the password; one write transaction anonymises what stays (their messages in
meetings others own) and deletes the rest by cascading from the user row; the files go after the commit.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import math
import re
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, select

from api import validation
from api.audit import store as audit_store
from api.chat import files as chat_files
from api.db import Tx
from api.errors import BadInputError, ForbiddenError, NotFoundError, UnauthenticatedError
from api.participants.views import participant_snapshot
from api.point_reads import PointRead
from api.privacy import archive, store
from api.privacy.archive import Member, check_size, plan_size
from api.recordings import media
from api.recordings.service import recording_dir, recording_snapshot
from api.security import Principal, UserPrincipal
from api.services import Services
from api.sso import store as sso_store
from dbschema.chat import ChatMessage
from dbschema.models import Meeting, Participant, User, utcnow
from dbschema.recordings import Recording
from protocol.events import EventType

log = logging.getLogger("meetmesh.api")

EXPORT_KEY_PURPOSE = b"meetmesh/data-export/v1"
EXPORT_URL_TTL_S = 15 * 60
"""Long enough to start the download, short enough that a leaked link soon stops working."""
RETENTION_DAYS_MAX = 36500
DELETE_ATTEMPTS = (5, 300.0)
"""Wrong passwords allowed per account for deleteAccount within a window (seconds): a stolen access token must
not become a password-guessing oracle."""
SWEEP_BATCH = 100
"""Recordings deleted per sweep transaction; the sweeper runs again until none are left."""


def _user_id(principal: Principal | None) -> str:
    if not isinstance(principal, UserPrincipal):
        raise UnauthenticatedError("log in with your account first")
    return principal.user_id


async def _user(svc: Services, user_id: str) -> User:
    async with svc.db.read() as session:
        user = await session.get(User, user_id)
    if user is None:
        raise UnauthenticatedError("this account no longer exists")
    return user


async def current_user(svc: Services, principal: Principal | None) -> User:
    return await _user(svc, _user_id(principal))


# -- retention setting ------------------------------------------------------------------------------------


async def set_recording_retention(svc: Services, principal: Principal | None, days: int | None) -> User:
    user_id = _user_id(principal)
    if days is not None:
        validation.int_range("days", days, 1, RETENTION_DAYS_MAX)
    async with svc.db.write() as tx:
        user = await tx.session.get(User, user_id)
        if user is None:
            raise UnauthenticatedError("this account no longer exists")
        user.recording_retention_days = days
    return user


# -- export -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExportLink:
    url: str
    expires_at: datetime


def _mac(key: bytes, user_id: str, exp: int) -> str:
    digest = hmac.new(key, f"export\n{user_id}\n{exp}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def request_export(svc: Services, principal: Principal | None, now: float | None = None) -> ExportLink:
    user = await _user(svc, _user_id(principal))
    exp = math.ceil((now if now is not None else time.time()) + EXPORT_URL_TTL_S)
    sig = _mac(svc.creds.derive_key(EXPORT_KEY_PURPOSE), user.id, exp)
    return ExportLink(
        url=f"{svc.settings.base_url}/privacy/export/{user.id}?exp={exp}&sig={sig}",
        expires_at=datetime.fromtimestamp(exp, UTC),
    )


_EXP = re.compile(r"[0-9]{1,12}")


def verify_export(svc: Services, user_id: str, exp: str, sig: str, now: float) -> bool:
    if not _EXP.fullmatch(exp) or not sig or len(sig) > 64 or int(exp) < now:
        return False
    # Bytes: compare_digest raises TypeError on non-ASCII str, and sig is whatever the URL said.
    expected = _mac(svc.creds.derive_key(EXPORT_KEY_PURPOSE), user_id, int(exp))
    return hmac.compare_digest(expected.encode(), sig.encode())


def _ts(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _meeting(m: Meeting) -> dict[str, Any]:
    skip = {"passcode_hash", "event_seq"}
    out = {c.key: getattr(m, c.key) for c in Meeting.__table__.columns if c.key not in skip}
    out["has_passcode"] = m.passcode_hash is not None
    return {k: _ts(v) if isinstance(v, datetime) else v for k, v in out.items()}


def _participant(p: Participant) -> dict[str, Any]:
    return {
        "id": p.id,
        "display_name": p.display_name,
        "role": p.role,
        "state": p.state,
        "is_you": False,
        "joined_at": _ts(p.joined_at),
        "created_at": _ts(p.created_at),
    }


def _message(m: ChatMessage, names: dict[str, str]) -> dict[str, Any]:
    return {
        "id": m.id,
        "meeting_id": m.meeting_id,
        "sender": names.get(m.sender_id, m.sender_id),
        "sender_id": m.sender_id,
        "recipient_id": m.recipient_id,
        "private": m.recipient_id is not None,
        "text": m.text,
        "attachment_id": m.attachment_id,
        "created_at": _ts(m.created_at),
        "edited_at": _ts(m.edited_at),
        "deleted_at": _ts(m.deleted_at),
    }


@dataclass(slots=True)
class ExportPlan:
    data: dict[str, Any]
    members: list[Member] = field(default_factory=list)


async def gather(svc: Services, user_id: str) -> ExportPlan:
    """Everything of theirs, read in one transaction (a consistent snapshot on PostgreSQL)."""
    async with svc.db.read() as session:
        user = await session.get(User, user_id)
        if user is None:
            raise NotFoundError("this account no longer exists")
        meetings = await store.owned_meetings(session, user_id)
        meeting_ids = [m.id for m in meetings]
        mine = await store.my_participant_ids(session, user_id)
        people = await store.participants_in(session, meeting_ids)
        visible = await store.visible_chat(session, meeting_ids, mine)
        sent = await store.sent_chat(session, mine)
        recordings = await store.recordings_of(session, meeting_ids)
        transcript = await store.transcript_of(session, [r.id for r in recordings])
        sign_ins = await store.account_log(session, user_id)
        identities = await sso_store.identities_of(session, user_id)
        names = {p.id: p.display_name for p in people}
        for pid in mine:
            names.setdefault(pid, user.display_name)
    mine_set = set(mine)
    by_meeting: dict[str, dict[str, Any]] = {}
    for m in meetings:
        by_meeting[m.id] = {"meeting": _meeting(m), "participants": [], "chat": [], "recordings": []}
    for p in people:
        row = _participant(p)
        row["is_you"] = p.id in mine_set
        by_meeting[p.meeting_id]["participants"].append(row)
    for msg in visible:
        by_meeting[msg.meeting_id]["chat"].append(_message(msg, names))
    members: list[Member] = []
    lines: dict[str, list[dict[str, Any]]] = {}
    for seg in transcript:
        lines.setdefault(seg.recording_id, []).append(
            {
                "start_s": seg.start_s,
                "end_s": seg.end_s,
                "speaker": seg.speaker_name,
                "text": seg.text,
                "language": seg.language,
            }
        )
    for r in recordings:
        files = media.available(recording_dir(svc, r.id))
        for f in files:
            members.append(Member(f"recordings/{r.id}/{f.name}", recording_dir(svc, r.id) / f.name, f.size))
        by_meeting[r.meeting_id]["recordings"].append(
            {
                "id": r.id,
                "title": r.title,
                "breakout_room": (
                    {"id": r.breakout_room_id, "name": r.breakout_room_name} if r.breakout_room_id else None
                ),
                "status": r.status,
                "started_at": _ts(r.started_at),
                "stopped_at": _ts(r.stopped_at),
                "views": r.views,
                "files": [f"recordings/{r.id}/{f.name}" for f in files],
                "transcript": lines.get(r.id, []),
            }
        )
    data = {
        "format": "meetmesh-export/1",
        "exported_at": _ts(utcnow()),
        "account": {
            "id": user.id,
            "email": user.email,
            "display_name": user.display_name,
            "created_at": _ts(user.created_at),
            "recording_retention_days": user.recording_retention_days,
            "has_password": user.password_hash is not None,
            # Single sign-on (api/sso): who vouches for this account.
            "identities": [
                {
                    "provider": i.provider,
                    "issuer": i.issuer,
                    "subject": i.subject,
                    "email": i.email,
                    "linked_at": _ts(i.created_at),
                    "last_sign_in_at": _ts(i.last_sign_in_at),
                }
                for i in identities
            ],
        },
        "meetings": list(by_meeting.values()),
        "my_messages": [_message(m, names) for m in sent],
        "sign_ins": [{"at": _ts(e.at), "action": e.action, "client_address": e.client_address} for e in sign_ins],
    }
    return ExportPlan(data, members)


async def build_export(svc: Services, user_id: str, target: Path) -> int:
    """Write the archive to ``target`` (size-checked before any byte is written); returns its size."""
    plan = await gather(svc, user_id)
    body, total = await asyncio.to_thread(plan_size, plan.data, plan.members)  # JSON of a long history: off the loop
    limit = svc.settings.export_max_bytes
    check_size(total, limit)
    return await asyncio.to_thread(archive.write, target, body, plan.members, limit)


def remove_stale_exports(svc: Services, now: float) -> int:
    """Archives are deleted once streamed; one whose download was cut off early may stay behind until here."""
    folder = svc.settings.data_dir / "exports"
    gone = 0
    if not folder.is_dir():
        return 0
    for path in folder.glob("*.zip"):
        try:
            if path.stat().st_mtime < now - EXPORT_URL_TTL_S:
                path.unlink(missing_ok=True)
                gone += 1
        except OSError:
            continue
    return gone


# -- deletion ---------------------------------------------------------------------------------------------


async def delete_account(svc: Services, principal: Principal | None, password: str) -> str:
    user_id = _user_id(principal)
    if not password or len(password) > 256:
        raise BadInputError("password", "password must be 1..256 characters")
    user = await _user(svc, user_id)
    if user.password_hash is None:
        raise ForbiddenError(
            "this account signs in with single sign-on and has no password to confirm the deletion with; "
            "ask your administrator to delete it"
        )
    attempts, window = DELETE_ATTEMPTS
    await svc.limit("delete-account", user_id, limit=attempts, window_s=window)
    if not await asyncio.to_thread(svc.creds.verify_secret, user.password_hash, password):
        raise UnauthenticatedError("wrong password")
    async with svc.db.write() as tx:
        meeting_ids = [m.id for m in await store.owned_meetings(tx.session, user_id)]
        recording_ids = [r.id for r in await store.recordings_of(tx.session, meeting_ids)]
        file_ids = await store.chat_file_ids(tx.session, meeting_ids)
        # Those in a meeting right now: the others there hear the new name (one event each, as for a rename).
        for p in await store.live_participations_elsewhere(tx.session, user_id):
            p.display_name, p.user_id = store.DELETED_USER, None
            await tx.emit(
                p.meeting_id, EventType.PARTICIPANT_UPDATED, subject_id=p.id, participant=participant_snapshot(p)
            )
        await store.anonymise_participations(tx.session, user_id)  # the rest: past meetings nobody is watching
        await audit_store.forget_actor(tx.session, user_id)
        if not await store.delete_user(tx.session, user_id):
            raise UnauthenticatedError("this account no longer exists")  # a concurrent deletion won
    # After the commit: a crash here leaves orphan files (harmless), never rows pointing at deleted files.
    await asyncio.to_thread(_remove_files, svc, recording_ids, file_ids)
    log.info("account %s deleted with %d meetings, %d recordings", user_id, len(meeting_ids), len(recording_ids))
    return user_id


def _remove_files(svc: Services, recording_ids: list[str], file_ids: list[str]) -> None:
    for rid in recording_ids:
        shutil.rmtree(recording_dir(svc, rid), ignore_errors=True)
    folder = chat_files.files_dir(svc.settings.data_dir)
    for fid in file_ids:
        (folder / fid).unlink(missing_ok=True)


_USER_EXISTS = PointRead(select(User.id).where(User.id == bindparam("user_id")))


async def user_exists(svc: Services, user_id: str) -> bool:
    # On every signed-in request's path (the deleted-account guard): a bare primary-key probe, no session.
    return await svc.db.points.one(_USER_EXISTS, user_id=user_id) is not None


# -- retention ------------------------------------------------------------------------------------------


async def sweep_recordings(svc: Services, now: datetime | None = None, *, max_batches: int = 50) -> int:
    """Delete finished recordings past retention (rows, transcripts by cascade, then files). Returns how many."""
    when = now or utcnow()
    gone = 0
    for _ in range(max_batches):
        async with svc.db.write() as tx:
            ids = await store.expired_recordings(tx.session, when, svc.settings.recording_retention_days, SWEEP_BATCH)
            for rid in ids:
                await _delete_recording(tx, rid)
        await asyncio.to_thread(_remove_files, svc, ids, [])
        gone += len(ids)
        if len(ids) < SWEEP_BATCH:
            break
    return gone


async def _delete_recording(tx: Tx, recording_id: str) -> None:
    r = await tx.session.get(Recording, recording_id)
    if r is None:
        return
    snapshot = recording_snapshot(r)
    await tx.session.delete(r)
    # Members listing recordings hear of it as of a host's deletion; the audit hook logs it (actor: system).
    await tx.emit(r.meeting_id, EventType.RECORDING_DELETED, data={"recording": snapshot, "reason": "retention"})

"""Cloud recording: start / pause / resume / stop (host and co-hosts), auto-record, listing, rename, delete and
share links. No Strawberry here.

Rules:
- at most one recording of the main room is capturing or paused per meeting; starting another while one is open
  is CONFLICT;
- a recording never mixes rooms: while the main room's recording is open and breakout rooms are open, each
  breakout room with someone in it has a recording of its own, in step with the main one (paused, resumed and
  stopped with it, stopped when the rooms close; ``api.recordings.rooms`` decides). The main recording records
  the main room only. A breakout room's recording is one of the meeting's recordings like any other (listed,
  watched, renamed, shared and deleted under the same rules);
- every state change is announced to everyone in the meeting (``RECORDING_*`` events), so clients can show
  the "recording" indicator (consent), and the edges learn through the control feed when to tap media;
- a meeting with ``auto_record`` starts recording when it goes live; ending the meeting stops its recording;
- anyone who may read the meeting (admitted now or before, or its owner) may list and watch its recordings;
  hosts and co-hosts rename, delete and share them (after the meeting, that is its owner);
- a share link is a 128-bit random id, valid until it expires, optionally behind a passcode (argon2 hash).
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from api import validation
from api.audit import service as audit
from api.breakouts import service as breakouts_service
from api.breakouts import store as breakouts_store
from api.db import Tx
from api.errors import BadPasscodeError, ConflictError, ForbiddenError, NotFoundError, RateLimitedError
from api.meetings import service as meetings_service
from api.participants.permissions import HOSTS
from api.participants.service import (
    Acting,
    acting,
    ensure_running,
    meeting_end_hooks,
    meeting_start_hooks,
)
from api.recordings import media
from api.recordings.rooms import room_recordings
from api.security import Principal
from api.services import Services
from dbschema.breakouts import BreakoutRoom
from dbschema.models import Meeting, Participant, utcnow
from dbschema.recordings import Recording, RecordingShare
from protocol.events import EventType
from protocol.ids import new_id

CAPTURING = "recording"
PAUSED = "paused"
STOPPED = "stopped"
OPEN = (CAPTURING, PAUSED)
TITLE_MAX = 200
SHARE_MAX_HOURS = 24 * 365


def recording_snapshot(r: Recording) -> dict[str, Any]:
    """What everyone who may see the recording may know (events carry it; GraphQL types are built from it)."""
    return {
        "id": r.id,
        "meetingId": r.meeting_id,
        "breakoutRoomId": r.breakout_room_id,
        "breakoutRoomName": r.breakout_room_name,
        "title": r.title,
        "status": r.status,
        "startedBy": r.started_by,
        "startedAt": r.started_at.timestamp(),
        "stoppedAt": r.stopped_at.timestamp() if r.stopped_at else None,
        "recordedSeconds": round(recorded_seconds(r), 3),
        "progress": r.progress,
        "error": r.error,
        "views": r.views,
    }


def recorded_seconds(r: Recording, now: datetime | None = None) -> float:
    running = 0.0
    if r.capturing_since is not None:
        running = max(0.0, ((now or utcnow()) - r.capturing_since).total_seconds())
    return r.recorded_s + running


@dataclass(frozen=True, slots=True)
class MediaLink:
    name: str
    content_type: str
    size: int
    url: str
    """Signed and short-lived (``media.url_expiry``): fetch the recording again for a fresh one."""


def media_links(svc: Services, recording_id: str) -> list[MediaLink]:
    """Signed links to the files of a recording that exist so far (callers have checked access)."""
    key = svc.creds.derive_key(media.KEY_PURPOSE)
    exp = media.url_expiry(time.time())
    return [
        MediaLink(
            f.name, f.content_type, f.size, svc.settings.base_url + media.signed_path(key, recording_id, f.name, exp)
        )
        for f in media.available(recording_dir(svc, recording_id))
    ]


def recording_dir(svc: Services, recording_id: str) -> Path:
    """Where a recording's files live (per-track captures, then composed media)."""
    return svc.settings.data_dir / "recordings" / recording_id


@dataclass(frozen=True, slots=True)
class ShareLink:
    id: str
    recording_id: str
    url: str
    expires_at: datetime
    passcode_protected: bool


# -- capture control ---------------------------------------------------------------------------------------


async def _open_recording(tx: Tx, meeting_id: str) -> Recording | None:
    """The main room's open recording."""
    result = await tx.session.execute(
        select(Recording)
        .where(Recording.meeting_id == meeting_id, Recording.breakout_room_id.is_(None), Recording.status.in_(OPEN))
        .limit(1)
    )
    return result.scalar_one_or_none()


async def _open_recordings(tx: Tx, meeting_id: str) -> list[Recording]:
    """Every open recording of the meeting: the main room's and the breakout rooms'."""
    result = await tx.session.execute(
        select(Recording)
        .where(Recording.meeting_id == meeting_id, Recording.status.in_(OPEN))
        .order_by(Recording.started_at, Recording.id)
    )
    return list(result.scalars())


def _require_host(a: Acting, doing: str) -> None:
    if a.role not in HOSTS:
        raise ForbiddenError(f"a {a.role.value} may not {doing}; only the host and co-hosts may")


async def _emit(tx: Tx, r: Recording, type: EventType, actor: Participant | None) -> None:
    await tx.emit(r.meeting_id, type, actor_id=actor.id if actor else None, data={"recording": recording_snapshot(r)})


async def _begin(
    tx: Tx, m: Meeting, actor: Participant | None, room: BreakoutRoom | None = None, status: str = CAPTURING
) -> Recording:
    now = utcnow()
    where = f" - {room.name}" if room is not None else ""
    r = Recording(
        id=new_id(),
        meeting_id=m.id,
        breakout_room_id=room.id if room is not None else None,
        breakout_room_name=room.name if room is not None else None,
        title=f"{m.title}{where} - {now:%Y-%m-%d %H:%M} UTC"[:TITLE_MAX],
        status=status,
        started_by=actor.id if actor else None,
        started_at=now,
        capturing_since=now if status == CAPTURING else None,
        recorded_s=0.0,
        progress=0,
        views=0,
    )
    tx.session.add(r)
    await tx.session.flush()
    await _emit(tx, r, EventType.RECORDING_STARTED, actor)
    return r


async def start(svc: Services, principal: Principal | None, meeting_id: str) -> Recording:
    async with svc.db.write() as tx:
        a = await acting(tx, meeting_id, principal)
        _require_host(a, "start recording")
        ensure_running(a.meeting)
        if a.meeting.status != "live":
            raise ConflictError("the meeting has not started; recording starts once someone is in it")
        if await _open_recording(tx, meeting_id) is not None:
            raise ConflictError("this meeting is already being recorded")
        r = await _begin(tx, a.meeting, a.participant)
        await _sync_rooms(tx, a.meeting, a.participant)
        return r


async def pause(svc: Services, principal: Principal | None, meeting_id: str) -> Recording:
    async with svc.db.write() as tx:
        a, r = await _open_for(tx, principal, meeting_id, "pause recording")
        if r.status != CAPTURING:
            raise ConflictError("the recording is already paused")
        _pause(r)
        await _emit(tx, r, EventType.RECORDING_PAUSED, a.participant)
        await _sync_rooms(tx, a.meeting, a.participant)
        return r


async def resume(svc: Services, principal: Principal | None, meeting_id: str) -> Recording:
    async with svc.db.write() as tx:
        a, r = await _open_for(tx, principal, meeting_id, "resume recording")
        if r.status != PAUSED:
            raise ConflictError("the recording is not paused")
        _resume(r)
        await _emit(tx, r, EventType.RECORDING_RESUMED, a.participant)
        await _sync_rooms(tx, a.meeting, a.participant)
        return r


async def stop(svc: Services, principal: Principal | None, meeting_id: str) -> Recording:
    async with svc.db.write() as tx:
        a, r = await _open_for(tx, principal, meeting_id, "stop recording")
        await _stop(tx, r, a.participant)
        await _sync_rooms(tx, a.meeting, a.participant)
        return r


async def _stop(tx: Tx, r: Recording, actor: Participant | None) -> None:
    _close_period(r)
    r.status, r.stopped_at = STOPPED, utcnow()
    await _emit(tx, r, EventType.RECORDING_STOPPED, actor)


def _close_period(r: Recording) -> None:
    now = utcnow()
    r.recorded_s = recorded_seconds(r, now)
    r.capturing_since = None


def _pause(r: Recording) -> None:
    _close_period(r)
    r.status = PAUSED


def _resume(r: Recording) -> None:
    r.status, r.capturing_since = CAPTURING, utcnow()


async def _sync_rooms(tx: Tx, m: Meeting, actor: Participant | None) -> None:
    """Give each breakout room the recording it should have now (``rooms.room_recordings``), in the transaction
    that changed the main recording or the rooms, so the events that start and stop the rooms' recordings are
    published with the change that caused them. The caller holds the meeting row's lock."""
    open_now = await _open_recordings(tx, m.id)
    main = next((r for r in open_now if r.breakout_room_id is None), None)
    by_room = {r.breakout_room_id: r for r in open_now if r.breakout_room_id is not None}
    if main is None and not by_room:
        return  # not recording: nothing to look up (the common case for every breakout change)
    state = await breakouts_store.state(tx.session, m.id)
    rooms_open = state is not None and state.status != "closed"
    rooms = await breakouts_store.rooms(tx.session, m.id) if rooms_open else []
    occupied = (
        {p.breakout_room_id for p in await breakouts_store.in_rooms(tx.session, m.id) if p.state == "admitted"}
        if rooms_open
        else set()
    )
    changes = room_recordings(
        main.status if main is not None else None,
        rooms_open,
        [r.id for r in rooms],
        {rid for rid in occupied if rid is not None},
        {rid: r.status for rid, r in by_room.items()},
    )
    named = {room.id: room for room in rooms}
    for rid in changes.stop:
        await _stop(tx, by_room[rid], actor)
    for rid in changes.set_status:
        r = by_room[rid]
        if changes.status == PAUSED:
            _pause(r)
            await _emit(tx, r, EventType.RECORDING_PAUSED, actor)
        else:
            _resume(r)
            await _emit(tx, r, EventType.RECORDING_RESUMED, actor)
    for rid in changes.start:
        await _begin(tx, m, actor, named[rid], changes.status)


async def _open_for(tx: Tx, principal: Principal | None, meeting_id: str, doing: str) -> tuple[Acting, Recording]:
    a = await acting(tx, meeting_id, principal)
    _require_host(a, doing)
    ensure_running(a.meeting)
    r = await _open_recording(tx, meeting_id)
    if r is None:
        raise ConflictError("this meeting is not being recorded")
    return a, r


async def _auto_start(tx: Tx, m: Meeting) -> None:
    if m.auto_record and await _open_recording(tx, m.id) is None:
        await _begin(tx, m, None)
        await _sync_rooms(tx, m, None)


async def _stop_on_end(tx: Tx, m: Meeting, actor: Participant | None) -> None:
    for r in await _open_recordings(tx, m.id):  # the main room's and every breakout room's
        await _stop(tx, r, actor)


meeting_start_hooks.append(_auto_start)
meeting_end_hooks.append(_stop_on_end)
breakouts_service.room_change_hooks.append(_sync_rooms)


# -- reading and managing ----------------------------------------------------------------------------------


async def _reader_role(svc: Services, principal: Principal | None, meeting_id: str) -> None:
    access = await meetings_service.access(svc, principal, meeting_id)
    if access.role is None:
        raise ForbiddenError("you are not a participant of this meeting")


async def list_for(svc: Services, principal: Principal | None, meeting_id: str) -> list[Recording]:
    await _reader_role(svc, principal, meeting_id)
    async with svc.db.read() as session:
        rows = await session.execute(
            select(Recording).where(Recording.meeting_id == meeting_id).order_by(Recording.started_at, Recording.id)
        )
        return list(rows.scalars())


async def get(svc: Services, principal: Principal | None, recording_id: str) -> Recording:
    async with svc.db.read() as session:
        r = await session.get(Recording, recording_id)
    if r is None:
        raise NotFoundError(f"recording {recording_id} does not exist")
    await _reader_role(svc, principal, r.meeting_id)
    return r


async def _managed(tx: Tx, principal: Principal | None, recording_id: str, doing: str) -> tuple[Acting, Recording]:
    r = await tx.session.get(Recording, recording_id)
    if r is None:
        raise NotFoundError(f"recording {recording_id} does not exist")
    a = await acting(tx, r.meeting_id, principal)
    _require_host(a, doing)
    return a, r


async def rename(svc: Services, principal: Principal | None, recording_id: str, title: str) -> Recording:
    title = validation.text("title", title, max_len=TITLE_MAX)
    async with svc.db.write() as tx:
        a, r = await _managed(tx, principal, recording_id, "rename recordings")
        r.title = title
        await _emit(tx, r, EventType.RECORDING_UPDATED, a.participant)
        return r


async def delete(svc: Services, principal: Principal | None, recording_id: str) -> str:
    """Delete a recording and its files. An open recording must be stopped first (CONFLICT)."""
    async with svc.db.write() as tx:
        a, r = await _managed(tx, principal, recording_id, "delete recordings")
        if r.status in OPEN and r.breakout_room_id is not None:
            raise ConflictError(
                "a breakout room's recording runs until the rooms close or the meeting's recording stops; "
                "delete it after that"
            )
        if r.status in OPEN:
            raise ConflictError("stop the recording before deleting it")
        snapshot = recording_snapshot(r)
        await tx.session.delete(r)
        await tx.emit(
            r.meeting_id,
            EventType.RECORDING_DELETED,
            actor_id=a.participant.id if a.participant else None,
            data={"recording": snapshot},
        )
    # After the commit: a crash here leaves orphan files (harmless), never a row pointing at deleted files.
    shutil.rmtree(recording_dir(svc, recording_id), ignore_errors=True)
    return recording_id


async def share(
    svc: Services, principal: Principal | None, recording_id: str, *, expires_in_hours: int, passcode: str | None
) -> ShareLink:
    validation.int_range("expiresInHours", expires_in_hours, 1, SHARE_MAX_HOURS)
    passcode_hash = None
    if passcode is not None:
        passcode = validation.passcode("passcode", passcode)
        passcode_hash = await asyncio.to_thread(svc.creds.hash_secret, passcode)  # argon2: off the event loop
    async with svc.db.write() as tx:
        a, r = await _managed(tx, principal, recording_id, "share recordings")
        link = RecordingShare(
            id=secrets.token_urlsafe(16),
            recording_id=r.id,
            passcode_hash=passcode_hash,
            expires_at=utcnow() + timedelta(hours=expires_in_hours),
            created_by=a.participant.id if a.participant else None,
        )
        tx.session.add(link)
        await audit.record(
            tx,
            "recording.share_link_created",
            meeting_id=r.meeting_id,
            target_kind="recording",
            target_id=r.id,
            details={"expiresInHours": expires_in_hours, "passcode": passcode is not None},
        )
    return ShareLink(
        id=link.id,
        recording_id=recording_id,
        url=f"{svc.settings.base_url}/s/{link.id}",  # the player page (api/web.py); /r/ is by recording id
        expires_at=link.expires_at,
        passcode_protected=passcode is not None,
    )


async def count_view(svc: Services, recording_id: str) -> None:
    async with svc.db.write() as tx:
        meeting_id = (
            await tx.session.execute(
                update(Recording)
                .where(Recording.id == recording_id)
                .values(views=Recording.views + 1)
                .returning(Recording.meeting_id)
            )
        ).scalar_one_or_none()
        if meeting_id is not None:
            await audit.record(
                tx, "recording.viewed", meeting_id=meeting_id, target_kind="recording", target_id=recording_id
            )


async def count_download(svc: Services, recording_id: str, name: str) -> None:
    """A transcript or captions file fetched whole: logged (the signed URL says nothing of who; the address does)."""
    async with svc.db.write() as tx:
        r = await tx.session.get(Recording, recording_id)
        if r is not None:
            await audit.record(
                tx,
                "recording.downloaded",
                meeting_id=r.meeting_id,
                target_kind="recording",
                target_id=r.id,
                details={"file": name},
            )


async def open_share(svc: Services, share_id: str, passcode: str | None, client_key: str) -> Recording:
    """The recording behind a share link, if the link is valid (and the passcode right)."""
    async with svc.db.read() as session:
        link = await session.get(RecordingShare, share_id)
        r = await session.get(Recording, link.recording_id) if link is not None else None
    if link is None or r is None:
        raise NotFoundError("this share link does not exist")
    if link.expires_at <= utcnow():
        raise ForbiddenError("this share link has expired")
    if link.passcode_hash is not None:
        if not passcode:
            raise BadPasscodeError("this recording is protected by a passcode")
        # Counted before the check (per client and link, and per link from everyone), given back when right.
        mine = await svc.reserve("share-passcode", f"{client_key}|{share_id}", message="too many wrong passcodes")
        try:
            anyone = await svc.reserve("share-passcode-link", share_id, message="too many wrong passcodes")
        except RateLimitedError:
            await svc.refund("share-passcode", f"{client_key}|{share_id}", mine)
            raise
        if not await asyncio.to_thread(svc.creds.verify_secret, link.passcode_hash, passcode):
            raise BadPasscodeError("wrong passcode for this recording")
        await svc.refund("share-passcode", f"{client_key}|{share_id}", mine)
        await svc.refund("share-passcode-link", share_id, anyone)
    return r


# -- processing (called by the job runner, in-process or arq) ----------------------------------------------

PROGRESS_STEP = 5
"""Progress events at most every this many percent, so a long job does not flood subscribers."""


async def processing(svc: Services, recording_id: str, percent: int) -> bool:
    """A job reports progress. Returns False (and changes nothing) for a recording that is gone or finished, so
    a late report from a retried job cannot undo READY."""
    percent = max(0, min(100, percent))
    async with svc.db.write() as tx:
        r = await tx.session.get(Recording, recording_id)
        if r is None or r.status in (*OPEN, "ready"):
            return False
        first = r.status != "processing"
        if not first and percent < r.progress + PROGRESS_STEP and percent != 100:
            return True
        r.status, r.progress, r.error = "processing", max(r.progress if not first else 0, percent), None
        await _emit(tx, r, EventType.RECORDING_PROCESSING, None)
        return True


async def finished(svc: Services, recording_id: str, *, error: str | None = None) -> bool:
    """The jobs are done: READY, or FAILED with a reason people can read. False if the recording is gone."""
    async with svc.db.write() as tx:
        r = await tx.session.get(Recording, recording_id)
        if r is None or r.status in OPEN:
            return False
        r.lease_until = None
        if error is None:
            r.status, r.progress, r.error = "ready", 100, None
            await _emit(tx, r, EventType.RECORDING_READY, None)
        else:
            r.status, r.error = "failed", error[:500]
            await _emit(tx, r, EventType.RECORDING_FAILED, None)
        return True

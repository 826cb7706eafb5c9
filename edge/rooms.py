"""The rooms layer behind the signalling socket: implements :class:`edge.signalling.RoomHooks` and
:class:`edge.control.ControlHandler`.

Connects the pure :class:`edge.room.Room` policy to per-participant :class:`edge.session.Session`\\ s. Each
subscription runs in its own task (it waits for the client's answer), so one slow client never blocks the
signalling reader of another. A breakout room is a room of its own: media never crosses between rooms.

Host controls bind media here (ARCHITECTURE.md: "media obeys them even if a client misbehaves"): the control
feed tells the rooms who is muted by a host (their audio forwarders pause), who was removed (their session is
closed with 4403 and their still-valid join tokens are refused) and when the meeting ended (every session
closes with 4410, and later joins too).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from edge.control import ControlFeed
from edge.room import Room, TrackRef
from edge.session import NEGOTIATION_TIMEOUT_S, Session, SessionError
from edge.signalling import Connection
from protocol.media_control import ApiToEdge, MediaState, MeetingEnded, ParticipantMedia
from protocol.signalling import Answer, Candidate, CloseCode, Offer, bad_input

log = logging.getLogger("meetmesh.edge.rooms")

WATCH_TIMEOUT_S = 2.0
"""How long a first join waits for the meeting's state from the API before media starts unpoliced."""


@dataclass(slots=True)
class Enforced:
    """What the API told this edge to enforce in one meeting (``protocol.media_control``)."""

    ended: bool = False
    audio_blocked: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)


class Rooms:
    """Every meeting on this edge, and each joined participant's session."""

    def __init__(self, control: ControlFeed | None = None) -> None:
        self.rooms: dict[tuple[str, str | None], Room] = {}
        """By (meeting, breakout room or None for the main room)."""
        self.sessions: dict[tuple[str, str], Session] = {}
        self.conns: dict[tuple[str, str], Connection] = {}
        self.enforced: dict[str, Enforced] = {}
        self.control = control
        if control is not None:
            control.handler = self
        self._tasks: set[asyncio.Task[object]] = set()

    # -- signalling hooks -----------------------------------------------------------------------------------

    async def on_joined(self, conn: Connection, replaced: Connection | None) -> None:
        # A replacing connection starts media afresh: the old peer connection belongs to the old socket.
        meeting_id, pid = conn.meeting_id, conn.participant_id
        await self._drop(conn.meeting_id, conn.participant_id)
        if self.control is not None and meeting_id not in self.enforced:
            self.enforced[meeting_id] = Enforced()
            if not await self.control.watch(meeting_id, WATCH_TIMEOUT_S):
                log.warning("no media state for meeting %s from the API yet; serving it unpoliced", meeting_id)
        facts = self.enforced.get(meeting_id)
        if facts is not None and facts.ended:
            await conn.close(CloseCode.MEETING_ENDED, "the meeting has ended")
            return
        if facts is not None and pid in facts.removed:
            await conn.close(CloseCode.FORBIDDEN, "you were removed from this meeting")
            return
        if conn.closed:
            return
        self.rooms.setdefault(self._room_key(conn), Room(meeting_id))
        self.sessions[(meeting_id, pid)] = Session(pid, conn.send)
        self.conns[(meeting_id, pid)] = conn

    async def on_message(self, conn: Connection, msg: Offer | Answer | Candidate) -> None:
        session = self.sessions.get((conn.meeting_id, conn.participant_id))
        if session is None:
            await conn.send(bad_input("no media session for this connection"))
            return
        if isinstance(msg, Answer):
            try:
                session.handle_answer(msg.sdp)
            except SessionError as exc:
                await conn.send(bad_input(str(exc)))
            return
        if isinstance(msg, Candidate):
            await session.handle_candidate(msg)
            return
        try:
            new = await session.handle_offer(msg.sdp)
        except ValueError as exc:  # aiortc rejects malformed SDP with ValueError
            await conn.send(bad_input(f"offer refused: {exc}"))
            return
        room = self.rooms[self._room_key(conn)]
        for mid, kind, published in new:
            self._spawn(self._published(room, TrackRef(conn.participant_id, mid, kind), published.ready))
        if conn.participant_id not in room.members:
            for track in room.add_member(conn.participant_id):
                self._spawn(self._subscribe(room, conn.participant_id, track))

    async def on_left(self, conn: Connection) -> None:
        await self._drop(conn.meeting_id, conn.participant_id)

    # -- control feed -----------------------------------------------------------------------------------------

    async def on_control(self, msg: ApiToEdge) -> None:
        if isinstance(msg, MediaState):
            facts = self.enforced.get(msg.meeting_id)
            if facts is None:
                return  # nobody here any more
            facts.ended = msg.ended
            before = facts.audio_blocked
            facts.audio_blocked = set(msg.audio_blocked)
            facts.removed = set(msg.removed)
            if facts.ended:
                await self._end(msg.meeting_id)
                return
            for pid in before | facts.audio_blocked:
                self._enforce_audio(msg.meeting_id, pid)
            for pid in facts.removed:
                await self._remove(msg.meeting_id, pid)
        elif isinstance(msg, ParticipantMedia):
            facts = self.enforced.get(msg.meeting_id)
            if facts is None:
                return
            (facts.audio_blocked.add if msg.audio_blocked else facts.audio_blocked.discard)(msg.participant_id)
            (facts.removed.add if msg.removed else facts.removed.discard)(msg.participant_id)
            self._enforce_audio(msg.meeting_id, msg.participant_id)
            if msg.removed:
                await self._remove(msg.meeting_id, msg.participant_id)
        elif isinstance(msg, MeetingEnded):
            facts = self.enforced.get(msg.meeting_id)
            if facts is not None:
                facts.ended = True
                await self._end(msg.meeting_id)

    def _enforce_audio(self, meeting_id: str, pid: str) -> None:
        """Pause or resume ``pid``'s audio forwarders to match what the host decided."""
        session = self.sessions.get((meeting_id, pid))
        facts = self.enforced.get(meeting_id)
        if session is None or facts is None:
            return
        blocked = pid in facts.audio_blocked
        for published in session.published.values():
            forwarder = published.forwarder
            if forwarder is not None and published.codec is not None and published.codec.mimeType.startswith("audio/"):
                forwarder.paused = blocked

    async def _remove(self, meeting_id: str, pid: str) -> None:
        conn = self.conns.get((meeting_id, pid))
        if conn is not None:
            # Closing the socket ends its session; on_left then drops its media like any leave.
            await conn.close(CloseCode.FORBIDDEN, "you were removed from this meeting")

    async def _end(self, meeting_id: str) -> None:
        for (m, _pid), conn in list(self.conns.items()):
            if m == meeting_id:
                await conn.close(CloseCode.MEETING_ENDED, "the meeting has ended")

    # -- media ------------------------------------------------------------------------------------------------

    @staticmethod
    def _room_key(conn: Connection) -> tuple[str, str | None]:
        return (conn.meeting_id, conn.claims.room)

    async def _drop(self, meeting_id: str, participant_id: str) -> None:
        session = self.sessions.pop((meeting_id, participant_id), None)
        self.conns.pop((meeting_id, participant_id), None)
        for key, room in list(self.rooms.items()):
            if key[0] != meeting_id:
                continue
            drops = room.remove(participant_id)
            for member, tracks in drops.items():
                other = self.sessions.get((meeting_id, member))
                if other is not None:
                    for track in tracks:
                        self._spawn(other.unsubscribe(track))
            if room.empty:
                del self.rooms[key]
        if session is not None:
            await session.close()
        if not any(key[0] == meeting_id for key in self.rooms) and meeting_id in self.enforced:
            if not any(m == meeting_id for m, _ in self.sessions):
                del self.enforced[meeting_id]
                if self.control is not None:
                    await self.control.unwatch(meeting_id)

    async def _published(self, room: Room, track: TrackRef, ready: asyncio.Event) -> None:
        # The forwarder exists once DTLS is up and aiortc starts the receiver; only then can others link to it.
        await asyncio.wait_for(ready.wait(), NEGOTIATION_TIMEOUT_S)
        if track.kind == "audio":
            self._enforce_audio(room.meeting_id, track.publisher_id)  # muted before its audio started flowing
        for member in room.add_track(track):
            self._spawn(self._subscribe(room, member, track))

    async def _subscribe(self, room: Room, member: str, track: TrackRef) -> None:
        session = self.sessions.get((room.meeting_id, member))
        publisher = self.sessions.get((room.meeting_id, track.publisher_id))
        if session is None or publisher is None or not room.subscribed(member, track):
            return
        await session.subscribe(track, publisher.published[track.mid], track.kind)

    def _spawn(self, coro: Coroutine[Any, Any, object]) -> None:
        task: asyncio.Task[object] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[object]) -> None:
        # The task boundary for background negotiations: log with the reason, never crash the edge.
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.warning("media negotiation failed: %s", exc, exc_info=exc)

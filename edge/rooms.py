"""The rooms layer behind the signalling socket: implements :class:`edge.signalling.RoomHooks`.

Connects the pure :class:`edge.room.Room` policy to per-participant :class:`edge.session.Session`\\ s. Each
subscription runs in its own task (it waits for the client's answer), so one slow client never blocks the
signalling reader of another.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from edge.room import Room, TrackRef
from edge.session import NEGOTIATION_TIMEOUT_S, Session, SessionError
from edge.signalling import Connection
from protocol.signalling import Answer, Candidate, Offer, bad_input

log = logging.getLogger("meetmesh.edge.rooms")


class Rooms:
    """Every meeting on this edge, and each joined participant's session."""

    def __init__(self) -> None:
        self.rooms: dict[str, Room] = {}
        self.sessions: dict[tuple[str, str], Session] = {}
        self._tasks: set[asyncio.Task[object]] = set()

    async def on_joined(self, conn: Connection, replaced: Connection | None) -> None:
        # A replacing connection starts media afresh: the old peer connection belongs to the old socket.
        await self._drop(conn.meeting_id, conn.participant_id)
        self.rooms.setdefault(conn.meeting_id, Room(conn.meeting_id))
        self.sessions[(conn.meeting_id, conn.participant_id)] = Session(conn.participant_id, conn.send)

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
        room = self.rooms[conn.meeting_id]
        for mid, kind, published in new:
            self._spawn(self._published(room, TrackRef(conn.participant_id, mid, kind), published.ready))
        if conn.participant_id not in room.members:
            for track in room.add_member(conn.participant_id):
                self._spawn(self._subscribe(room, conn.participant_id, track))

    async def on_left(self, conn: Connection) -> None:
        await self._drop(conn.meeting_id, conn.participant_id)

    async def _drop(self, meeting_id: str, participant_id: str) -> None:
        session = self.sessions.pop((meeting_id, participant_id), None)
        room = self.rooms.get(meeting_id)
        if room is None:
            return
        drops = room.remove(participant_id)
        if session is not None:
            await session.close()
        for member, tracks in drops.items():
            other = self.sessions.get((meeting_id, member))
            if other is not None:
                for track in tracks:
                    self._spawn(other.unsubscribe(track))
        if room.empty:
            del self.rooms[meeting_id]

    async def _published(self, room: Room, track: TrackRef, ready: asyncio.Event) -> None:
        # The forwarder exists once DTLS is up and aiortc starts the receiver; only then can others link to it.
        await asyncio.wait_for(ready.wait(), NEGOTIATION_TIMEOUT_S)
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

"""The rooms layer behind the signalling socket: implements :class:`edge.signalling.RoomHooks` and
:class:`edge.control.ControlHandler`.

Connects the pure :class:`sfu.room.Room` policy to per-participant :class:`edge.session.Session`\\ s. Each
subscription runs in its own task (it waits for the client's answer), so one slow client never blocks the
signalling reader of another. A breakout room is a room of its own: media never crosses between rooms.

Host controls bind media here (ARCHITECTURE.md: "media obeys them even if a client misbehaves"): the control
feed tells the rooms who is muted by a host (their audio forwarders pause), who was removed (their session is
closed with 4403 and their still-valid join tokens are refused) and when the meeting ended (every session
closes with 4410, and later joins too).

Refusing happens in :meth:`Rooms.admit`, before the client is told ``joined``: the meeting is watched first, so
even an edge that just started, or whose feed just reconnected, decides on the API's current ``mediaState``
(which lists every removed participant) rather than on what it happened to hear earlier. The edge never asks
the API per join; a removal it once learned is also remembered (:class:`edge.removals.Removals`) for as long
as the participant's token can verify, so it is refused even while the API is unreachable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from edge.captions import Captioner
from edge.control import ControlFeed
from edge.mesh import EdgeMesh
from edge.recorder import Tapped, TrackTap, open_tap, plan_taps, recordable
from edge.removals import Removals
from edge.rtp_hooks import PublishedTrack
from edge.session import NEGOTIATION_TIMEOUT_S, Session, SessionError, SubscribeError
from edge.settings import Settings
from edge.signalling import Connection, Refusal
from protocol.media_control import (
    ApiToEdge,
    Caption,
    DominantSpeaker,
    MediaState,
    MeetingEdges,
    MeetingEnded,
    MeetingSize,
    ParticipantMedia,
    RecordingChanged,
)
from protocol.signalling import Answer, Candidate, CloseCode, Offer, VideoSize, bad_input
from protocol.tokens import JoinClaims
from sfu.room import Changes, Room, TrackRef
from sfu.speakers import SpeakerConfig, SpeakerDetector

log = logging.getLogger("meetmesh.edge.rooms")

WATCH_TIMEOUT_S = 2.0
SUBSCRIBE_RETRIES = 2
RETRY_AFTER_S = 0.5
"""How long a first join waits for the meeting's state from the API before media starts unpoliced."""
SPEAKER_TICK_S = 0.2
"""How often each room's speaker detector is asked for changes (last-N, top-N audio, dominant speaker)."""

READMIT_GRACE_S = 1.0
"""How long a join refused as removed is looked at again before the refusal is final. A host's admission (of
someone waiting, or removed without a block) reaches this edge over the feed while the admitted client fetches
its token and connects; the client may win that race, and 4403 tells it not to come back."""
RECHECK_S = 0.05

REMOVED: Refusal = (CloseCode.FORBIDDEN, "you were removed from this meeting")
ENDED: Refusal = (CloseCode.MEETING_ENDED, "the meeting has ended")

RoomKey = tuple[str, str | None]
"""(meeting, breakout room or None for the main room)."""


@dataclass(slots=True)
class Enforced:
    """What the API told this edge to enforce in one meeting (``protocol.media_control``)."""

    ended: bool = False
    audio_blocked: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)
    recordings: dict[str | None, str] = field(default_factory=dict)
    """The recordings capturing now, by room (None: the main room): each room's taps write under its own id."""
    participants: int = 0
    """Admitted participants in the whole meeting, on every edge (0: not told yet)."""


@dataclass(eq=False)
class LiveRoom:
    """A :class:`Room` policy with what runs it: the speaker detector, its ticker, and one queue of
    subscription changes per member (a member's changes must apply in order: an unsubscribe that overtook its
    subscribe would leave the track forwarded)."""

    key: RoomKey
    policy: Room
    speakers: SpeakerDetector
    ticker: asyncio.Task[None] | None = None
    queues: dict[str, asyncio.Queue[tuple[str, TrackRef]]] = field(default_factory=dict)
    workers: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    retries: dict[tuple[str, TrackRef], int] = field(default_factory=dict)
    """Subscriptions asked for again after a failed negotiation, by (member, track)."""


class Rooms:
    """Every meeting on this edge, and each joined participant's session."""

    def __init__(self, control: ControlFeed | None = None, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.rooms: dict[RoomKey, LiveRoom] = {}
        self.sessions: dict[tuple[str, str], Session] = {}
        self.conns: dict[tuple[str, str], Connection] = {}
        self.enforced: dict[str, Enforced] = {}
        self.control = control
        if control is not None:
            control.handler = self
        self._tasks: set[asyncio.Task[object]] = set()
        self.recording: dict[str, dict[tuple[str, str], tuple[str, TrackTap]]] = {}
        """Per meeting being recorded on this edge: its taps by (participant, mid), each with the recording (of the
        participant's room) it writes to."""
        self._joining: dict[str, int] = {}
        """Joins in progress per meeting (waiting for its state): the meeting stays watched meanwhile."""
        self.captioner: Captioner | None = None
        """The live-captions process (``settings.captions``), started with the first microphone."""
        self.removals = Removals(self.settings.join_token_ttl_s + self.settings.token_leeway_s)
        """Removals learned from the feed, kept while the removed participants' tokens may verify."""
        self.mesh: EdgeMesh | None = None
        """The relay to the meeting's other edges (``edge.mesh``); None: this edge serves its meetings alone."""

    # -- signalling hooks -----------------------------------------------------------------------------------

    async def admit(self, claims: JoinClaims) -> Refusal | None:
        meeting_id = claims.meeting_id
        self._joining[meeting_id] = self._joining.get(meeting_id, 0) + 1
        try:
            await self._watch(meeting_id)
        finally:
            self._leave_joining(meeting_id)
        refusal = self._refusal(meeting_id, claims.participant_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + READMIT_GRACE_S
        while refusal is REMOVED and loop.time() < deadline:  # at most READMIT_GRACE_S / RECHECK_S rounds
            await asyncio.sleep(RECHECK_S)
            refusal = self._refusal(meeting_id, claims.participant_id)
        if refusal is not None:
            await self._unwatch_if_idle(meeting_id)
        return refusal

    async def on_joined(self, conn: Connection, replaced: Connection | None) -> None:
        # A replacing connection starts media afresh: the old peer connection belongs to the old socket.
        meeting_id, pid = conn.meeting_id, conn.participant_id
        self._joining[meeting_id] = self._joining.get(meeting_id, 0) + 1
        try:
            await self._drop(meeting_id, pid)
            await self._watch(meeting_id)  # again: it may have been unwatched between admit and joined
        finally:
            self._leave_joining(meeting_id)
        # A removal or the end that arrived between admit and joined: refuse now, the client was told joined.
        refusal = self._refusal(meeting_id, pid)
        if refusal is not None:
            await conn.close(*refusal)
            return
        if conn.closed:
            return
        self._room(self._room_key(conn))
        self.sessions[(meeting_id, pid)] = Session(pid, conn.send, self.settings.max_publish_bitrate)
        self.conns[(meeting_id, pid)] = conn

    async def _watch(self, meeting_id: str) -> None:
        """Have the meeting's current state from the API (at most ``WATCH_TIMEOUT_S``): every join waits for it,
        not only the first, so a second join arriving meanwhile is not decided on an empty placeholder."""
        if self.control is None:
            return
        self.enforced.setdefault(meeting_id, Enforced())
        if not await self.control.watch(meeting_id, WATCH_TIMEOUT_S):
            log.warning("no media state for meeting %s from the API yet; serving it unpoliced", meeting_id)

    def _leave_joining(self, meeting_id: str) -> None:
        self._joining[meeting_id] -= 1
        if not self._joining[meeting_id]:
            del self._joining[meeting_id]

    def _refusal(self, meeting_id: str, pid: str) -> Refusal | None:
        facts = self.enforced.get(meeting_id)
        if facts is not None and facts.ended:
            return ENDED
        if (facts is not None and pid in facts.removed) or self.removals.removed(meeting_id, pid, time.monotonic()):
            return REMOVED
        return None

    async def on_message(self, conn: Connection, msg: Offer | Answer | Candidate | VideoSize) -> None:
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
        if isinstance(msg, VideoSize):
            if not session.set_video_size(msg.mid, msg.width, msg.height):
                await conn.send(bad_input(f"videoSize: mid {msg.mid!r} is not a video this edge sends you"))
            return
        try:
            new = await session.handle_offer(msg.sdp, msg.tracks)
        except ValueError as exc:  # aiortc rejects malformed SDP with ValueError
            await conn.send(bad_input(f"offer refused: {exc}"))
            return
        live = self.rooms.get(self._room_key(conn))
        if live is None:
            return
        for mid, kind, published in new:
            track = TrackRef(conn.participant_id, mid, kind, session.sources.get(mid, ""))
            self._spawn(self._published(live, track, published.ready))
        for mid, kind, source in session.take_stopped():  # e.g. a screen share ended: subscribers drop it
            stopped = TrackRef(conn.participant_id, mid, kind, source)
            if self.mesh is not None:
                self.mesh.unpublish_local(conn.meeting_id, stopped)
            self._apply(live, live.policy.unpublish(stopped))
        self._apply(live, live.policy.admit(conn.participant_id))

    async def on_left(self, conn: Connection) -> None:
        await self._drop(conn.meeting_id, conn.participant_id)

    # -- control feed -----------------------------------------------------------------------------------------

    async def on_control(self, msg: ApiToEdge) -> None:
        if isinstance(msg, MediaState):
            self.removals.replace(msg.meeting_id, msg.removed, time.monotonic())
            facts = self.enforced.get(msg.meeting_id)
            if facts is None:
                return  # nobody here any more
            facts.ended = msg.ended
            before = facts.audio_blocked
            facts.audio_blocked = set(msg.audio_blocked)
            facts.removed = set(msg.removed)
            facts.recordings = {r.room_id: r.recording_id for r in msg.room_recordings}
            if msg.recording_id is not None:
                facts.recordings[None] = msg.recording_id
            self._sync_recording(msg.meeting_id)
            self._set_meeting_size(msg.meeting_id, msg.participants)
            if facts.ended:
                await self._end(msg.meeting_id)
                return
            for pid in before | facts.audio_blocked:
                self._enforce_audio(msg.meeting_id, pid)
            for pid in facts.removed:
                await self._remove(msg.meeting_id, pid)
        elif isinstance(msg, ParticipantMedia):
            if msg.removed:
                self.removals.add(msg.meeting_id, msg.participant_id, time.monotonic())
            else:
                self.removals.discard(msg.meeting_id, msg.participant_id)
            facts = self.enforced.get(msg.meeting_id)
            if facts is None:
                return
            (facts.audio_blocked.add if msg.audio_blocked else facts.audio_blocked.discard)(msg.participant_id)
            (facts.removed.add if msg.removed else facts.removed.discard)(msg.participant_id)
            if self.mesh is not None:
                self.mesh.set_removed(msg.meeting_id, msg.participant_id, msg.removed)
            self._enforce_audio(msg.meeting_id, msg.participant_id)
            if msg.removed:
                await self._remove(msg.meeting_id, msg.participant_id)
        elif isinstance(msg, RecordingChanged):
            facts = self.enforced.get(msg.meeting_id)
            if facts is not None:
                if msg.recording_id is None:
                    facts.recordings.pop(msg.room_id, None)
                else:
                    facts.recordings[msg.room_id] = msg.recording_id
                self._sync_recording(msg.meeting_id)
        elif isinstance(msg, MeetingSize):
            self._set_meeting_size(msg.meeting_id, msg.participants)
        elif isinstance(msg, MeetingEdges):
            if self.mesh is not None and msg.meeting_id in self.enforced:
                self.mesh.set_meeting_edges(msg)
        elif isinstance(msg, MeetingEnded):
            facts = self.enforced.get(msg.meeting_id)
            if facts is not None:
                facts.ended = True
                await self._end(msg.meeting_id)

    def _set_meeting_size(self, meeting_id: str, participants: int) -> None:
        facts = self.enforced.get(meeting_id)
        if facts is None:
            return
        facts.participants = participants
        live = self.rooms.get((meeting_id, None))  # breakout rooms are rooms of their own size
        if live is not None:
            self._apply(live, live.policy.set_meeting_size(participants))

    def _enforce_audio(self, meeting_id: str, pid: str) -> None:
        """Pause or resume ``pid``'s audio forwarders to match what the host decided. Pausing (not
        unsubscribing) stops the audio at once and costs no renegotiation with every member; the detector is
        told too, so a muted participant never counts as a speaker."""
        session = self.sessions.get((meeting_id, pid))
        facts = self.enforced.get(meeting_id)
        if facts is None:
            return
        blocked = pid in facts.audio_blocked
        for live in self.rooms.values():
            if live.key[0] == meeting_id:
                live.speakers.set_muted(pid, blocked)
        if self.mesh is not None:
            self.mesh.set_audio_blocked(meeting_id, pid, blocked)  # the same participant's audio from another edge
        if session is None:
            return
        for published in session.published.values():
            forwarder = published.forwarder
            if forwarder is not None and published.codec is not None and published.codec.mimeType.startswith("audio/"):
                forwarder.paused = blocked

    async def _remove(self, meeting_id: str, pid: str) -> None:
        if self.mesh is not None:
            self.mesh.set_removed(meeting_id, pid, True)
        conn = self.conns.get((meeting_id, pid))
        if conn is not None:
            # Closing the socket ends its session; on_left then drops its media like any leave.
            await conn.close(*REMOVED)

    async def _end(self, meeting_id: str) -> None:
        for (m, _pid), conn in list(self.conns.items()):
            if m == meeting_id:
                await conn.close(*ENDED)

    # -- recording ----------------------------------------------------------------------------------------------

    def _sync_recording(self, meeting_id: str) -> None:
        """Make the taps match what should be recorded now: every flowing, recordable track of everyone in a room
        the API says is capturing, into that room's recording, nothing otherwise. A participant's room is the one
        its join token names (``None``: the main room), the room whose media it sends and hears. Each breakout
        room has a recording of its own: a recording never mixes rooms (a private breakout conversation would
        otherwise be mixed into what everyone may play back)."""
        facts = self.enforced.get(meeting_id)
        wanted = facts.recordings if facts is not None else {}
        taps = self.recording.get(meeting_id, {})
        tracks: list[Tapped] = []
        for (m, pid), session in self.sessions.items():
            conn = self.conns.get((m, pid))
            if m != meeting_id or conn is None:
                continue
            for mid, published in session.published.items():
                if published.ready.is_set() and published.codec is not None and recordable(published.codec.mimeType):
                    tracks.append(Tapped(pid, mid, conn.claims.room))
        plan = plan_taps({key: rec for key, (rec, _tap) in taps.items()}, tracks, wanted)
        for pid, mid in plan.close:
            _rec, tap = taps.pop((pid, mid))
            owner = self.sessions.get((meeting_id, pid))
            if owner is not None and mid in owner.published:
                owner.published[mid].record(None)
            tap.close()  # the recording stopped or paused, the participant left or changed rooms, the track ended
        if not wanted:
            self.recording.pop(meeting_id, None)
            return
        taps = self.recording.setdefault(meeting_id, taps)
        for t, recording_id in plan.open:
            publisher = self.sessions[(meeting_id, t.participant_id)]
            claims = self.conns[(meeting_id, t.participant_id)].claims
            published = publisher.published[t.mid]
            assert published.codec is not None  # planned from tracks with a codec
            mime = published.codec.mimeType
            source = publisher.sources.get(t.mid, "") or ("microphone" if mime.startswith("audio") else "camera")
            track_id = f"{t.participant_id}-{t.mid}-{secrets.token_hex(3)}"  # a reconnect reuses mids
            try:
                tap = open_tap(
                    self.settings.recordings_dir / recording_id,
                    track_id,
                    mime,
                    t.participant_id,
                    claims.display_name,
                    source,
                )
            except (OSError, ValueError) as exc:
                log.error("cannot record track %s of %s in meeting %s: %s", t.mid, t.participant_id, meeting_id, exc)
                continue
            taps[(t.participant_id, t.mid)] = (recording_id, tap)
            published.record(tap.on_rtp)

    # -- rooms and speakers -----------------------------------------------------------------------------------

    @staticmethod
    def _room_key(conn: Connection) -> RoomKey:
        return (conn.meeting_id, conn.claims.room)

    def _room(self, key: RoomKey) -> LiveRoom:
        live = self.rooms.get(key)
        if live is None:
            s = self.settings
            policy = Room(
                key[0],
                last_n=s.last_n,
                top_audio_threshold=s.top_audio_threshold,
                top_audio_n=s.top_audio_n,
                audio_hang_s=s.audio_hang_s,
            )
            live = LiveRoom(key, policy, SpeakerDetector(SpeakerConfig(top_k=s.top_audio_n)))
            facts = self.enforced.get(key[0])
            for pid in facts.audio_blocked if facts else ():
                live.speakers.set_muted(pid, True)
            if facts is not None and key[1] is None:
                policy.set_meeting_size(facts.participants)  # no members yet: nothing to change
            live.ticker = asyncio.create_task(self._tick_forever(live), name=f"speakers-{key}")
            self.rooms[key] = live
            if self.mesh is not None:
                for track, published in self.mesh.remote_refs(key[0], key[1]):
                    self._add_remote(live, track, published)
        return live

    async def _tick_forever(self, live: LiveRoom) -> None:
        meeting_id = live.key[0]
        while True:
            await asyncio.sleep(SPEAKER_TICK_S)
            now = time.monotonic()
            update = live.speakers.tick(now)
            # Every tick, changed or not: the policy's audio hang time runs on it.
            self._apply(live, live.policy.update_speakers(update.recent, update.loudest, now))
            if update.dominant_changed and self.control is not None and live.key[1] is None:
                if self.mesh is None or self.mesh.reports_speakers(meeting_id):
                    await self.control.report(DominantSpeaker(meeting_id, update.dominant))

    def _audio_level_sink(self, live: LiveRoom, pid: str) -> Callable[[int, bool], None]:
        observe = live.speakers.observe
        clock = time.monotonic

        def on_level(level: int, voice: bool) -> None:  # per audio packet: keep it to one call
            observe(pid, level, clock())

        return on_level

    def _apply(self, live: LiveRoom, changes: Changes) -> None:
        """Queue each member's subscription changes; its worker applies them one at a time, in order."""
        for member, diff in changes.items():
            queue = live.queues.get(member)
            if queue is None:
                queue = live.queues[member] = asyncio.Queue()
                live.workers[member] = asyncio.create_task(self._member_worker(live, member, queue))
            # A swap (another speaker's camera in a last-N slot) is a remove then an add for now: the new track
            # is renegotiated so the client learns whose it is.
            for track in diff.remove:
                queue.put_nowait(("remove", track))
            for track in diff.add:
                queue.put_nowait(("add", track))
        if self.mesh is not None:
            self.mesh.sync_wants(live.key[0], live.policy)  # pull what members now need from other edges

    async def _member_worker(self, live: LiveRoom, member: str, queue: asyncio.Queue[tuple[str, TrackRef]]) -> None:
        meeting_id = live.key[0]
        while True:
            # Everything queued by now goes into one renegotiation; per track, the last change wins (a remove
            # then an add of the same track while earlier offers were in flight is no change at all).
            last: dict[TrackRef, str] = {}
            op, track = await queue.get()
            last[track] = op
            while not queue.empty():
                op, track = queue.get_nowait()
                last.pop(track, None)  # keep the order of the latest change
                last[track] = op
            session = self.sessions.get((meeting_id, member))
            if session is None:
                continue
            remove = [t for t, op in last.items() if op == "remove" and t in session.subscribed]
            add = []
            for t, op in last.items():
                # Not taken back by a later change meanwhile, and not already there.
                if op != "add" or t in session.subscribed or not live.policy.subscribed(member, t):
                    continue
                source = self._source(meeting_id, t)
                if source is not None:
                    add.append((t, source, t.kind))
            # A removal and an addition of the same kind and source (last-N: a new speaker's camera takes a quiet
            # one's slot) move the existing sender to the new track: no renegotiation, one `tracks` message.
            moves = []
            for entry in list(add):
                old = next((t for t in remove if (t.kind, t.source) == (entry[0].kind, entry[0].source)), None)
                if old is not None:
                    moves.append((old, entry[0], entry[1]))
                    remove.remove(old)
                    add.remove(entry)
            if moves:
                moved = await session.move(moves)
                for old, new, published in moves:
                    if new not in moved:  # could not be moved (another codec): renegotiate it
                        remove.append(old)
                        add.append((new, published, new.kind))
            try:
                await session.update(add=add, remove=remove)
            except SubscribeError as exc:
                log.warning("media negotiation with %s failed: %s", member, exc)
                self._retry_later(live, member, queue, [t for t in exc.keys if isinstance(t, TrackRef)])
            except (SessionError, TimeoutError, ConnectionError) as exc:
                log.warning("media negotiation with %s failed: %s", member, exc)
                self._retry_later(live, member, queue, [t for t, _, _ in add])
            except Exception:
                # The task boundary for one member's negotiations: log with ids, keep serving it.
                log.exception("media negotiation with %s in meeting %s failed", member, meeting_id)

    def _retry_later(
        self, live: LiveRoom, member: str, queue: asyncio.Queue[tuple[str, TrackRef]], tracks: list[TrackRef]
    ) -> None:
        """Ask again, once, for tracks a failed negotiation did not deliver (a transient failure - a slow
        client, a transport still connecting - must not leave someone without a camera for the whole call)."""
        again = [t for t in tracks if live.retries.get((member, t), 0) < SUBSCRIBE_RETRIES]
        for t in again:
            live.retries[(member, t)] = live.retries.get((member, t), 0) + 1

        async def later() -> None:
            await asyncio.sleep(RETRY_AFTER_S)
            for t in again:
                if live.policy.subscribed(member, t):
                    queue.put_nowait(("add", t))

        if again:
            self._spawn(later())

    # -- media ------------------------------------------------------------------------------------------------

    async def _drop(self, meeting_id: str, participant_id: str) -> None:
        session = self.sessions.pop((meeting_id, participant_id), None)
        self.conns.pop((meeting_id, participant_id), None)
        if self.mesh is not None:
            self.mesh.unpublish_participant(meeting_id, participant_id)
        self._sync_recording(meeting_id)  # its taps close with it
        for key, live in list(self.rooms.items()):
            if key[0] != meeting_id:
                continue
            self._apply(live, live.policy.leave(participant_id))
            live.speakers.remove(participant_id)
            worker = live.workers.pop(participant_id, None)
            live.queues.pop(participant_id, None)
            if worker is not None:
                worker.cancel()
            # Joined but not yet offered (a browser still asking for its camera) is not in the policy yet, but
            # is in the room: closing it now would leave that participant's offer without a room.
            if live.policy.empty and not any(self._room_key(c) == key for c in self.conns.values()):
                await self._close_room(live)
        if session is not None:
            await session.close()
        await self._unwatch_if_idle(meeting_id)

    async def _unwatch_if_idle(self, meeting_id: str) -> None:
        # Stop watching once nobody is here or on the way in (a join may be waiting for the meeting's state).
        if meeting_id in self.enforced and meeting_id not in self._joining:
            if not any(m == meeting_id for m, _ in self.sessions) and not any(k[0] == meeting_id for k in self.rooms):
                del self.enforced[meeting_id]
                if self.mesh is not None:
                    self.mesh.leave_meeting(meeting_id)
                if self.control is not None:
                    await self.control.unwatch(meeting_id)

    async def _close_room(self, live: LiveRoom) -> None:
        del self.rooms[live.key]
        tasks = [t for t in (live.ticker, *live.workers.values()) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def close(self) -> None:
        """Stop every room's tasks (the app is shutting down)."""
        for live in list(self.rooms.values()):
            await self._close_room(live)
        if self.captioner is not None:
            await self.captioner.close()
            self.captioner = None
        if self.mesh is not None:
            self.mesh.close()

    # -- live captions ----------------------------------------------------------------------------------------

    def _captions(self) -> Captioner:
        """The captioning process, started with the first microphone (its model loads meanwhile)."""
        if self.captioner is None:
            self.captioner = Captioner(
                self._caption,
                self.settings.captions_model,
                self.settings.captions_threads,
                self.settings.captions_language,
            )
            self.captioner.start()
        return self.captioner

    async def _caption(
        self, key: str, text: str, start_s: float, end_s: float, heard_at: float, language: str = ""
    ) -> None:
        meeting_id, participant_id, _mid = key.split("/", 2)
        if self.control is not None and (meeting_id, participant_id) in self.sessions:
            await self.control.report(Caption(meeting_id, participant_id, text, language))

    async def _published(self, live: LiveRoom, track: TrackRef, ready: asyncio.Event) -> None:
        # The forwarder exists once DTLS is up and aiortc starts the receiver; only then can others link to it.
        # However long that takes (a starved host has taken over 10 s): giving up would leave a participant
        # sending media nobody ever sees. The wait ends with the publisher's session or the room.
        publisher = (live.key[0], track.publisher_id)
        owner = self.sessions.get(publisher)
        while not ready.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ready.wait(), NEGOTIATION_TIMEOUT_S)
            if self.rooms.get(live.key) is not live or owner is None or self.sessions.get(publisher) is not owner:
                return
            if not ready.is_set():
                log.info("participant %s: track %s not flowing yet; still waiting", track.publisher_id, track.mid)
        if self.rooms.get(live.key) is not live:
            return
        session = self.sessions.get(publisher)
        if session is None:
            return
        if track.kind == "audio":
            self._enforce_audio(live.key[0], track.publisher_id)  # muted before its audio started flowing
            published = session.published[track.mid]
            published.on_audio_level = self._audio_level_sink(live, track.publisher_id)
            if self.settings.captions and track.source in ("", "microphone"):
                key = f"{live.key[0]}/{track.publisher_id}/{track.mid}"
                published.on_caption_rtp = self._captions().tap(key).on_rtp
        self._apply(live, live.policy.publish(track))
        if self.mesh is not None:
            self.mesh.publish_local(live.key[0], live.key[1], track, session.published[track.mid])
        self._sync_recording(live.key[0])

    # -- publishers on other edges (edge.mesh) ------------------------------------------------------------------

    def _source(self, meeting_id: str, track: TrackRef) -> PublishedTrack | None:
        """The publisher side of ``track``: a local session's, or a track pulled from another edge - the rooms
        subscribe to either the same way."""
        publisher = self.sessions.get((meeting_id, track.publisher_id))
        if publisher is not None and track.mid in publisher.published:
            return publisher.published[track.mid]
        if self.mesh is not None:
            remote = self.mesh.remote.get(track.mid)
            if remote is not None and not remote.hidden:
                return remote.published
        return None

    def remote_published(self, meeting_id: str, room: str | None, track: TrackRef, published: PublishedTrack) -> None:
        live = self.rooms.get((meeting_id, room))
        if live is not None:  # else the room picks it up when it opens
            self._add_remote(live, track, published)

    def _add_remote(self, live: LiveRoom, track: TrackRef, published: PublishedTrack) -> None:
        if track.kind == "audio":
            # Meeting-wide speakers: remote microphones feed this edge's detector like local ones.
            published.on_audio_level = self._audio_level_sink(live, track.publisher_id)
        self._apply(live, live.policy.publish(track))

    def remote_unpublished(self, meeting_id: str, room: str | None, track: TrackRef) -> None:
        live = self.rooms.get((meeting_id, room))
        if live is not None:
            self._apply(live, live.policy.unpublish(track))

    def _spawn(self, coro: Coroutine[Any, Any, object]) -> None:
        task: asyncio.Task[object] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[object]) -> None:
        # The task boundary for background negotiations: log with the reason, never crash the edge.
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.warning("media negotiation failed: %s", exc, exc_info=exc)

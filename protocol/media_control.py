"""The control feed between the API and its media edges: JSON text frames on the API's WebSocket
``/internal/edge/feed``.

Host actions that affect media (mute, remove, end) must bind the media plane even when a client misbehaves,
and the edge must never read the API's database (ARCHITECTURE.md). So each edge keeps one authenticated
socket to an API process (any one: with ``REDIS_URL`` every API process sees every meeting's events) and
*watches* the meetings it hosts. The API answers a ``watch`` with the meeting's ``mediaState`` and then sends
what changes; the edge sends back what only it can observe (the dominant speaker).

Edge → API                                   API → edge
- ``watch {meetingId}``                      - ``mediaState {meetingId, ended, audioBlocked[], removed[],
                                               recordingId, roomRecordings[], participants}``
- ``unwatch {meetingId}``                      (after ``watch``, and again whenever the API may have missed
- ``dominantSpeaker {meetingId,                 events: the edge replaces its state with it)
  participantId|null}``                      - ``participantMedia {meetingId, participantId, audioBlocked,
                                               removed}`` (one participant's facts changed)
                                             - ``recording {meetingId, recordingId|null, roomId?}`` (capture
                                               on/off, of the main room or of breakout room ``roomId``)
                                             - ``meetingSize {meetingId, participants}`` (admitted
                                               participants, on every edge: the large-meeting audio rule)
                                             - ``meetingEnded {meetingId}``
                                             - ``error {code, message}`` (a frame was refused; feed goes on)
- ``register {edgeId, region,                - ``relayCredentials {token, expiresAt}`` (answers register)
  signallingUrl, relayAddr, relayFingerprint,  - ``meetingEdges {meetingId, edges[]}`` (the edges a watched
  sessions, forwardedPps, cpu, capacity}``       meeting spans, when that changes: the relay mesh's members)
  (on connect, then every 5 s: the registry
  the API places joins from)

The edge authenticates the upgrade with ``Authorization: Bearer <secret>`` (``EDGE_CONTROL_SECRET`` on the
edge, ``API_EDGE_SECRET`` on the API); a wrong or missing secret closes the socket with 4401.

Standard library only: the API and the edge both import this.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, ClassVar

from protocol import wire
from protocol.wire import NON_EMPTY, Check

FEED_PATH = "/internal/edge/feed"
UNAUTHENTICATED_CLOSE = 4401
"""Close code for a bad secret (the same number the signalling socket uses for a bad token)."""


Id = Annotated[str, NON_EMPTY]
Count = Annotated[int, Check(ge=0)]


class ControlMessageError(wire.WireError):
    """A frame is not a valid control message; the text says why and is safe to send back."""


@dataclass(frozen=True, slots=True)
class Watch:
    """Edge → API: start sending this meeting's media state (the edge has participants in it)."""

    TYPE: ClassVar[str] = "watch"
    meeting_id: Id


@dataclass(frozen=True, slots=True)
class Unwatch:
    """Edge → API: stop (the edge's last participant in the meeting left)."""

    TYPE: ClassVar[str] = "unwatch"
    meeting_id: Id


@dataclass(frozen=True, slots=True)
class DominantSpeaker:
    """Edge → API: who is the dominant speaker now (None: nobody speaks). Sent on change only."""

    TYPE: ClassVar[str] = "dominantSpeaker"
    meeting_id: Id
    participant_id: Id | None


@dataclass(frozen=True, slots=True)
class Caption:
    """Edge → API: a line of live captions, what ``participant_id`` just said (at most ``MAX_CAPTION_CHARS``)."""

    TYPE: ClassVar[str] = "caption"
    meeting_id: Id
    participant_id: Id
    text: Annotated[str, Check(min_len=1, max_len=MAX_CAPTION_CHARS)]
    language: Annotated[str, LANGUAGE] = field(default="", metadata={"omit_empty": True})
    """ISO 639-1 code the line was decoded in ("" from an edge that does not say: unknown)."""


MAX_CAPTION_CHARS = 500
MAX_ROOMS = 1000
"""Bound on the breakout rooms one ``mediaState`` lists (the API allows 50 per meeting)."""
LANGUAGE = Check(max_len=12, pattern=r"([a-z]{2,3}(-[a-z0-9]{2,8})?)?", noun="an ISO 639 code such as 'en' or 'pt-br'")


@dataclass(frozen=True, slots=True)
class Register:
    """Edge → API: who this edge is and how loaded, first on every (re)connection and then every
    ``REGISTER_EVERY_S`` as a heartbeat; an edge not heard from for ``EDGE_TTL_S`` leaves the registry, so joins
    stop being placed on it. The API answers with :class:`RelayCredentials`."""

    TYPE: ClassVar[str] = "register"
    edge_id: Id
    region: Annotated[str, Check(min_len=1, max_len=64)]
    signalling_url: Annotated[str, Check(min_len=1, max_len=2048)]
    """What clients connect to (``ws(s)://…/edge/signal``); its ``http(s)`` form with ``/healthz`` is the probe."""
    relay_addr: Annotated[str, Check(max_len=300)] = ""
    """``host:port`` of the edge's relay endpoint (UDP, QUIC); empty: this edge does not relay."""
    relay_fingerprint: Annotated[str, Check(max_len=64)] = ""
    """SHA-256 of its relay certificate (hex): other edges pin it."""
    sessions: Count = 0
    forwarded_pps: Annotated[float, Check(ge=0)] = 0.0
    cpu: Annotated[float, Check(ge=0, le=64)] = 0.0
    """Busy fraction of the edge process's core (can exceed 1 briefly with helper threads)."""
    capacity: Annotated[int, Check(ge=1)] = 500
    """Sessions this edge is sized for (``EDGE_CAPACITY``): placement weighs load against it."""


REGISTER_EVERY_S = 5.0
EDGE_TTL_S = 15.0


@dataclass(frozen=True, slots=True)
class RelayCredentials:
    """API → edge: the edge's relay token (``protocol.tokens.RELAY_TOKEN_AUDIENCE``), renewed before it expires."""

    TYPE: ClassVar[str] = "relayCredentials"
    token: Id
    expires_at: Count


@dataclass(frozen=True, slots=True)
class EdgeRef:
    edge_id: Id
    region: str = ""
    relay_addr: str = ""
    relay_fingerprint: str = ""


@dataclass(frozen=True, slots=True)
class MeetingEdges:
    """API → edge: the edges a watched meeting spans now, in the order its relay trees are built from
    (``relay.mesh``: first to watch first). Sent when it changes."""

    TYPE: ClassVar[str] = "meetingEdges"
    meeting_id: Id
    edges: tuple[EdgeRef, ...]


@dataclass(frozen=True, slots=True)
class RoomRecording:
    """A breakout room capturing now, into its own recording (a recording never mixes rooms)."""

    room_id: Id
    recording_id: Id


@dataclass(frozen=True, slots=True)
class MediaState:
    """API → edge: everything the edge must enforce for a meeting, as of now. Replaces earlier state."""

    TYPE: ClassVar[str] = "mediaState"
    meeting_id: Id
    ended: bool
    audio_blocked: tuple[str, ...]
    """Participants muted by a host: their audio must not be forwarded."""
    removed: tuple[str, ...]
    """Participants removed from the meeting (or back in its waiting room): disconnect them and refuse their
    join tokens."""
    recording_id: Id | None = None
    """The main room's recording capturing now (None: not recording, or paused): the edge writes the main room's
    tracks under its id."""
    participants: Count = 0
    """Admitted participants in the whole meeting (on every edge)."""
    room_recordings: Annotated[tuple[RoomRecording, ...], Check(max_items=MAX_ROOMS)] = field(
        default=(), metadata={"omit_empty": True}
    )
    """The breakout rooms capturing now, each into its own recording (empty: none; left out then)."""


@dataclass(frozen=True, slots=True)
class MeetingSize:
    """API → edge: the number of admitted participants in the whole meeting changed. A meeting spread over
    several edges is "large" (only its loudest speakers' audio is forwarded) by this count, not by how many
    participants one edge holds."""

    TYPE: ClassVar[str] = "meetingSize"
    meeting_id: Id
    participants: Count


@dataclass(frozen=True, slots=True)
class RecordingChanged:
    """API → edge: capture started, paused, resumed or stopped (``recording_id`` None: do not capture) in the
    main room, or in breakout room ``room_id``."""

    TYPE: ClassVar[str] = "recording"
    meeting_id: Id
    recording_id: Id | None
    room_id: Id | None = field(default=None, metadata={"omit_empty": True})
    """None: the main room (the key is left out, as before breakout rooms were recorded)."""


@dataclass(frozen=True, slots=True)
class ParticipantMedia:
    """API → edge: what the edge enforces for one participant changed."""

    TYPE: ClassVar[str] = "participantMedia"
    meeting_id: Id
    participant_id: Id
    audio_blocked: bool
    """A host muted the participant: drop its audio until this turns false (it unmuted, when allowed)."""
    removed: bool
    """A host removed the participant: close its session and refuse its join tokens until it is admitted
    again (``removed`` false) - a removed participant's still-valid token must not get it back in."""


@dataclass(frozen=True, slots=True)
class MeetingEnded:
    """API → edge: the meeting ended for all; close every session in it."""

    TYPE: ClassVar[str] = "meetingEnded"
    meeting_id: Id


@dataclass(frozen=True, slots=True)
class FeedError:
    """API → edge: a frame was refused (``code`` is a ``protocol.errors.ErrorCode`` value)."""

    TYPE: ClassVar[str] = "error"
    code: Id
    message: Id


EdgeToApi = Watch | Unwatch | DominantSpeaker | Caption | Register
ApiToEdge = (
    MediaState
    | ParticipantMedia
    | RecordingChanged
    | MeetingSize
    | MeetingEnded
    | FeedError
    | RelayCredentials
    | MeetingEdges
)
ControlMessage = EdgeToApi | ApiToEdge


def encode(msg: ControlMessage) -> str:
    return wire.encode(msg)


_from_edge = wire.Codec(ControlMessageError, Watch, Unwatch, DominantSpeaker, Caption, Register)
_from_api = wire.Codec(
    ControlMessageError,
    MediaState,
    ParticipantMedia,
    RecordingChanged,
    MeetingSize,
    MeetingEnded,
    FeedError,
    RelayCredentials,
    MeetingEdges,
)


def parse_edge_to_api(text: str | bytes) -> EdgeToApi:
    """Decode a frame an edge sent (what the API reads)."""
    msg: EdgeToApi = _from_edge.decode(text)
    return msg


def parse_api_to_edge(text: str | bytes) -> ApiToEdge:
    """Decode a frame the API sent (what the edge reads)."""
    msg: ApiToEdge = _from_api.decode(text)
    return msg

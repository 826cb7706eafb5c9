"""Signalling between a client and the media edge: JSON text frames on the edge's WebSocket (``/edge/signal``).

Every frame is one JSON object with a ``type``; other keys are camelCase, as on the GraphQL API. The session:

1. the client connects and, within the edge's join timeout, sends ``join`` with the join token from
   ``joinMeeting``/``refreshJoinToken``;
2. the edge verifies it and answers ``joined`` (or closes with a code from :class:`CloseCode`);
3. both sides then exchange ``offer``/``answer``/``candidate`` (SDP and ICE, RFC 8829 JSEP) until the client
   sends ``leave`` or either side closes.

What a track *is* travels beside the SDP, in an ``offer``'s optional ``tracks`` object keyed by mid (SDP cannot say
"this video is a screen share", and msid stream ids are the sender's to choose):

* client → edge: ``{"tracks": {"1": {"source": "screen"}}}`` - the source of each track the client publishes
  (``camera``, ``microphone`` or ``screen``); a mid left out means the kind's usual source (camera/microphone);
* edge → client: ``{"tracks": {"4": {"source": "camera", "participantId": "…"}}}`` - whose track each edge
  send-only mid carries, so the client can put it in the right tile. Mids of ended (inactive) tracks are absent.

When the edge moves a sender to another publisher without renegotiating (last-N: a new speaker's camera takes
the slot of one who went quiet) it sends ``{"type": "tracks", "tracks": {…}}`` with the same full map: the
media on that mid is the new publisher's from its next key frame.

A client that receives video may tell the edge how big it shows each one: ``{"type": "videoSize", "mid": "4",
"width": 640, "height": 360}`` (device pixels; 0 x 0 when not shown: the edge then sends nothing on that mid
until a size comes again, and resumes from a key frame). The edge picks a simulcast layer that covers that size
and no bigger (a publisher's camera comes in up to three sizes; see ``sfu.layers``).

Renegotiation follows the "perfect negotiation" pattern (W3C webrtc-pc section 10.7 example; RFC 8829 section
4.1.8.1 on glare): the edge is the *impolite* peer and ignores a client ``offer`` that collides with its own
outstanding one (without blocking the socket); clients are *polite*: on an edge offer while their own is pending
they roll back, answer the edge's, then offer again.

A frame the edge cannot use is answered with ``error`` (code ``BAD_INPUT``) and the socket stays open; problems
with the session itself (token, timeout, replacement) close it with a code from :class:`CloseCode`, whose
reason text is human-readable and never needed by a program.

==== ======================= =====================================================================
code name                    meaning
==== ======================= =====================================================================
1000 NORMAL                  the client sent ``leave``, or the session ended normally
1011 INTERNAL                unexpected edge failure (logged there); reconnect
1012 SERVICE_RESTART         the edge process is stopping (sent by its web server); reconnect
1013 TRY_AGAIN_LATER         the edge cannot verify tokens yet (no API key); retry after a pause
4400 BAD_INPUT               the session cannot continue because of what the client sent
4401 UNAUTHENTICATED         join token missing, malformed, badly signed, expired, wrong audience/issuer
4403 FORBIDDEN               the token is valid but does not allow this (e.g. removed from the meeting)
4408 JOIN_TIMEOUT            no valid ``join`` within the edge's join timeout
4409 REPLACED                a newer connection joined as the same participant; do not reconnect
4410 MEETING_ENDED           the meeting ended; do not reconnect
==== ======================= =====================================================================

4000-4999 is the range RFC 6455 section 7.4.2 leaves to applications; the last three digits follow the
HTTP status with the same meaning so they are easy to remember. Clients should reconnect (with a fresh token
if it expired) on 1011, 1012, 1013 and 4401-after-expiry, and should not on 4403, 4409 and 4410.

Standard library only: the edge, the web SDK's tests and ``loadtests`` all import this.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Annotated, Any, ClassVar

from protocol import wire
from protocol.errors import ErrorCode
from protocol.wire import Check

MAX_CLOSE_REASON_BYTES = 123
"""RFC 6455 section 5.5: a control frame's payload is at most 125 bytes, two of which are the close code."""


class CloseCode(IntEnum):
    """WebSocket close codes the edge uses; see the table in this module's docstring."""

    NORMAL = 1000
    INTERNAL = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    BAD_INPUT = 4400
    UNAUTHENTICATED = 4401
    FORBIDDEN = 4403
    JOIN_TIMEOUT = 4408
    REPLACED = 4409
    MEETING_ENDED = 4410


RECONNECTABLE = frozenset({CloseCode.INTERNAL, CloseCode.SERVICE_RESTART, CloseCode.TRY_AGAIN_LATER})
"""Codes after which a client should reconnect with its (or a refreshed) token."""


def close_reason(text: str) -> str:
    """``text`` cut to fit a close frame (UTF-8, without splitting a character)."""
    data = text.encode()
    if len(data) <= MAX_CLOSE_REASON_BYTES:
        return text
    return data[: MAX_CLOSE_REASON_BYTES - 3].decode(errors="ignore") + "..."


class SignallingMessageError(wire.WireError):
    """A frame is not a valid signalling message; the text says why and is safe to send back."""


# -- messages ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Join:
    """Client → edge, first frame: authenticate with a join token."""

    TYPE: ClassVar[str] = "join"
    token: str


@dataclass(frozen=True, slots=True)
class Leave:
    """Client → edge: the participant leaves; the edge closes with 1000."""

    TYPE: ClassVar[str] = "leave"


TRACK_SOURCES = ("camera", "microphone", "screen")
"""What a published track shows; a screen share's audio is also ``screen``."""
MIDS = Check(noun="an object keyed by mid")


@dataclass(frozen=True, slots=True)
class TrackInfo:
    """What one m-line (mid) carries, sent beside the SDP in an ``offer``."""

    source: Annotated[str, Check(choices=TRACK_SOURCES)]
    """One of :data:`TRACK_SOURCES`."""
    participant_id: str | None = field(default=None, metadata={"omit_empty": True})
    """Edge → client only: whose track it is."""


@dataclass(frozen=True, slots=True)
class Offer:
    """Either direction: an SDP offer (RFC 8829 section 5.2), with what its mids carry (see module docstring)."""

    TYPE: ClassVar[str] = "offer"
    sdp: str
    tracks: Annotated[Mapping[str, TrackInfo], MIDS] = field(default_factory=dict, metadata={"omit_empty": True})


@dataclass(frozen=True, slots=True)
class Tracks:
    """Edge → client: what each send-only mid carries now, after a change made without an offer."""

    TYPE: ClassVar[str] = "tracks"
    tracks: Annotated[Mapping[str, TrackInfo], MIDS] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Answer:
    """Either direction: an SDP answer (RFC 8829 section 5.3)."""

    TYPE: ClassVar[str] = "answer"
    sdp: str


@dataclass(frozen=True, slots=True)
class Candidate:
    """Either direction: one trickled ICE candidate (RFC 8838); ``candidate`` empty means end of candidates."""

    TYPE: ClassVar[str] = "candidate"
    candidate: str
    sdp_mid: str | None = None
    sdp_mline_index: int | None = field(default=None, metadata={"wire": "sdpMLineIndex"})


MAX_VIDEO_SIZE = 16_384
"""The largest width or height a ``videoSize`` may state (beyond any real screen)."""
PIXELS = Check(ge=0, le=MAX_VIDEO_SIZE)


@dataclass(frozen=True, slots=True)
class VideoSize:
    """Client → edge: the client renders the video it receives on ``mid`` at this size (device pixels)."""

    TYPE: ClassVar[str] = "videoSize"
    mid: str
    width: Annotated[int, PIXELS]
    height: Annotated[int, PIXELS]


@dataclass(frozen=True, slots=True)
class Joined:
    """Edge → client: the token was accepted; what the edge now knows the participant as."""

    TYPE: ClassVar[str] = "joined"
    participant_id: str
    meeting_id: str
    role: str
    publish: tuple[str, ...]
    """Media kinds the participant may publish (``protocol.tokens.PublishKind`` values)."""


@dataclass(frozen=True, slots=True)
class Error:
    """Edge → client: a frame was refused; the session goes on."""

    TYPE: ClassVar[str] = "error"
    code: str
    """A ``protocol.errors.ErrorCode`` value."""
    message: str


ClientMessage = Join | Leave | Offer | Answer | Candidate | VideoSize
EdgeMessage = Joined | Offer | Answer | Candidate | Tracks | Error
Message = Join | Leave | Offer | Answer | Candidate | VideoSize | Joined | Tracks | Error


def bad_input(message: str) -> Error:
    return Error(code=ErrorCode.BAD_INPUT.value, message=message)


# -- encoding and decoding (protocol.wire) --------------------------------------------------------------------


def to_dict(msg: Message) -> dict[str, Any]:
    """The wire form of ``msg`` (a JSON object)."""
    return wire.to_dict(msg)


def encode(msg: Message) -> str:
    """One text frame for ``msg``."""
    return wire.encode(msg)


_client = wire.Codec(SignallingMessageError, Join, Leave, Offer, Answer, Candidate, VideoSize)
_edge = wire.Codec(SignallingMessageError, Joined, Offer, Answer, Candidate, Tracks, Error)


def parse_client_message(text: str | bytes) -> ClientMessage:
    """Decode a frame the client sent (what the edge reads). Unknown keys are ignored so clients can be newer."""
    msg: ClientMessage = _client.decode(text)
    return msg


def parse_edge_message(text: str | bytes) -> EdgeMessage:
    """Decode a frame the edge sent (what clients, tests and load tests read)."""
    msg: EdgeMessage = _edge.decode(text)
    return msg

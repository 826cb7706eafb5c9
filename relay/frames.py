"""The relay's wire format, pure encode/decode: control messages on one QUIC stream and media in DATAGRAM frames.

A relay link joins two edges. The *client* edge opens it and uses its first bidirectional stream (id 0) as the
**control stream**; every message on it is a QUIC variable-length integer (RFC 9000 section 16) giving the
length of a UTF-8 JSON object whose ``"type"`` names the message (``protocol.wire``, the codec of every JSON
message between our processes). JSON because control traffic is rare (a few messages per track) and readable in
a capture; the length prefix because a QUIC stream is a byte stream with no
message boundaries (RFC 9000 section 2.2).

Media travels in **DATAGRAM frames** (RFC 9221): unreliable, unordered and never retransmitted, like the UDP
path RTP was made for. Each datagram is one RTP or RTCP packet behind a compact header:

```
 0                   1
 0 1 2 3 4 5 6 7 8 ...
+-+-+-+-+-+-+-+-+-----------------+---------------------+
|K|R|S| layer |K| track (varint) |  RTP or RTCP packet  |
+-+-+-+-+-+-+-+-+-----------------+---------------------+
 bit 7 K: 1 = key frame packet    bit 6 R: 1 = RTCP, 0 = RTP   bit 5 S: reserved (0)
 bits 4-1: simulcast layer (0 = lowest)                          bit 0: audio
```

``track`` is the number the *sending* side gave the track in its ``announce``; numbers are per link and per
direction, so a track id string (often 40 bytes) is never repeated per packet.

Standard library only; nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, ClassVar

from protocol import wire
from protocol.wire import Check

MAX_CONTROL_MESSAGE = 64 * 1024
"""Largest control message accepted. An announce is ~200 bytes; the bound keeps a peer from making us buffer."""
MAX_TRACK_NUMBER = (1 << 30) - 1
"""Track numbers fit a 4-byte QUIC varint (RFC 9000 section 16)."""
MAX_LAYERS = 15
MAX_NACKS_PER_MESSAGE = 256
MAX_ESTIMATE_BPS = 10e9
"""A downlink estimate above 10 Gbit/s is not one (REMB's own field tops out near 2^18 * 2^63)."""


class FrameError(wire.WireError):
    """Bytes that are not a valid relay frame; the text says why. The link is closed with ``PROTOCOL_ERROR``."""


# -- QUIC variable-length integers (RFC 9000 section 16) ------------------------------------------------------


def encode_varint(value: int) -> bytes:
    if value < 0:
        raise ValueError("varint must be >= 0")
    if value < 1 << 6:
        return value.to_bytes(1, "big")
    if value < 1 << 14:
        return (value | 0x4000).to_bytes(2, "big")
    if value < 1 << 30:
        return (value | 0x8000_0000).to_bytes(4, "big")
    if value < 1 << 62:
        return (value | 0xC000_0000_0000_0000).to_bytes(8, "big")
    raise ValueError("varint must be < 2**62")


def decode_varint(data: bytes | bytearray | memoryview, offset: int = 0) -> tuple[int, int] | None:
    """(value, offset after it), or None when ``data`` ends inside the integer."""
    if offset >= len(data):
        return None
    first = data[offset]
    size = 1 << (first >> 6)
    if offset + size > len(data):
        return None
    value = first & 0x3F
    for i in range(1, size):
        value = (value << 8) | data[offset + i]
    return value, offset + size


# -- control messages (protocol.wire: {"type": …, camelCase fields}) ---------------------------------------------

Name = Annotated[str, Check(min_len=1, max_len=256)]
TrackNumber = Annotated[int, Check(ge=0, le=MAX_TRACK_NUMBER)]
Layer = Annotated[int, Check(ge=0, le=MAX_LAYERS)]


@dataclass(frozen=True, slots=True)
class Hello:
    """First message each way. The client sends it first; the server answers with its own once the client's
    credential verified. ``token`` is the edge's relay credential (see :mod:`relay.auth`)."""

    TYPE: ClassVar[str] = "hello"
    edge_id: Name
    region: Annotated[str, Check(max_len=256)]
    token: Annotated[str, Check(max_len=4096)]


@dataclass(frozen=True, slots=True)
class Announce:
    """A track the sender can forward: ``track`` is its number on this link (sender's numbering)."""

    TYPE: ClassVar[str] = "announce"
    track: TrackNumber
    meeting_id: Name
    participant_id: Name
    track_id: Name
    """The deployment-wide id the origin edge gave the track (stable across links: a pulled track keeps it)."""
    kind: Annotated[str, Check(choices=("audio", "video"))]
    source: Annotated[str, Check(choices=("camera", "microphone", "screen"))]
    layers: Annotated[int, Check(ge=1, le=MAX_LAYERS + 1)] = 1
    """Simulcast layers on offer (1: a single stream)."""
    origin: Annotated[str, Check(max_len=256)] = ""
    """The edge the publisher is connected to (the root of the track's distribution tree, relay.mesh)."""
    codec: Annotated[str, Check(max_len=64)] = ""
    """The RTP packets' codec as a MIME type (``video/VP8``, ``audio/opus``): the pulling edge negotiates it with
    its subscribers (the payload type is rewritten per subscriber, so it does not cross)."""
    audio_level_id: Annotated[int, Check(ge=0, le=255)] = 0
    """The RFC 6464 header extension id in the packets (0: none), so the pulling edge reads audio levels."""
    room: Annotated[str, Check(max_len=256)] = ""
    """The breakout room the publisher is in (empty: the meeting's main room). Media never crosses rooms, on one
    edge or across edges: the pulling edge offers the track only to that room's members."""


@dataclass(frozen=True, slots=True)
class Withdraw:
    """The track ended (its publisher left or stopped it): its number is not reused on this link."""

    TYPE: ClassVar[str] = "withdraw"
    track: TrackNumber


@dataclass(frozen=True, slots=True)
class Subscribe:
    """Send me ``track`` (the receiver's request names the sender's number), only the ``layers`` listed: the
    pulling edge asks for what its local subscribers need. Sent again to change the layers."""

    TYPE: ClassVar[str] = "subscribe"
    track: TrackNumber
    layers: Annotated[tuple[Layer, ...], Check(max_items=MAX_LAYERS + 1)] = (0,)

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", tuple(sorted(set(self.layers))))


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    TYPE: ClassVar[str] = "unsubscribe"
    track: TrackNumber


@dataclass(frozen=True, slots=True)
class KeyFrameRequest:
    """A subscriber behind the receiver needs a key frame of ``layer`` (a PLI or FIR crossing the hop)."""

    TYPE: ClassVar[str] = "keyframe"
    track: TrackNumber
    layer: Layer = 0


@dataclass(frozen=True, slots=True)
class Nack:
    """RTP sequence numbers of ``track`` lost on the way (RFC 4585 section 6.2.1 carried over the hop): the
    sender answers from its history, or passes the request on towards the publisher."""

    TYPE: ClassVar[str] = "nack"
    track: TrackNumber
    seqs: Annotated[tuple[Annotated[int, Check(ge=0, le=0xFFFF)], ...], Check(max_items=MAX_NACKS_PER_MESSAGE)]
    layer: Layer = 0
    """The simulcast layer the numbers are of (each layer is a stream with its own sequence numbers)."""

    def __post_init__(self) -> None:
        if not self.seqs:
            raise FrameError("nack.seqs must list at least one sequence number")


@dataclass(frozen=True, slots=True)
class Estimate:
    """The most the receiver's subscribers of ``track`` can take, in bit/s: their slowest downlink, and the
    estimates of the edges below it in the track's tree. The sender folds it into the REMB it gives the publisher
    (draft-alvestrand-rmcat-remb), as it does its own subscribers' estimates. Sent about once a second while
    the receiver pulls the track; one older than a few seconds no longer counts."""

    TYPE: ClassVar[str] = "estimate"
    track: TrackNumber
    bitrate_bps: Annotated[float, Check(ge=0, le=MAX_ESTIMATE_BPS)]


@dataclass(frozen=True, slots=True)
class Stats:
    """Periodic load report, so a peer can choose whom to pull from (cascading)."""

    TYPE: ClassVar[str] = "stats"
    sessions: Annotated[int, Check(ge=0)]
    forwarded_pps: Annotated[float, Check(ge=0)]
    cpu: Annotated[float, Check(ge=0)]


@dataclass(frozen=True, slots=True)
class Bye:
    """The sender is going away (shutdown, or the last shared meeting ended)."""

    TYPE: ClassVar[str] = "bye"
    reason: Annotated[str, Check(max_len=256)] = ""


ControlMessage = Hello | Announce | Withdraw | Subscribe | Unsubscribe | KeyFrameRequest | Nack | Estimate | Stats | Bye
_CONTROL = wire.Codec(
    FrameError, Hello, Announce, Withdraw, Subscribe, Unsubscribe, KeyFrameRequest, Nack, Estimate, Stats, Bye
)


def encode_control(msg: ControlMessage) -> bytes:
    data = wire.encode(msg).encode()
    if len(data) > MAX_CONTROL_MESSAGE:
        raise FrameError(f"{msg.TYPE} of {len(data)} bytes exceeds {MAX_CONTROL_MESSAGE}")
    return encode_varint(len(data)) + data


def decode_control(data: bytes) -> ControlMessage:
    """One control message from its JSON body (without the length prefix)."""
    msg: ControlMessage = _CONTROL.decode(data)
    return msg


class ControlReader:
    """Reassembles control messages from stream data arriving in arbitrary pieces."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> Iterator[ControlMessage]:
        """The messages completed by ``data``; raises :class:`FrameError` on a bad or oversized one."""
        self._buffer += data
        while True:
            head = decode_varint(self._buffer)
            if head is None:
                if len(self._buffer) > 8:
                    raise FrameError("bad length prefix")
                return
            length, start = head
            if length > MAX_CONTROL_MESSAGE:
                raise FrameError(f"control message of {length} bytes exceeds {MAX_CONTROL_MESSAGE}")
            if len(self._buffer) < start + length:
                return
            body = bytes(self._buffer[start : start + length])
            del self._buffer[: start + length]
            yield decode_control(body)


# -- media datagrams -------------------------------------------------------------------------------------------

_KEY = 0x80
_RTCP = 0x40
_RESERVED = 0x20
_AUDIO = 0x01


@dataclass(frozen=True, slots=True)
class MediaHeader:
    track: int
    layer: int = 0
    key: bool = False
    rtcp: bool = False
    audio: bool = False


def encode_media(header: MediaHeader, packet: bytes) -> bytes:
    if not 0 <= header.layer <= MAX_LAYERS:
        raise ValueError(f"layer must be 0..{MAX_LAYERS}")
    flags = (header.layer << 1) | (_KEY if header.key else 0) | (_RTCP if header.rtcp else 0)
    flags |= _AUDIO if header.audio else 0
    return bytes((flags,)) + encode_varint(header.track) + packet


def decode_media(data: bytes) -> tuple[MediaHeader, bytes]:
    if len(data) < 2:
        raise FrameError("media datagram too short")
    flags = data[0]
    if flags & _RESERVED:
        raise FrameError("media datagram sets a reserved bit")
    head = decode_varint(data, 1)
    if head is None:
        raise FrameError("media datagram ends inside its track number")
    track, start = head
    if track > MAX_TRACK_NUMBER or start == len(data):
        raise FrameError("media datagram has a bad track number or no packet")
    header = MediaHeader(
        track=track,
        layer=(flags >> 1) & 0x0F,
        key=bool(flags & _KEY),
        rtcp=bool(flags & _RTCP),
        audio=bool(flags & _AUDIO),
    )
    return header, data[start:]

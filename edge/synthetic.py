"""A synthetic participant: an aiortc peer that publishes pre-encoded VP8 and Opus and subscribes to tracks.

The packets are encoded once with PyAV (libvpx, libopus) at setup, then looped in real time with fresh
timestamps, so publishing costs no encoding (aiortc only packetizes ``av.Packet`` objects). Useful for bots,
load tests and the edge's own tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import math
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import av
import numpy as np
from aiortc import (
    MediaStreamTrack,
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.codecs.h264 import H264Encoder
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.mediastreams import MediaStreamError
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import HeaderExtensionsMap, RtpPacket
from aiortc.sdp import SessionDescription

from edge.codecs import prefer_codec
from edge.simulcast import MID_URI, RID_URI
from protocol.signalling import Answer, Offer, TrackInfo

VIDEO_CLOCK_RATE = 90_000
OPUS_CLOCK_RATE = 48_000  # RFC 7587 section 4.1: always 48 kHz
OPUS_FRAME_SAMPLES = 960  # 20 ms


@dataclass(frozen=True, slots=True)
class EncodedClip:
    """Pre-encoded frames (bytes, is_keyframe) of one kind, each ``frame_ticks`` long at ``clock_rate``."""

    kind: str
    mime_type: str
    frames: tuple[tuple[bytes, bool], ...]
    clock_rate: int
    frame_ticks: int


def encode_vp8_clip(
    frames: int = 30, fps: int = 15, width: int = 320, height: int = 240, gop: int = 15, bit_rate: int = 300_000
) -> EncodedClip:
    """Encode a moving test pattern once with libvpx; every ``gop``-th frame is a keyframe."""
    codec = _video_encoder("libvpx", width, height, fps, bit_rate)
    codec.gop_size = gop
    codec.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    return EncodedClip("video", "video/VP8", _encode_pattern(codec, frames), VIDEO_CLOCK_RATE, VIDEO_CLOCK_RATE // fps)


def _video_encoder(name: str, width: int, height: int, fps: int, bit_rate: int) -> av.VideoCodecContext:
    codec = av.CodecContext.create(name, "w")
    assert isinstance(codec, av.VideoCodecContext)
    codec.width, codec.height, codec.pix_fmt = width, height, "yuv420p"
    codec.time_base = fractions.Fraction(1, fps)
    codec.framerate = fractions.Fraction(fps, 1)
    codec.bit_rate = bit_rate
    return codec


def _encode_pattern(codec: av.VideoCodecContext, frames: int) -> tuple[tuple[bytes, bool], ...]:
    """``frames`` of the moving test pattern through ``codec`` (opened here), flushed; must start on a key frame."""
    out: list[tuple[bytes, bool]] = []
    for i in range(frames):
        frame = _test_pattern(codec.width, codec.height, i)
        frame.pts = i
        frame.time_base = codec.time_base
        for packet in codec.encode(frame):
            out.append((bytes(packet), bool(packet.is_keyframe)))
    for packet in codec.encode(None):
        out.append((bytes(packet), bool(packet.is_keyframe)))
    if not out or not out[0][1]:
        raise RuntimeError(f"{codec.name} produced no leading keyframe ({len(out)} packets)")
    return tuple(out)


def encode_h264_clip(
    frames: int = 30,
    fps: int = 15,
    width: int = 320,
    height: int = 240,
    gop: int = 15,
    bit_rate: int = 300_000,
    profile: str = "baseline",
) -> EncodedClip:
    """Encode a moving test pattern once with libx264 (Annex B, SPS and PPS before every IDR picture, as WebRTC
    senders do); every ``gop``-th frame is a key frame."""
    codec = _video_encoder("libx264", width, height, fps, bit_rate)
    codec.options = {
        "preset": "ultrafast",
        "tune": "zerolatency",
        "profile": profile,
        "x264-params": f"repeat-headers=1:keyint={gop}:min-keyint={gop}:scenecut=0",
    }
    return EncodedClip("video", "video/H264", _encode_pattern(codec, frames), VIDEO_CLOCK_RATE, VIDEO_CLOCK_RATE // fps)


def packetize(clip: EncodedClip, data: bytes, picture_id: int) -> list[bytes]:
    """RTP payloads for one encoded frame of ``clip`` (RFC 7741 for VP8, RFC 6184 packetization mode 1 for
    H.264)."""
    if clip.mime_type.lower() == "video/h264":
        return H264Encoder._packetize(H264Encoder._split_bitstream(data))
    return Vp8Encoder._packetize(data, picture_id)


def encode_opus_clip(frames: int = 50, tone_hz: float = 440.0) -> EncodedClip:
    """Encode a stereo sine tone once with libopus, 20 ms per packet."""
    codec = av.CodecContext.create("libopus", "w")
    assert isinstance(codec, av.AudioCodecContext)
    codec.sample_rate = OPUS_CLOCK_RATE
    codec.layout = "stereo"
    codec.format = "s16"
    codec.bit_rate = 32_000
    codec.time_base = fractions.Fraction(1, OPUS_CLOCK_RATE)
    out: list[tuple[bytes, bool]] = []
    for i in range(frames):
        frame = av.AudioFrame(format="s16", layout="stereo", samples=OPUS_FRAME_SAMPLES)
        frame.sample_rate = OPUS_CLOCK_RATE
        frame.pts = i * OPUS_FRAME_SAMPLES
        frame.time_base = codec.time_base
        start = i * OPUS_FRAME_SAMPLES
        frame.planes[0].update(
            b"".join(
                int(8000 * math.sin(2 * math.pi * tone_hz * (start + n) / OPUS_CLOCK_RATE)).to_bytes(
                    2, "little", signed=True
                )
                * 2
                for n in range(OPUS_FRAME_SAMPLES)
            )
        )
        out.extend((bytes(packet), True) for packet in codec.encode(frame))
    out.extend((bytes(packet), True) for packet in codec.encode(None))
    return EncodedClip("audio", "audio/opus", tuple(out), OPUS_CLOCK_RATE, OPUS_FRAME_SAMPLES)


def encode_opus_pcm(pcm: np.ndarray, bit_rate: int = 32_000) -> EncodedClip:
    """Encode 48 kHz mono float samples (-1..1; e.g. espeak-ng speech) once with libopus, 20 ms per packet,
    zero-padded to whole packets."""
    codec = av.CodecContext.create("libopus", "w")
    assert isinstance(codec, av.AudioCodecContext)
    codec.sample_rate = OPUS_CLOCK_RATE
    codec.layout = "stereo"
    codec.format = "s16"
    codec.bit_rate = bit_rate
    codec.time_base = fractions.Fraction(1, OPUS_CLOCK_RATE)
    frames = -(-len(pcm) // OPUS_FRAME_SAMPLES)
    padded = np.zeros(frames * OPUS_FRAME_SAMPLES, np.float32)
    padded[: len(pcm)] = pcm
    pcm16 = (np.clip(padded, -1.0, 1.0) * 32767).astype("<i2")
    out: list[tuple[bytes, bool]] = []
    for i in range(frames):
        frame = av.AudioFrame(format="s16", layout="stereo", samples=OPUS_FRAME_SAMPLES)
        frame.sample_rate = OPUS_CLOCK_RATE
        frame.pts = i * OPUS_FRAME_SAMPLES
        frame.time_base = codec.time_base
        chunk = pcm16[i * OPUS_FRAME_SAMPLES : (i + 1) * OPUS_FRAME_SAMPLES]
        frame.planes[0].update(np.repeat(chunk, 2).tobytes())  # interleaved L R, the same sample twice
        out.extend((bytes(packet), True) for packet in codec.encode(frame))
    out.extend((bytes(packet), True) for packet in codec.encode(None))
    return EncodedClip("audio", "audio/opus", tuple(out), OPUS_CLOCK_RATE, OPUS_FRAME_SAMPLES)


def _test_pattern(width: int, height: int, index: int) -> av.VideoFrame:
    """A diagonal luma ramp that moves with ``index`` (so every frame differs), flat grey chroma."""
    frame = av.VideoFrame(width, height, "yuv420p")
    for plane_index, plane in enumerate(frame.planes):
        rows = height if plane_index == 0 else height // 2
        if plane_index == 0:
            data = b"".join(bytes((x + y + 4 * index) & 0xFF for x in range(plane.line_size)) for y in range(rows))
        else:
            data = bytes([128]) * (plane.line_size * rows)
        plane.update(data)
    return frame


class EncodedTrack(MediaStreamTrack):
    """A track whose ``recv`` returns ``av.Packet`` (already encoded), looping a clip in real time."""

    def __init__(self, clip: EncodedClip) -> None:
        super().__init__()
        self.kind = clip.kind
        self._clip = clip
        self._time_base = fractions.Fraction(1, clip.clock_rate)
        self._index = 0
        self._start: float | None = None
        self.sent = 0

    async def recv(self) -> av.Packet[Any]:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        due = self._start + self.sent * self._clip.frame_ticks / self._clip.clock_rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        data, _ = self._clip.frames[self._index]
        self._index = (self._index + 1) % len(self._clip.frames)
        packet = av.Packet(data)
        packet.pts = self.sent * self._clip.frame_ticks
        packet.time_base = self._time_base
        self.sent += 1
        return packet


def max_bundle_peer() -> RTCPeerConnection:
    """A peer connection with every m-line on one transport, as browsers negotiate with the edge (aiortc's default
    "balanced" policy strands the second of two same-kind m-lines an offer adds at once: ``edge.session``)."""
    return RTCPeerConnection(RTCConfiguration(bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))


@dataclass(eq=False)
class SyntheticParticipant:
    """One aiortc peer connection: publishes looped clips and/or decodes what it receives, counting frames."""

    pc: RTCPeerConnection = field(default_factory=lambda: max_bundle_peer())
    published: list[EncodedTrack] = field(default_factory=list)
    frames_received: dict[str, int] = field(default_factory=lambda: {"audio": 0, "video": 0})
    frames_by_track: dict[str, int] = field(default_factory=dict)
    """Decoded frames per remote track id (the sender's msid track id), to tell several remote tracks apart."""
    frame_sizes: dict[str, tuple[int, int]] = field(default_factory=dict)
    """The latest decoded video frame's (width, height) per remote track id."""
    _consumers: list[asyncio.Task[None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Every remote track is decoded (this is the client side) and its frames counted.
        @self.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            self._consumers.append(asyncio.ensure_future(self._consume(track)))

    def publish(self, clip: EncodedClip) -> RTCRtpSender:
        track = EncodedTrack(clip)
        self.published.append(track)
        transceiver = self.pc.addTransceiver(track, direction="sendonly")
        prefer_codec(transceiver, clip.mime_type)
        return transceiver.sender

    def subscribe(self, kind: str, mime_type: str) -> RTCRtpTransceiver:
        """Add a receive-only transceiver (for when this peer makes the offer)."""
        transceiver = self.pc.addTransceiver(kind, direction="recvonly")
        prefer_codec(transceiver, mime_type)
        return transceiver

    async def _consume(self, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame = await track.recv()
                if isinstance(frame, av.VideoFrame):
                    self.frame_sizes[track.id] = (frame.width, frame.height)
                self.frames_received[track.kind] += 1
                self.frames_by_track[track.id] = self.frames_by_track.get(track.id, 0) + 1
        except MediaStreamError:
            return

    async def close(self) -> None:
        for task in self._consumers:
            task.cancel()
        await asyncio.gather(*self._consumers, return_exceptions=True)
        await self.pc.close()


@dataclass(eq=False)
class SimulcastPublisher:
    """Publishes pre-encoded clips as RID-based simulcast layers of one camera, the way Chromium does (aiortc
    cannot send simulcast): the offer names the layers (``a=rid``, ``a=simulcast``, RFC 8853) and gives no SSRC,
    and every packet carries the MID and RID header extensions (RFC 8843, RFC 8852), one SSRC per layer.

    Use: construct on a peer connection, pass the offer's SDP through :meth:`offer_sdp` before sending it (the
    connection keeps the unedited one), then :meth:`start` once the answer is applied."""

    pc: RTCPeerConnection
    layers: dict[str, EncodedClip]
    """RID → clip, smallest first (the order of ``a=simulcast``)."""
    rid_extension_id: int = 10
    sent: dict[str, int] = field(default_factory=dict)
    """Packets sent per layer."""
    paused: set[str] = field(default_factory=set)
    """Layers not sent now (a browser pauses layers it cannot encode)."""
    transceiver: RTCRtpTransceiver = field(init=False)
    _task: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        self.transceiver = self.pc.addTransceiver("video", direction="sendonly")
        prefer_codec(self.transceiver, self._mime_type)

    @property
    def _mime_type(self) -> str:
        return next(iter(self.layers.values())).mime_type

    def offer_sdp(self, sdp: str) -> str:
        """``sdp`` (an offer applied locally, so the transceiver has its mid) with this transceiver's m-section
        made a simulcast one."""
        sections: list[list[str]] = [[]]
        for line in sdp.replace("\r\n", "\n").split("\n"):
            if line.startswith("m="):
                sections.append([])
            if line:
                sections[-1].append(line)
        for lines in sections[1:]:
            if f"a=mid:{self.transceiver.mid}" in lines:
                lines[:] = [x for x in lines if not x.startswith(("a=ssrc:", "a=ssrc-group:"))]
                lines.extend(self._simulcast_lines())
        return "\r\n".join(line for lines in sections for line in lines) + "\r\n"

    def _simulcast_lines(self) -> list[str]:
        rids = list(self.layers)
        return [
            f"a=extmap:{self.rid_extension_id} {RID_URI}",
            *(f"a=rid:{rid} send" for rid in rids),
            "a=simulcast:send " + ";".join(rids),
        ]

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        transport = self.transceiver.sender.transport
        connected = asyncio.Event()

        @transport.on("statechange")
        def on_state() -> None:
            if transport.state == "connected":
                connected.set()

        if transport.state != "connected":
            await connected.wait()
        codec = next(c for c in self.transceiver._codecs if c.mimeType.lower() == self._mime_type.lower())
        mid = self.transceiver.mid
        extensions = HeaderExtensionsMap()
        extensions.configure(
            RTCRtpParameters(
                headerExtensions=[
                    RTCRtpHeaderExtensionParameters(id=1, uri=MID_URI),
                    RTCRtpHeaderExtensionParameters(id=self.rid_extension_id, uri=RID_URI),
                ]
            )
        )
        state = {rid: [random.getrandbits(32), random.getrandbits(16), random.getrandbits(15)] for rid in self.layers}
        clip = next(iter(self.layers.values()))
        start = time.monotonic()
        frame = 0
        while True:
            for rid, layer_clip in self.layers.items():
                if rid in self.paused:
                    continue
                ssrc, seq, picture_id = state[rid]
                data, _ = layer_clip.frames[frame % len(layer_clip.frames)]
                payloads = packetize(layer_clip, data, picture_id)
                timestamp = (frame * layer_clip.frame_ticks) & 0xFFFFFFFF
                for i, payload in enumerate(payloads):
                    packet = RtpPacket(payload_type=codec.payloadType or 96, sequence_number=seq, timestamp=timestamp)
                    packet.ssrc = ssrc
                    packet.marker = int(i == len(payloads) - 1)
                    packet.payload = payload
                    packet.extensions.mid = mid
                    packet.extensions.rtp_stream_id = rid
                    seq = (seq + 1) & 0xFFFF
                    try:
                        await transport._send_rtp(packet.serialize(extensions))
                    except ConnectionError:
                        return
                    self.sent[rid] = self.sent.get(rid, 0) + 1
                state[rid] = [ssrc, seq, (picture_id + 1) & 0x7FFF]
            frame += 1
            due = start + frame * clip.frame_ticks / clip.clock_rate
            await asyncio.sleep(max(0.0, due - time.monotonic()))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


class PoliteNegotiator:
    """The client side of "perfect negotiation" (W3C webrtc-pc section 10.7) for an aiortc peer, the polite one.

    aiortc has no ``rollback``, so after the first negotiation an offer is sent *without* being applied locally
    (``createOffer`` only) and applied when the edge answers it. If the edge's own offer arrives first (glare;
    the impolite edge ignores ours) the unapplied offer is simply dropped - that is the rollback - the edge's is
    answered and ours is made again. Offers wait (queue) while an edge offer is being answered.
    """

    def __init__(self, pc: RTCPeerConnection, send: Callable[[Offer | Answer], Awaitable[object]]) -> None:
        self.pc = pc
        self._send = send
        self._lock = asyncio.Lock()
        self._pending: RTCSessionDescription | None = None
        """Our offer as sent, not yet applied (None once applied, or when the first offer was applied at once)."""
        self._awaiting_answer = False
        self._sources: dict[RTCRtpTransceiver, str] = {}
        self.collisions = 0
        """Edge offers that overtook one of ours (ours was dropped and made again)."""
        self.remote_tracks: dict[str, TrackInfo] = {}
        """What the edge said each of its mids carries (participant and source)."""

    def label(self, transceiver: RTCRtpTransceiver, source: str) -> None:
        """Announce ``transceiver``'s track as ``source`` (``camera``/``microphone``/``screen``) in our offers."""
        self._sources[transceiver] = source

    async def offer(self) -> None:
        async with self._lock:
            await self._offer()

    async def _offer(self) -> None:
        if self.pc.localDescription is None:
            # First negotiation: apply at once so ICE gathers and the SDP carries our candidates. The edge makes
            # no offer before answering this one, so it cannot collide.
            await self.pc.setLocalDescription(await self.pc.createOffer())
            sdp = self.pc.localDescription.sdp
            self._pending = None
        else:
            self._pending = await self.pc.createOffer()
            sdp = self._pending.sdp
        self._awaiting_answer = True
        await self._send(Offer(sdp=sdp, tracks=self._track_map(sdp)))

    def _track_map(self, sdp: str) -> dict[str, TrackInfo]:
        # Mids of new transceivers exist only in the SDP until it is applied: aiortc lists m-lines of existing
        # transceivers by their index and appends new ones in transceiver order.
        media = SessionDescription.parse(sdp).media
        fresh = iter(m.rtp.muxId for m in media if m.rtp.muxId not in {t.mid for t in self.pc.getTransceivers()})
        out: dict[str, TrackInfo] = {}
        for transceiver in self.pc.getTransceivers():
            mid = transceiver.mid if transceiver.mid is not None else next(fresh, None)
            source = self._sources.get(transceiver)
            if mid is not None and source is not None:
                out[mid] = TrackInfo(source=source)
        return out

    async def handle(self, msg: Offer | Answer) -> None:
        """Apply an edge ``offer`` or ``answer``."""
        reoffer = False
        async with self._lock:
            if isinstance(msg, Offer):
                if self._awaiting_answer:
                    if self._pending is None:
                        raise RuntimeError("edge offer collided with our first offer, which cannot be rolled back")
                    self.collisions += 1
                    self._pending, self._awaiting_answer, reoffer = None, False, True
                self.remote_tracks = dict(msg.tracks)
                with _unassociated_hidden(self.pc):
                    await self.pc.setRemoteDescription(RTCSessionDescription(sdp=msg.sdp, type="offer"))
                    await self.pc.setLocalDescription(await self.pc.createAnswer())
                await self._send(Answer(sdp=self.pc.localDescription.sdp))
                if reoffer:
                    await self._offer()
            else:
                if not self._awaiting_answer:
                    return  # the answer to an offer we dropped; cannot happen with an impolite edge, harmless
                if self._pending is not None:
                    await self.pc.setLocalDescription(self._pending)
                    self._pending = None
                self._awaiting_answer = False
                await self.pc.setRemoteDescription(RTCSessionDescription(sdp=msg.sdp, type="answer"))

    @property
    def stable(self) -> bool:
        return not self._awaiting_answer and self.pc.signalingState == "stable"


@contextlib.contextmanager
def _unassociated_hidden(pc: RTCPeerConnection) -> Iterator[None]:
    """Keep our not-yet-negotiated transceivers out of a remote offer's m-line matching.

    RFC 8829 section 5.10 lets a new remote m-section take over only a transceiver created by ``addTrack``;
    aiortc gives it any same-kind transceiver without a mid, so the edge's offer of someone's camera would
    capture the screen share we are about to offer (and make it a sender for the wrong m-line); applying the
    answer then trips over its missing offer direction. aiortc has no option for this, so the list it searches
    is trimmed while the edge's offer is applied and answered, and restored after."""
    transceivers: list[RTCRtpTransceiver] = pc._RTCPeerConnection__transceivers  # type: ignore[attr-defined]
    hidden = [t for t in transceivers if t.mid is None]
    for t in hidden:
        transceivers.remove(t)
    try:
        yield
    finally:
        transceivers.extend(hidden)

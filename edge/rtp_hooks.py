"""aiortc 1.16 glue for packet-level forwarding (patches on receivers, senders and DTLS transports, and the send
fast path), and the track model on top of it until that moves to ``sfu``.

The track model's requests to a publisher already go through :class:`sfu.upstream.Upstream` (key frame, NACK,
REMB), so a track's source can become a relay link. Other places that reach into aiortc or aioice: ``edge.codecs``
swaps aiortc's module-level ``HEADER_EXTENSIONS`` table around ``createOffer``; ``edge.ice`` replaces
``aioice.ice.get_host_addresses``; ``edge.synthetic`` (the test participant, not the edge) uses aiortc's private
packetizers, ``RTCDtlsTransport._send_rtp`` and the peer connection's transceiver list.

Targets aiortc 1.16.0 (checked at import) and the aioice it ships with. aiortc has no public API for
forwarding encoded RTP, so this module patches *instances* (never classes):

1. ``RTCRtpReceiver.receive`` (the peer connection calls it once DTLS is up): replaced so the receiver
   registers with its ``RTCDtlsTransport`` router but starts **no decoder thread**. Its
   ``_handle_rtp_packet`` becomes a drop counter, so nothing reaches the jitter buffer or a decoder; its
   ``_handle_rtcp_packet`` also records the publisher's sender reports (NTP ↔ RTP mapping, for lip-sync).
2. The receive path: once DTLS is up, each aioice socket protocol's ``datagram_received`` of the publisher's
   connection is wrapped so SRTP packets of a tapped SSRC are unprotected and forwarded right in the socket
   callback (no STUN parse attempt, queue or coroutine wake-up; see :func:`_fast_receive`). As a fallback
   (packets queued before that), ``RTCDtlsTransport._handle_rtp_data`` is wrapped the same way. Both send
   packets whose SSRC belongs to a tapped receiver (its media SSRC, or its RTX SSRC, unwrapped per RFC 4588)
   to that track's :class:`Forwarder`; other packets take aiortc's normal path. The RFC 6464 audio level is
   read there for audio tracks (:attr:`PublishedTrack.on_audio_level`).
3. ``RTCRtpSender``: ``send`` (wrapped to learn the negotiated codecs, RTX included), ``_handle_rtcp_packet``
   (PLI/FIR go to the publisher; generic NACKs are answered from the down track's history; receiver reports
   and REMB feed :attr:`SubscribedTrack.estimate`), ``_run_rtp`` (replaced by an idle task: the sender has no
   track, so aiortc's loop would only poll every 20 ms) and ``_run_rtcp`` (replaced: SRs carry the forwarded
   counts and the publisher's NTP ↔ RTP mapping through the down track's timestamp offset, RFC 3550 6.4.1).

The send path (:class:`_FastPath`): aiortc's ``RTCDtlsTransport._send_rtp`` is a coroutine chain (DTLS →
ICE transport → aioice connection → protocol) per packet. Once a subscriber's DTLS transport is connected, the
fast path resolves its SRTP session's ``protect`` and aioice's nominated candidate pair (datagram transport,
remote address) and sends synchronously; it re-resolves when the DTLS state or the nominated pair changes
(consent expiry and close clear aioice's nominated pairs, so nothing is sent on a dead pair). While nothing is
resolvable (not connected yet, or closed) the packet is dropped and counted, exactly where ``_send_rtp`` would
have raised ``ConnectionError``. The DTLS transport's own ``getStats`` byte/packet counters therefore omit
forwarded packets in both directions; the forwarders and down tracks count them.

Install the taps after ``setRemoteDescription``/``addTransceiver`` (the transceiver exists) and before the
connection completes. The publisher's SDP must carry ``a=ssrc`` (aiortc and browsers do without simulcast),
unless the m-section is a RID-based simulcast one (``edge.simulcast``): then the track is a *group* with no
forwarder of its own; each layer's SSRC is learned from the MID and RID header extensions of its first packets
(packets of unknown SSRC reach ``_handle_rtp_data``, where :func:`_learn_layer` maps them) and becomes a
:class:`PublishedTrack` of its own (forwarder, receive statistics, receiver reports, key frame requests). A
subscriber of a group forwards one layer at a time (:func:`choose_layer`, :func:`move_to_layer`).

The edge also sends each publisher RTCP receiver reports from its own receive statistics (aiortc's are
bypassed with the decoder), so the publisher sees its uplink loss, jitter and RTT.

Known gaps: transport-wide congestion control (TWCC) is not wired; the edge sends no padding probes.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import struct
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import aiortc
import pylibsrtp
from aiortc import RTCRtpReceiver, RTCRtpSender, RTCRtpTransceiver, clock
from aiortc.rtcdtlstransport import RTCDtlsTransport
from aiortc.rtcdtlstransport import State as DtlsState
from aiortc.rtcrtpparameters import RTCRtpCodecParameters, RTCRtpReceiveParameters, RTCRtpSendParameters
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTCP_PSFB_FIR,
    RTCP_PSFB_PLI,
    RTCP_RTPFB_NACK,
    AnyRtcpPacket,
    RtcpByePacket,
    RtcpPsfbPacket,
    RtcpReceiverInfo,
    RtcpRrPacket,
    RtcpRtpfbPacket,
    RtcpSdesPacket,
    RtcpSenderInfo,
    RtcpSourceInfo,
    RtcpSrPacket,
    RtpPacket,
    unpack_remb_fci,
)

from edge.simulcast import SimulcastOffer, header_extension
from sfu import layer_switch
from sfu.audio_level import AUDIO_LEVEL_URI, NO_LEVEL, read_audio_level
from sfu.bandwidth import BandwidthEstimate
from sfu.forwarder import (
    ABS_SEND_TIME_URI,
    DownTrack,
    Forwarder,
    RtpFormatError,
    payload_offset,
)
from sfu.h264 import h264_keyframe_size, h264_keyframe_start
from sfu.layers import LayerInfo, LayerSelector
from sfu.rtcp import (
    NackThrottle,
    ReceiveStatistics,
    SenderClock,
    SendHistory,
    answer_nack,
    unwrap_rtx,
    wrap_rtx,
)
from sfu.upstream import RtcpUpstream, Upstream
from sfu.vp8 import vp8_keyframe_size, vp8_keyframe_start

log = logging.getLogger("meetmesh.edge.rtp_hooks")

AIORTC_VERSION = "1.16.0"
if aiortc.__version__ != AIORTC_VERSION:  # the internals patched here change between releases
    raise ImportError(f"edge.rtp_hooks targets aiortc {AIORTC_VERSION} (got {aiortc.__version__})")

_TAPS_ATTR = "_meetmesh_rtp_taps"
_GROUPS_ATTR = "_meetmesh_simulcast_groups"
_RECEIVE_PATCHED_ATTR = "_meetmesh_fast_receive"
_FAST_PATH_ATTR = "_meetmesh_fast_path"
_SEQ_TS = struct.Struct("!HI")
PUBLISH_FLOOR_BPS = 150_000.0
"""The least a video publisher is asked for: a slow subscriber lowers it this far and no further (below that a
camera is a slideshow for everyone; a simulcast publisher is never slowed down for its subscribers at all)."""
_RTP_COMPONENT = 1  # ICE component carrying RTP and RTCP (rtcp-mux, RFC 5761)
RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024
"""Asked for on a publisher's ICE sockets (Linux caps it at net.core.rmem_max). The default (~208 KB, about 90
full-size datagrams) overflows when the edge loses the CPU for a few milliseconds under load: measured 0.96 % and
10.6 % of the offered packets lost at 6,000 and 15,000 packets/s in (bench/media.py) with the default."""
DRAIN_MAX = 64
"""Datagrams read per readiness callback of a publisher's socket (asyncio reads one): fewer event-loop turns per
packet under load, bounded so one busy socket cannot starve the rest of the loop."""
# Codecs whose key frames the forwarder can spot; other codecs are forwarded from the first packet.
_KEYFRAME_START: dict[str, Callable[[bytes, int], bool]] = {
    "video/vp8": vp8_keyframe_start,
    "video/h264": h264_keyframe_start,
}
# Codecs whose key frames tell the frame size (simulcast layers are measured by it).
_KEYFRAME_SIZE: dict[str, Callable[[bytes, int], tuple[int, int] | None]] = {
    "video/vp8": vp8_keyframe_size,
    "video/h264": h264_keyframe_size,
}
LAYER_IDLE_S = 1.0
"""A simulcast layer with no packet for this long is inactive (the browser paused it, or CPU adaptation
dropped it): nobody is switched to it."""
GROUP_TICK_S = 0.5
"""How often a simulcast track re-measures its layers (bitrate, activity) and moves its recording tap."""


class TrackLinkError(ValueError):
    """A published track cannot be forwarded to this subscriber (e.g. no common codec)."""


class _FastPath:
    """Synchronous SRTP-protect + UDP send for one DTLS transport (shared by every track on a BUNDLE)."""

    __slots__ = (
        "_addr",
        "_nominated",
        "_pair",
        "_protect",
        "_protect_rtcp",
        "_sendto",
        "_transport_sendto",
        "dtls",
        "send_errors",
        "sent",
        "unsent",
    )

    def __init__(self, dtls: RTCDtlsTransport) -> None:
        self.dtls = dtls
        self.sent = 0
        """Packets handed to the socket."""
        self.unsent = 0
        """Packets dropped because the transport was not (or no longer) connected."""
        self.send_errors = 0
        """Packets the socket refused (e.g. ``ENETUNREACH``), dropped."""
        self._pair: Any = None
        self._nominated: dict[int, Any] = {}
        self._protect: Callable[[bytes], bytes] = _unresolved
        self._protect_rtcp: Callable[[bytes], bytes] = _unresolved
        self._sendto: Callable[[bytes, Any], Any] = _unresolved_send
        self._transport_sendto: Callable[[bytes, Any], None] = _unresolved_send
        self._addr: Any = None
        dtls.on("statechange", self._invalidate)

    def _invalidate(self) -> None:
        self._pair = None

    def _resolve(self) -> bool:
        dtls = self.dtls
        srtp = dtls._tx_srtp
        if dtls._state != DtlsState.CONNECTED or srtp is None:
            return False
        nominated: dict[int, Any] = dtls.transport._connection._nominated
        pair = nominated.get(_RTP_COMPONENT)
        if pair is None or pair.protocol.transport is None:
            return False
        self._nominated = nominated
        self._protect = _fast_protect(srtp)
        self._protect_rtcp = srtp.protect_rtcp
        transport = pair.protocol.transport
        self._transport_sendto = transport.sendto
        # asyncio's selector transport checks and buffers in Python before the same socket.sendto; call the
        # socket directly and hand the packet to the transport only when the socket would block (so it is
        # queued, as before). Other transports (aioice's TURN relay) keep their own sendto.
        sock = getattr(transport, "_sock", None)
        self._sendto = sock.sendto if sock is not None else transport.sendto
        self._addr = pair.remote_addr
        self._pair = pair
        return True

    def send(self, packet: bytes) -> None:
        """SRTP-protect and send one RTP packet now. Raises ``pylibsrtp.Error`` if libsrtp refuses it."""
        pair = self._pair
        # One dict lookup per packet notices a new nominated pair (or none: consent lost, closed).
        if (pair is None or self._nominated.get(_RTP_COMPONENT) is not pair) and not self._resolve():
            self.unsent += 1
            return
        data = self._protect(packet)
        try:
            self._sendto(data, self._addr)
        except (BlockingIOError, InterruptedError):
            self._transport_sendto(data, self._addr)
        except OSError:
            self.send_errors += 1
            return
        self.sent += 1

    def send_rtcp(self, packet: bytes) -> None:
        pair = self._pair
        if (pair is None or self._nominated.get(_RTP_COMPONENT) is not pair) and not self._resolve():
            self.unsent += 1
            return
        data = self._protect_rtcp(packet)
        try:
            self._sendto(data, self._addr)
        except (BlockingIOError, InterruptedError):
            self._transport_sendto(data, self._addr)
        except OSError:
            self.send_errors += 1


def _fast_protect(session: pylibsrtp.Session, *, unprotect: bool = False) -> Callable[[bytes], bytes]:
    """``session.protect`` (or ``unprotect``) without pylibsrtp's per-call checks and allocation (type check,
    ``ffi.new`` of the length cell, name-mangled dispatch): the same libsrtp call on the session's own buffer,
    ~0.7 µs less per packet (2.27 → 1.51 µs to protect 1,100 bytes, AES-CM/HMAC-SHA1). Targets pylibsrtp 1.0
    (``_srtp``, ``_cdata``, ``_buffer``); anything else falls back to pylibsrtp's own method."""
    fallback = session.unprotect if unprotect else session.protect
    try:
        from pylibsrtp._binding import ffi, lib

        context, cdata, buffer = session._srtp[0], session._cdata, session._buffer
        limit = len(buffer) - (0 if unprotect else pylibsrtp.SRTP_MAX_TRAILER_LEN)
        errors: list[str] = list(pylibsrtp.ERRORS)
        call = lib.srtp_unprotect if unprotect else lib.srtp_protect
        ok = lib.srtp_err_status_ok
    except (AttributeError, ImportError, TypeError):
        return fallback
    length = ffi.new("int *")

    # ``owner`` keeps the Session alive as long as this function: its libsrtp context is freed (``ffi.gc``) when
    # the Session is collected, and a call after that would use freed memory (a segfault, found by the tests).
    def process(packet: bytes, owner: pylibsrtp.Session = session) -> bytes:
        size = len(packet)
        if size > limit:
            raise ValueError("packet is too long")
        length[0] = size
        buffer[0:size] = packet
        status = call(context, cdata, length)
        if status != ok:
            raise pylibsrtp.Error(errors[status] if 0 <= status < len(errors) else f"libsrtp error {status}")
        return buffer[0 : length[0]]  # type: ignore[no-any-return]

    return process


def _unresolved(packet: bytes) -> bytes:
    raise ConnectionError("fast path used before it was resolved")


def _unresolved_send(data: bytes, addr: Any) -> None:
    raise ConnectionError("fast path used before it was resolved")


def _fast_path(dtls: RTCDtlsTransport) -> _FastPath:
    path: _FastPath | None = getattr(dtls, _FAST_PATH_ATTR, None)
    if path is None:
        path = _FastPath(dtls)
        setattr(dtls, _FAST_PATH_ATTR, path)
    return path


@dataclass(eq=False)
class PublishedTrack:
    """An edge-side receiver whose RTP is forwarded instead of decoded."""

    receiver: RTCRtpReceiver | None
    """The aiortc receiver of a local publisher's track; None for a track pulled over a relay link (``edge.mesh``),
    whose :attr:`upstream` is the link."""
    rtcp_ssrc: int
    """SSRC the edge uses in RTCP it sends to the publisher (the transceiver's sender SSRC, as aiortc does)."""
    forwarder: Forwarder | None = None
    codec: RTCRtpCodecParameters | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    on_audio_level: Callable[[int, bool], None] | None = None
    """Called with (level 0..127 in -dBov, voice activity) for each audio packet carrying the RFC 6464
    extension, paused or not (whoever listens decides what a muted participant's level means)."""
    on_rtp: Callable[[bytes], None] | None = None
    """Called with each forwarded packet (not while paused): the recording tap (``edge.recorder``)."""
    on_caption_rtp: Callable[[bytes], None] | None = None
    """Called with each forwarded packet (not while paused) of an audio track: live captions (``edge.captions``)."""
    on_relay: Callable[[bytes], None] | None = None
    """Called with each forwarded packet (not while paused, RTX unwrapped): the relay link to other edges of
    the meeting (``edge.mesh``)."""
    relay_layer: Callable[[str], Callable[[bytes], None]] | None = None
    """Simulcast track: makes each new layer's :attr:`on_relay` from its RID (``edge.mesh``)."""
    audio_level: int | None = None
    """Latest RFC 6464 level (0 loudest .. 127 silence), None before any."""
    voice_activity: bool = False
    """Latest RFC 6464 voice activity flag."""
    audio_level_id: int | None = None
    """The extension id the publisher negotiated for the audio level (None: not negotiated)."""
    clock: SenderClock | None = None
    """The publisher's NTP ↔ RTP mapping from its latest sender report."""
    stats: ReceiveStatistics | None = None
    """What the edge received from the publisher, for the receiver reports it sends back."""
    receiver_reports_sent: int = 0
    rembs_sent: int = 0
    publish_ceiling_bps: float = 2_500_000.0
    remote_limit_bps: float | None = None
    """The least the edges pulling this track over the relay can take (their subscribers' downlinks; ``edge.mesh``):
    folded into the REMB like a local subscriber's estimate. None: no edge pulls it, or none said."""
    """The most a video publisher is asked to send (``EDGE_MAX_PUBLISH_BITRATE``)."""
    audio_level_errors: int = 0
    """Exceptions raised by :attr:`on_audio_level` (logged once, then counted)."""
    rtx_ssrc: int | None = None
    """The publisher's RTX SSRC (RFC 4588), if it negotiated RTX."""
    not_forwarded: int = 0
    """Packets that took aiortc's normal path to this receiver and were dropped."""
    keyframe_requests_sent: int = 0
    nacks_sent: int = 0
    """Generic NACKs sent to the publisher for packets no subscriber history held."""
    retransmissions_received: int = 0
    """RTX packets from the publisher, unwrapped and forwarded."""
    send_failures: int = 0
    """Rewritten packets SRTP refused to protect (too old for its replay window), dropped."""
    rid: str | None = None
    """Simulcast layer: its RID (RFC 8852); None for a track that is not a layer."""
    group: PublishedTrack | None = None
    """Simulcast layer: the track it is a layer of."""
    simulcast: SimulcastOffer | None = None
    """Simulcast track: the layers its publisher offered. Such a track has no forwarder of its own: each layer
    (learned from its first packets) has one, and each subscriber is linked to one layer at a time."""
    layers: dict[str, PublishedTrack] = field(default_factory=dict)
    """Simulcast track: its layers by RID, as their packets arrived."""
    layer_infos: list[LayerInfo] = field(default_factory=list)
    """Simulcast track: what was last measured of each layer (``sfu.layers`` chooses from it)."""
    subscribers: list[SubscribedTrack] = field(default_factory=list)
    """Simulcast track: the subscribed tracks linked to it (each forwarding one of its layers)."""
    recording: DownTrack | None = None
    """Simulcast track: the recording tap's down track (it follows the best active layer)."""
    octets_in: int = 0
    """Simulcast layer: RTP bytes received (for its bitrate)."""
    last_packet_at: float = float("-inf")
    """Simulcast layer: when its last packet arrived (``time.monotonic``)."""
    width: int | None = None
    height: int | None = None
    """Simulcast layer: frame size from its latest key frame."""
    _nack_throttle: NackThrottle = field(default_factory=NackThrottle)
    _rate_samples: deque[tuple[float, dict[str, int]]] = field(default_factory=lambda: deque(maxlen=5))
    _lsr: int = 0
    _lsr_at: float = 0.0
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _upstream: Upstream | None = None

    @property
    def upstream(self) -> Upstream:
        """Where this track's key frame requests, NACKs and REMB go: RTCP to the publisher over the send fast path
        of its peer connection (a relay link will be another :class:`sfu.upstream.Upstream`)."""
        if self._upstream is None:
            assert self.receiver is not None, "a relayed track is made with its upstream"
            self._upstream = RtcpUpstream(_fast_path(self.receiver.transport).send_rtcp, self.rtcp_ssrc)
        return self._upstream

    @upstream.setter
    def upstream(self, upstream: Upstream) -> None:
        self._upstream = upstream

    def receiver_report(self, now: float) -> bytes | None:
        """An RTCP RR about the publisher's stream (RFC 3550 section 6.4.2), so its congestion control sees the
        loss and jitter on its uplink and its RTT (LSR/DLSR) — aiortc's own receiver statistics are bypassed."""
        if self.forwarder is None or self.stats is None:
            return None
        block = self.stats.report_block()
        if block is None:
            return None
        fraction, lost, extended, jitter = block
        dlsr = round((now - self._lsr_at) * 65536) if self._lsr else 0
        report = RtcpReceiverInfo(
            ssrc=self.forwarder.source_ssrc,
            fraction_lost=fraction,
            packets_lost=lost,
            highest_sequence=extended,
            jitter=jitter,
            lsr=self._lsr,
            dlsr=dlsr,
        )
        self.receiver_reports_sent += 1
        return bytes(RtcpRrPacket(ssrc=self.rtcp_ssrc, reports=[report]))

    def sender_report_received(self, ntp_timestamp: int, rtp_timestamp: int, now: float) -> None:
        if self.clock is not None:
            self.clock.update(ntp_timestamp, rtp_timestamp, now)
        self._lsr = (ntp_timestamp >> 16) & 0xFFFFFFFF
        self._lsr_at = now

    def remb_bps(self) -> float | None:
        """The REMB (draft-alvestrand-rmcat-remb) for a video publisher: the most its subscribers can take. Chromium
        takes a REMB as its estimate during its first seconds (it would otherwise start near 300 kbit/s and
        climb ~8 %/s), which is what lets a newcomer's key frame through its pacer quickly; later it caps the
        publisher's loss-based estimate. None for audio, or before the track is negotiated."""
        if self.forwarder is None or self.codec is None or not self.codec.mimeType.lower().startswith("video/"):
            return None
        if self.group is None:
            ceiling = self.publish_ceiling_bps
            if self.remote_limit_bps is not None:
                ceiling = min(ceiling, max(PUBLISH_FLOOR_BPS, self.remote_limit_bps))
            bitrate = self.forwarder.publish_limit_bps(PUBLISH_FLOOR_BPS, ceiling)
        else:
            # Simulcast serves slow subscribers with small layers: the publisher is never asked to slow down
            # for them, only to stay under the ceiling with all its layers together.
            bitrate = self.publish_ceiling_bps
        return bitrate

    async def _run_receiver_reports(self) -> None:
        assert self.receiver is not None
        transport = self.receiver.transport
        path = _fast_path(transport)
        connected = False
        while True:
            # RFC 3550 section 6.3.1: randomised around one second; every 100 ms until the first report could
            # be sent (the publisher's first REMB matters most in its first two seconds).
            await asyncio.sleep(0.5 + random.random() if connected else 0.1)
            now = time.monotonic()
            unsent = path.unsent
            report = self.receiver_report(now)
            if report is not None:
                path.send_rtcp(report)
            remb = self.remb_bps()
            if remb is not None and self.forwarder is not None:
                self.upstream.send_remb(remb, [self.forwarder.source_ssrc])  # the same fast path as the report
                self.rembs_sent += 1
            connected = (report is not None or remb is not None) and path.unsent == unsent

    def request_keyframe(self) -> None:
        """Send an RTCP PLI to the publisher (RFC 4585 section 6.3.1), throttled, without blocking the caller."""
        if self.forwarder is None or not self.forwarder.request_keyframe(time.monotonic()):
            return
        self.upstream.request_keyframe(self.forwarder.source_ssrc)
        self.keyframe_requests_sent += 1

    def request_retransmission(self, seqs: list[int]) -> None:
        """Ask the publisher to resend these (publisher-numbered) packets: one generic NACK (RFC 4585 section
        6.2.1), each number at most once per throttle interval however many subscribers lost it."""
        if self.forwarder is None:
            return
        fresh = self._nack_throttle.filter(seqs, time.monotonic())
        if fresh:
            self.upstream.send_nack(self.forwarder.source_ssrc, fresh)
            self.nacks_sent += 1

    def _send(self, down_track: DownTrack, packet: bytes) -> None:
        # The fan-out callback: no await, no allocation beyond SRTP's output.
        try:
            down_track.sink.send(packet)  # type: ignore[attr-defined]
        except pylibsrtp.Error:
            # libsrtp refuses an index older than its 1024-packet window (a very late or replayed input
            # packet). Raising here would end the *publisher's* DTLS transport loop, so drop and count.
            self.send_failures += 1

    def handle_packet(self, data: bytes, ssrc: int) -> None:
        """One decrypted RTP packet from the publisher (media or RTX SSRC)."""
        forwarder = self.forwarder
        if forwarder is None:
            return
        if ssrc != forwarder.source_ssrc:
            # RFC 4588 section 4: an RTX packet carries the original sequence number first in its payload.
            try:
                start = payload_offset(data)
            except RtpFormatError:
                forwarder.dropped += 1
                return
            original = unwrap_rtx(data, data[1] & 0x7F, forwarder.source_ssrc, start)
            if original is None:
                return  # padding-only probe
            data = original
            self.retransmissions_received += 1
        now = time.monotonic()
        if self.stats is not None:
            seq, ts = _SEQ_TS.unpack_from(data, 2)
            self.stats.add(seq, ts, now)
        if self.group is not None:
            self._observe_layer(data, now)
        if forwarder.fan_out(data, now, self._send):
            self.request_keyframe()  # a subscriber waits for a key frame (start, resume): throttled PLI
        if self.on_rtp is not None and not forwarder.paused:
            self.on_rtp(data)
        if self.on_caption_rtp is not None and not forwarder.paused:
            self.on_caption_rtp(data)
        if self.on_relay is not None and not forwarder.paused:
            self.on_relay(data)
        level_id = self.audio_level_id
        if level_id is not None:
            level = read_audio_level(data, level_id)
            if level != NO_LEVEL:
                self.audio_level = level & 0x7F
                self.voice_activity = level > 0x7F
                if self.on_audio_level is not None:
                    try:
                        self.on_audio_level(level & 0x7F, level > 0x7F)
                    except Exception:
                        # A listener's bug must not stop forwarding; log it once per track, not per packet.
                        self.audio_level_errors += 1
                        if self.audio_level_errors == 1:
                            log.exception("on_audio_level listener failed (further failures are only counted)")

    # -- recording --------------------------------------------------------------------------------------------

    def record(self, on_rtp: Callable[[bytes], None] | None) -> None:
        """Give each forwarded packet to ``on_rtp`` (the recording tap; None stops). A simulcast track records
        its best active layer through a down track of its own, so the tap sees one continuous stream (sequence
        numbers and timestamps carried across a layer switch, which happens on a key frame)."""
        if self.simulcast is None:
            self.on_rtp = on_rtp
            return
        if self.recording is not None:
            _detach(self.recording, self)
            self.recording = None
        if on_rtp is None or self.codec is None or self.codec.payloadType is None:
            return
        self.recording = DownTrack(
            ssrc=0,
            payload_type=self.codec.payloadType,
            clock_rate=self.codec.clockRate,
            sink=_CallbackSink(on_rtp),
            keyframe_start=_KEYFRAME_START.get(self.codec.mimeType.lower()),
            vp8=self.codec.mimeType.lower() == "video/vp8",
        )
        self._place_recording(time.monotonic())

    def _place_recording(self, now: float) -> None:
        down_track = self.recording
        if down_track is None:
            return
        active = [layer for layer in self.layers.values() if now - layer.last_packet_at < LAYER_IDLE_S]
        if active:
            best = max(active, key=lambda layer: _layer_rank(layer))
            move_to_layer(down_track, self, best)
        settle(down_track, self)

    # -- simulcast ----------------------------------------------------------------------------------------------

    def layers_by_ssrc(self) -> dict[int, PublishedTrack]:
        return {layer.forwarder.source_ssrc: layer for layer in self.layers.values() if layer.forwarder is not None}

    def _observe_layer(self, data: bytes, now: float) -> None:
        self.octets_in += len(data)
        self.last_packet_at = now
        keyframe_size = _KEYFRAME_SIZE.get(self.codec.mimeType.lower()) if self.codec is not None else None
        if keyframe_size is None:
            return
        try:
            size = keyframe_size(data, payload_offset(data))
        except RtpFormatError:
            return
        if size is not None:
            self.width, self.height = size

    def add_layer(self, rid: str, ssrc: int) -> PublishedTrack | None:
        """A simulcast track's layer ``rid`` arrived on ``ssrc`` (learned from its RID header extension): start
        forwarding it. None if the publisher did not offer that RID."""
        offer, codec = self.simulcast, self.codec
        if offer is None or codec is None or rid not in offer.rids or self.receiver is None:
            return None
        transport = self.receiver.transport
        taps = _transport_taps(transport)
        old = self.layers.get(rid)
        if old is not None:
            # The layer restarted on a new SSRC: its subscribers re-start on the new one at a key frame.
            _stop_layer(old, taps)
        layer = PublishedTrack(
            receiver=self.receiver,
            rtcp_ssrc=self.rtcp_ssrc,
            forwarder=Forwarder(source_ssrc=ssrc),
            codec=codec,
            clock=SenderClock(codec.clockRate),
            stats=ReceiveStatistics(codec.clockRate),
            publish_ceiling_bps=self.publish_ceiling_bps,
            rid=rid,
            group=self,
        )
        layer.ready.set()
        if self.relay_layer is not None:
            layer.on_relay = self.relay_layer(rid)
        self.layers[rid] = layer
        taps[ssrc] = layer
        # The publisher's sender reports (lip-sync, RTT) are routed by SSRC to the receiver, which hands them on.
        transport._rtp_router.ssrc_table[ssrc] = self.receiver
        layer._start(layer._run_receiver_reports())
        now = time.monotonic()
        layer.last_packet_at = now
        if old is not None and old.forwarder is not None:
            old.forwarder.down_tracks.clear()
        self.refresh_layers(now)
        for subscribed in self.subscribers:
            if subscribed.source is None or subscribed.source is old:
                choose_layer(subscribed, None, now)  # was waiting for a first layer
        self._place_recording(now)
        return layer

    def refresh_layers(self, now: float) -> list[LayerInfo]:
        """Re-measure the layers: bitrate over the last couple of seconds (a key frame can be most of a layer's
        bytes in one tick), activity, size."""
        samples = self._rate_samples
        samples.append((now, {rid: layer.octets_in for rid, layer in self.layers.items()}))
        then, before = samples[0]
        elapsed = now - then
        self.layer_infos = [
            LayerInfo(
                rid,
                bitrate_bps=8 * (layer.octets_in - before.get(rid, layer.octets_in)) / elapsed if elapsed > 0 else 0.0,
                height=layer.height,
                active=now - layer.last_packet_at < LAYER_IDLE_S,
            )
            for rid, layer in self.layers.items()
        ]
        return self.layer_infos

    async def _run_group(self) -> None:
        while True:
            await asyncio.sleep(GROUP_TICK_S)
            now = time.monotonic()
            self.refresh_layers(now)
            self._place_recording(now)

    def _start(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop_tasks(self) -> None:
        tasks = [*self._tasks, *(t for layer in self.layers.values() for t in layer._tasks)]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class _CallbackSink:
    """A down track's sink that hands rewritten packets to a function (the recording tap) instead of a socket."""

    __slots__ = ("send",)

    def __init__(self, send: Callable[[bytes], None]) -> None:
        self.send = send


def _layer_rank(layer: PublishedTrack) -> tuple[int, int]:
    # By key frame height when known, else by the offered order (browsers list layers smallest first).
    group = layer.group
    order = group.simulcast.rids.index(layer.rid) if group and group.simulcast and layer.rid else 0
    return (layer.height or 0, order)


def _stop_layer(layer: PublishedTrack, taps: dict[int, PublishedTrack]) -> None:
    if layer.forwarder is not None:
        taps.pop(layer.forwarder.source_ssrc, None)
    if layer.rtx_ssrc is not None:
        taps.pop(layer.rtx_ssrc, None)
    for task in layer._tasks:
        task.cancel()


def _detach(down_track: DownTrack, group: PublishedTrack) -> None:
    layer_switch.detach(down_track, group.layers.values())


def move_to_layer(down_track: DownTrack, group: PublishedTrack, layer: PublishedTrack) -> None:
    """Forward ``layer`` of ``group`` to ``down_track`` from its next key frame
    (:func:`sfu.layer_switch.move_to_layer`)."""
    layer_switch.move_to_layer(down_track, group.layers.values(), layer)


def settle(down_track: DownTrack, group: PublishedTrack) -> PublishedTrack | None:
    """The layer of ``group`` whose packets go out to ``down_track`` now, after leaving those it no longer takes
    (:func:`sfu.layer_switch.settle`)."""
    return layer_switch.settle(down_track, group.layers.values())


def choose_layer(subscribed: SubscribedTrack, budget_bps: float | None, now: float) -> None:
    """Move ``subscribed`` (linked to a simulcast track) to the layer its selector picks for ``budget_bps`` and
    the size it renders at, and note which layer it is taking packets from now."""
    group, down_track = subscribed.group, subscribed.down_track
    if group is None or down_track is None:
        return
    if subscribed.render_height == 0:
        if not subscribed.hidden:
            _detach(down_track, group)
            subscribed.hidden = True
        return
    if subscribed.hidden:
        # Shown again: the stream continues (next sequence number, timestamp moved on) from a key frame of the
        # layer chosen below, as after a pause (Forwarder.paused).
        subscribed.hidden = False
        down_track.switch_source()
    current = settle(down_track, group)
    if current is not None:
        subscribed.source = current
    if not down_track.started:
        # The first picture comes from the smallest layer (its key frame is a fraction of the biggest's, so it
        # is sent, paced and decoded sooner); the selector's choice follows on the next tick.
        active = [layer for layer in group.layers.values() if now - layer.last_packet_at < LAYER_IDLE_S]
        if active:
            first = min(active, key=_layer_rank)
            move_to_layer(down_track, group, first)
            subscribed.source = first
            return
    rid = subscribed.selector.choose(group.layer_infos, budget_bps, subscribed.render_height, now)
    layer = group.layers.get(rid) if rid is not None else None
    if layer is not None:
        move_to_layer(down_track, group, layer)
        if subscribed.source is None:
            subscribed.source = layer


@dataclass(eq=False)
class SubscribedTrack:
    """An edge-side sender that carries forwarded RTP to one subscriber."""

    sender: RTCRtpSender
    codecs: list[RTCRtpCodecParameters] = field(default_factory=list)
    down_track: DownTrack | None = None
    source: PublishedTrack | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    estimate: BandwidthEstimate = field(default_factory=BandwidthEstimate)
    """What this subscriber can receive, from its receiver reports and REMB (for layer selection)."""
    rtx_payload_type: int | None = None
    """RTX payload type negotiated with this subscriber for the linked codec (None: plain retransmission)."""
    abs_send_time_id: int | None = None
    """abs-send-time extension id negotiated with this subscriber (the edge stamps its packets with it)."""
    keyframe_requests_received: int = 0
    nacks_received: int = 0
    retransmitted: int = 0
    """Packets resent to this subscriber from its history."""
    sender_reports_sent: int = 0
    group: PublishedTrack | None = None
    """The simulcast track this forwards a layer of (None: ``source`` is the whole track)."""
    selector: LayerSelector = field(default_factory=LayerSelector)
    """Which layer of a simulcast track this subscriber gets."""
    render_height: int | None = None
    """The height (device pixels) the subscriber renders this video at, as its client reported (None: unknown,
    no limit; 0: not shown)."""
    hidden: bool = False
    """Not shown by the subscriber (it reported 0 x 0, e.g. a tile on another gallery page): the down track sits
    on no forwarder, so nothing is sent — not even the smallest layer — until it is shown again."""
    _rtx_seq: int = field(default_factory=lambda: random.getrandbits(16), repr=False)

    def handle_nack(self, lost: list[int]) -> None:
        """RFC 4585 section 6.2.1 from the subscriber: resend what the history holds (as RTX if negotiated, RFC
        4588), ask the publisher for the rest."""
        self.nacks_received += 1
        down_track = self.down_track
        if down_track is None or not isinstance(down_track.history, SendHistory):
            return
        # Resend a packet at most once per round trip (aiortc and browsers repeat NACKs while a hole stays open).
        rtt = self.estimate.rtt_s
        min_interval = 0.05 if rtt is None else max(0.01, min(rtt, 0.5))
        resend, upstream = answer_nack(lost, down_track.history, down_track.seq_offset, time.monotonic(), min_interval)
        sink: _FastPath = down_track.sink  # type: ignore[assignment]
        for packet in resend:
            if self.rtx_payload_type is not None:
                packet = wrap_rtx(packet, self.rtx_payload_type, self._rtx_seq, self.sender._rtx_ssrc)
                self._rtx_seq = (self._rtx_seq + 1) & 0xFFFF
            try:
                sink.send(packet)
            except pylibsrtp.Error:
                continue
            self.retransmitted += 1
        if upstream and self.source is not None:
            self.source.request_retransmission(upstream)

    def handle_report(self, packet: RtcpRrPacket | RtcpSrPacket) -> None:
        down_track = self.down_track
        clock_rate = down_track.clock_rate if down_track is not None else 90_000
        now = time.monotonic()
        for report in packet.reports:
            if report.ssrc == self.sender._ssrc:
                self.estimate.on_receiver_report(
                    report.fraction_lost, report.jitter, clock_rate, report.lsr, report.dlsr, now
                )

    def sender_report(self, now: float) -> bytes | None:
        """The compound RTCP (SR + SDES CNAME, RFC 3550 section 6.1) for this subscriber, or None before the
        first forwarded packet. The NTP ↔ RTP pair is the publisher's (so a participant's audio and video
        stay in sync at the subscriber), its RTP timestamp mapped through the down track's offset."""
        down_track = self.down_track
        if down_track is None or not down_track.started:
            return None
        source = self.source
        mapped = source.clock.at(now) if source is not None and source.clock is not None else None
        if (
            mapped is not None
            and source is not None
            and source.forwarder is not None
            and (down_track.is_from_current_source(source.forwarder.source_ssrc))
        ):
            ntp, source_ts = mapped
            rtp_ts = down_track.timestamp_out(source_ts)
        else:
            # No SR from the publisher yet: the edge's clock against the last packet sent (no lip-sync).
            _, last_ts, last_now = down_track.last_sent
            ntp = clock.current_ntp_time()
            rtp_ts = (last_ts + round((now - last_now) * down_track.clock_rate)) & 0xFFFFFFFF
        ssrc = self.sender._ssrc
        data = bytes(
            RtcpSrPacket(
                ssrc=ssrc,
                sender_info=RtcpSenderInfo(
                    ntp_timestamp=ntp,
                    rtp_timestamp=rtp_ts,
                    packet_count=down_track.packets & 0xFFFFFFFF,
                    octet_count=down_track.octets & 0xFFFFFFFF,
                ),
            )
        )
        cname: str | None = getattr(self.sender, "_RTCRtpSender__cname", None)
        if cname:
            data += bytes(RtcpSdesPacket(chunks=[RtcpSourceInfo(ssrc=ssrc, items=[(1, cname.encode())])]))
        self.estimate.sender_report_sent(ntp, now)
        self.sender_reports_sent += 1
        return data


async def _send_quietly(transport: RTCDtlsTransport, data: bytes) -> None:
    try:
        await transport._send_rtp(data)
    except ConnectionError:
        pass  # the peer left; its connection's own teardown reports that


def _transport_taps(transport: RTCDtlsTransport) -> dict[int, PublishedTrack]:
    taps: dict[int, PublishedTrack] | None = getattr(transport, _TAPS_ATTR, None)
    if taps is not None:
        return taps
    taps = {}
    setattr(transport, _TAPS_ATTR, taps)
    original: Callable[[bytes, int], Awaitable[None]] = transport._handle_rtp_data

    async def handle_rtp_data(data: bytes, arrival_time_ms: int) -> None:
        ssrc = int.from_bytes(data[8:12], "big")
        published = taps.get(ssrc) if len(data) >= 12 else None
        if published is None:
            groups: dict[str, PublishedTrack] | None = getattr(transport, _GROUPS_ATTR, None)
            published = _learn_layer(groups, taps, data, ssrc) if groups else None
            if published is None:
                await original(data, arrival_time_ms)
                return
        published.handle_packet(data, ssrc)

    setattr(transport, "_handle_rtp_data", handle_rtp_data)  # noqa: B010 - instance patch, see module docstring
    return taps


def _learn_layer(
    groups: dict[str, PublishedTrack], taps: dict[int, PublishedTrack], data: bytes, ssrc: int
) -> PublishedTrack | None:
    """The simulcast layer a packet of an unknown SSRC belongs to, learned from its MID and RID header
    extensions (RFC 8843 section 15, RFC 8852 section 3), or None. Browsers send both on a stream's first
    packets, before any RTCP told them the edge knows the SSRC. Also maps a layer's RTX stream, which carries
    the repaired RID instead (RFC 8852 section 3.2)."""
    first = next(iter(groups.values()))
    offer = first.simulcast
    if offer is None:
        return None
    group: PublishedTrack | None = None
    if offer.mid_extension_id is not None:  # one BUNDLE transport: one id per extension for every m-section
        mid = header_extension(data, offer.mid_extension_id)
        if mid is not None:
            group = groups.get(mid.decode("ascii", "replace"))
    if group is None and len(groups) == 1 and offer.mid_extension_id is None:
        group = first
    if group is None or group.simulcast is None:
        return None
    rid = header_extension(data, group.simulcast.rid_extension_id)
    if rid is not None:
        return group.add_layer(rid.decode("ascii", "replace"), ssrc)
    repaired_id = group.simulcast.repaired_rid_extension_id
    repaired = header_extension(data, repaired_id) if repaired_id is not None else None
    if repaired is None:
        return None
    layer = group.layers.get(repaired.decode("ascii", "replace"))
    if layer is None:
        return None
    layer.rtx_ssrc = ssrc
    taps[ssrc] = layer
    return layer


def _fast_receive(transport: RTCDtlsTransport, taps: dict[int, PublishedTrack]) -> None:
    """Hand tapped SRTP packets to their forwarder from the socket callback itself.

    aiortc's receive path per datagram: aioice tries to parse it as STUN, queues it, wakes the DTLS transport's
    reader coroutine, which unprotects it and awaits the router. For a tapped media SSRC (in clear in the SRTP
    header, RFC 3711 section 3.1) this does the same work synchronously in ``datagram_received``; every other
    datagram (STUN, DTLS, RTCP, untapped RTP) takes aiortc's path unchanged. Packets already queued when this is
    installed are still delivered by aiortc's loop (at most a few reordered packets, which RTP tolerates)."""
    srtp = transport._rx_srtp
    if srtp is None or getattr(transport, _RECEIVE_PATCHED_ATTR, False):
        return  # not connected (aiortc's path still works), or already patched for another track
    setattr(transport, _RECEIVE_PATCHED_ATTR, True)
    unprotect = _fast_protect(srtp, unprotect=True)
    for protocol in transport.transport._connection._protocols:
        original: Callable[[bytes, Any], None] = protocol.datagram_received

        def datagram_received(data: bytes, addr: Any, original: Callable[[bytes, Any], None] = original) -> None:
            # RTP (RFC 7983 section 7: first byte 128..191), not RTCP (RFC 5761 section 4: PT 192..223).
            if len(data) >= 12 and 127 < data[0] < 192 and not 191 < data[1] < 224:
                ssrc = int.from_bytes(data[8:12], "big")
                published = taps.get(ssrc)
                if published is not None and transport._state == DtlsState.CONNECTED:
                    try:
                        plain = unprotect(data)
                    except pylibsrtp.Error:
                        return  # replayed or forged: aiortc drops these too
                    published.handle_packet(plain, ssrc)
                    return
            original(data, addr)

        setattr(protocol, "datagram_received", datagram_received)  # noqa: B010
        _drain_when_readable(protocol.transport, datagram_received)


def _drain_when_readable(transport: Any, datagram_received: Callable[[bytes, Any], None]) -> None:
    """Give an asyncio selector datagram transport a larger receive buffer and a reader that takes up to
    :data:`DRAIN_MAX` datagrams per readiness instead of one (``_SelectorDatagramTransport._read_ready`` reads one
    and returns to the loop). Other transports (aioice's TURN relay, a proactor loop) are left as they are."""
    sock = getattr(transport, "_sock", None)
    loop = getattr(transport, "_loop", None)
    fd = getattr(transport, "_sock_fd", None)
    if sock is None or loop is None or fd is None or not hasattr(loop, "_add_reader"):
        return
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
    except OSError:
        pass  # the default buffer still works
    recvfrom = sock.recvfrom
    max_size = transport.max_size
    protocol = transport._protocol

    def read_ready() -> None:
        for _ in range(DRAIN_MAX):
            if transport._conn_lost:
                return
            try:
                data, addr = recvfrom(max_size)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                protocol.error_received(exc)
                return
            datagram_received(data, addr)

    loop._add_reader(fd, read_ready)  # replaces the transport's reader on the same fd


def tap_receiver(transceiver: RTCRtpTransceiver, simulcast: SimulcastOffer | None = None) -> PublishedTrack:
    """Forward this transceiver's incoming RTP instead of decoding it (no decoder thread is started). With
    ``simulcast`` (the publisher's offer for this mid, whose answer accepted it) the layers are learned from
    their packets, each forwarded on its own."""
    receiver = transceiver.receiver
    published = PublishedTrack(receiver=receiver, rtcp_ssrc=transceiver.sender._ssrc, simulcast=simulcast)
    original_rtcp: Callable[[AnyRtcpPacket], Awaitable[None]] = receiver._handle_rtcp_packet
    original_stop: Callable[[], Awaitable[None]] = receiver.stop

    async def receive(parameters: RTCRtpReceiveParameters) -> None:
        if published.ready.is_set():
            return
        ssrcs = [encoding.ssrc for encoding in parameters.encodings if encoding.ssrc]
        if not ssrcs and parameters.codecs and published.simulcast is not None and parameters.muxId:
            # RID-based simulcast: no SSRC in the SDP; layers are learned from their first packets.
            published.codec = parameters.codecs[0]
            transport = receiver.transport
            taps = _transport_taps(transport)
            groups: dict[str, PublishedTrack] | None = getattr(transport, _GROUPS_ATTR, None)
            if groups is None:
                groups = {}
                setattr(transport, _GROUPS_ATTR, groups)
            groups[parameters.muxId] = published
            transport._register_rtp_receiver(receiver, parameters)
            _fast_receive(transport, taps)
            published._start(published._run_group())
            published.ready.set()
            return
        if not ssrcs or not parameters.codecs:
            raise TrackLinkError(f"remote description gives no SSRC or codec for mid {parameters.muxId}")
        codec = parameters.codecs[0]
        published.codec = codec
        published.clock = SenderClock(codec.clockRate)
        published.stats = ReceiveStatistics(codec.clockRate)
        published.forwarder = Forwarder(source_ssrc=ssrcs[0])
        published.audio_level_id = next(
            (ext.id for ext in parameters.headerExtensions if ext.uri == AUDIO_LEVEL_URI), None
        )
        transport = receiver.transport
        taps = _transport_taps(transport)
        taps[ssrcs[0]] = published
        rtx = parameters.encodings[0].rtx
        if rtx is not None and rtx.ssrc:
            published.rtx_ssrc = rtx.ssrc
            taps[rtx.ssrc] = published
        # Registered so RTCP (SR, BYE) and untapped packets still find this receiver.
        transport._register_rtp_receiver(receiver, parameters)
        _fast_receive(transport, taps)
        published._start(published._run_receiver_reports())
        published.ready.set()

    async def stop() -> None:
        await published.stop_tasks()
        await original_stop()

    async def handle_rtp_packet(packet: RtpPacket, arrival_time_ms: int) -> None:
        published.not_forwarded += 1

    async def handle_rtcp_packet(packet: AnyRtcpPacket) -> None:
        if isinstance(packet, RtcpSrPacket):
            # This track's, or one of its simulcast layers' (each has its own SSRC and RTP clock).
            source = published if published.simulcast is None else published.layers_by_ssrc().get(packet.ssrc)
            forwarder = source.forwarder if source is not None else None
            if source is not None and forwarder is not None and packet.ssrc == forwarder.source_ssrc:
                info = packet.sender_info
                source.sender_report_received(info.ntp_timestamp, info.rtp_timestamp, time.monotonic())
        await original_rtcp(packet)

    setattr(receiver, "receive", receive)  # noqa: B010
    setattr(receiver, "_handle_rtp_packet", handle_rtp_packet)  # noqa: B010
    setattr(receiver, "_handle_rtcp_packet", handle_rtcp_packet)  # noqa: B010
    setattr(receiver, "stop", stop)  # noqa: B010
    return published


def tap_sender(transceiver: RTCRtpTransceiver) -> SubscribedTrack:
    """Use this transceiver's sender (which must have no track) to carry forwarded RTP."""
    sender = transceiver.sender
    if sender.track is not None:
        raise TrackLinkError("a forwarding sender must not have a track (it would encode it)")
    subscribed = SubscribedTrack(sender=sender)
    original_send = sender.send
    original_rtcp: Callable[[AnyRtcpPacket], Awaitable[None]] = sender._handle_rtcp_packet
    # aiortc's stop() waits for these events around cancelling the two tasks send() starts.
    rtp_started: asyncio.Event = getattr(sender, "_RTCRtpSender__rtp_started")  # noqa: B009
    rtp_exited: asyncio.Event = getattr(sender, "_RTCRtpSender__rtp_exited")  # noqa: B009
    rtcp_started: asyncio.Event = getattr(sender, "_RTCRtpSender__rtcp_started")  # noqa: B009
    rtcp_exited: asyncio.Event = getattr(sender, "_RTCRtpSender__rtcp_exited")  # noqa: B009

    async def send(parameters: RTCRtpSendParameters) -> None:
        if not subscribed.ready.is_set():
            subscribed.codecs = list(parameters.codecs)
            subscribed.abs_send_time_id = next(
                (ext.id for ext in parameters.headerExtensions if ext.uri == ABS_SEND_TIME_URI), None
            )
        await original_send(parameters)
        subscribed.ready.set()

    async def run_rtp(codec: RTCRtpCodecParameters) -> None:
        # No track, no encoder: forwarded packets bypass this loop, which would otherwise poll every 20 ms.
        rtp_started.set()
        try:
            await asyncio.get_running_loop().create_future()
        except asyncio.CancelledError:
            pass
        rtp_exited.set()

    async def run_rtcp() -> None:
        rtcp_started.set()
        try:
            while True:
                # RFC 3550 section 6.3.1: vary the interval over [0.5, 1.5] times the nominal second.
                await asyncio.sleep(0.5 + random.random())
                report = subscribed.sender_report(time.monotonic())
                if report is not None:
                    await _send_quietly(sender.transport, report)
        except asyncio.CancelledError:
            pass
        await _send_quietly(sender.transport, bytes(RtcpByePacket(sources=[sender._ssrc])))
        rtcp_exited.set()

    async def handle_rtcp_packet(packet: AnyRtcpPacket) -> None:
        if isinstance(packet, RtcpPsfbPacket):
            if packet.fmt in (RTCP_PSFB_PLI, RTCP_PSFB_FIR):
                # RFC 4585 section 6.3.1: the edge cannot make a keyframe; pass the request to the publisher.
                subscribed.keyframe_requests_received += 1
                if subscribed.source is not None:
                    subscribed.source.request_keyframe()
                return
            if packet.fmt == RTCP_PSFB_APP:
                try:
                    bitrate, ssrcs = unpack_remb_fci(packet.fci)
                except ValueError:
                    return
                if sender._ssrc in ssrcs:
                    subscribed.estimate.on_remb(bitrate)
                return
        elif isinstance(packet, RtcpRtpfbPacket) and packet.fmt == RTCP_RTPFB_NACK:
            subscribed.handle_nack(packet.lost)
            return
        elif isinstance(packet, (RtcpRrPacket, RtcpSrPacket)):
            subscribed.handle_report(packet)
        await original_rtcp(packet)

    setattr(sender, "send", send)  # noqa: B010
    setattr(sender, "_run_rtp", run_rtp)  # noqa: B010
    setattr(sender, "_run_rtcp", run_rtcp)  # noqa: B010
    setattr(sender, "_handle_rtcp_packet", handle_rtcp_packet)  # noqa: B010
    return subscribed


def link(published: PublishedTrack, subscribed: SubscribedTrack, *, first_sequence: int | None = None) -> DownTrack:
    """Start forwarding ``published`` to ``subscribed`` (both ready). Moving a subscribed track to another
    source is a source switch: the subscriber's stream stays continuous. ``first_sequence`` (random by
    default, RFC 3550 section 5.1) fixes the subscriber's first sequence number, for tests."""
    simulcast = published.simulcast is not None
    if (published.forwarder is None and not simulcast) or published.codec is None or not subscribed.ready.is_set():
        raise TrackLinkError("link() needs both tracks negotiated and connected")
    mime = published.codec.mimeType.lower()
    codec = next((c for c in subscribed.codecs if c.mimeType.lower() == mime), None)
    if codec is None or codec.payloadType is None:
        offered = ", ".join(c.mimeType for c in subscribed.codecs)
        raise TrackLinkError(f"subscriber did not negotiate {published.codec.mimeType} (got {offered})")
    # RFC 4588 section 8.6: the RTX payload type whose apt names this codec.
    subscribed.rtx_payload_type = next(
        (
            c.payloadType
            for c in subscribed.codecs
            if c.mimeType.lower().endswith("/rtx") and str(c.parameters.get("apt")) == str(codec.payloadType)
        ),
        None,
    )
    down_track = subscribed.down_track
    if down_track is None:
        down_track = DownTrack(
            ssrc=subscribed.sender._ssrc,
            payload_type=codec.payloadType,
            clock_rate=codec.clockRate,
            first_sequence=random.getrandbits(16) if first_sequence is None else first_sequence,
            first_timestamp=random.getrandbits(32),
            sink=_fast_path(subscribed.sender.transport),
            keyframe_start=_KEYFRAME_START.get(mime),
            abs_send_time_id=subscribed.abs_send_time_id,
            history=SendHistory(),
            downlink_bps=lambda: subscribed.estimate.bitrate_bps,
            vp8=mime == "video/vp8",
        )
        subscribed.down_track = down_track
    else:
        down_track.payload_type = codec.payloadType
    unlink(subscribed)
    down_track.switch_source()
    # Another publisher on this mid: the client's last size for the mid still holds (it sends a size only when it
    # changes), so a hidden mid stays hidden; linked below, then detached again if so.
    subscribed.hidden = False
    if simulcast:
        subscribed.selector = LayerSelector()  # another track's layers
        subscribed.group = published
        published.subscribers.append(subscribed)
        choose_layer(subscribed, None, time.monotonic())  # none yet: the first layer to arrive links it
        return down_track
    assert published.forwarder is not None
    subscribed.source = published
    published.forwarder.subscribe(down_track)
    published.request_keyframe()
    if subscribed.render_height == 0:  # only videos are ever given a size
        show(subscribed, False)
    return down_track


def show(subscribed: SubscribedTrack, shown: bool) -> None:
    """A whole-track (not simulcast) video shown or not by its subscriber: off its forwarder while hidden; back
    on from the next key frame (asked for) when shown again. Simulcast tracks do this in :func:`choose_layer`."""
    down_track, source = subscribed.down_track, subscribed.source
    if subscribed.group is not None or down_track is None or source is None or source.forwarder is None:
        return
    forwarder = source.forwarder
    if not shown and not subscribed.hidden:
        if down_track in forwarder.down_tracks:
            forwarder.unsubscribe(down_track)
        subscribed.hidden = True
    elif shown and subscribed.hidden:
        subscribed.hidden = False
        forwarder.subscribe(down_track)  # re-anchored: continuous sequence numbers, waits for a key frame
        source.request_keyframe()


def unlink(subscribed: SubscribedTrack) -> None:
    """Stop forwarding anything to ``subscribed`` (its sender stays; :func:`link` may give it a new source)."""
    down_track, group, source = subscribed.down_track, subscribed.group, subscribed.source
    if down_track is not None and group is not None:
        _detach(down_track, group)
    elif down_track is not None and source is not None and source.forwarder is not None:
        if down_track in source.forwarder.down_tracks:
            source.forwarder.unsubscribe(down_track)
    if group is not None and subscribed in group.subscribers:
        group.subscribers.remove(subscribed)
    subscribed.group = None
    subscribed.source = None

"""The forwarding hot path without I/O: RTP header rewrite, continuity across source switches, wraparound."""

from __future__ import annotations

import struct

import pytest
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import HeaderExtensionsMap, RtpPacket

from sfu.forwarder import (
    ABS_SEND_TIME_URI,
    DownTrack,
    Forwarder,
    RtpFormatError,
    build_pli,
    parse_rtp,
    payload_offset,
    rtp_ssrc,
)
from sfu.vp8 import vp8_keyframe_start, vp8_picture_ids, vp8_shift_picture_ids

VP8_KEY = bytes([0x90, 0x80, 0x12, 0x00])  # X=1 S=1 PID=0, I=1, 7-bit PictureID, P=0 (key frame)
VP8_DELTA = bytes([0x90, 0x80, 0x13, 0x01])  # same descriptor, P=1 (inter frame)


def rtp(
    seq: int,
    ts: int,
    ssrc: int,
    *,
    pt: int = 96,
    marker: bool = False,
    payload: bytes = b"payload",
    csrcs: tuple[int, ...] = (),
    extension: bytes | None = None,
) -> bytes:
    first = 0x80 | len(csrcs) | (0x10 if extension is not None else 0)
    header = struct.pack("!BBHII", first, (0x80 if marker else 0) | pt, seq, ts, ssrc)
    header += b"".join(struct.pack("!I", c) for c in csrcs)
    if extension is not None:
        header += struct.pack("!HH", 0xBEDE, len(extension) // 4) + extension
    return header + payload


def fields(packet: bytes) -> tuple[int, bool, int, int, int]:
    """(payload type, marker, seq, ts, ssrc)"""
    _, b1, seq, ts, ssrc = struct.unpack_from("!BBHII", packet)
    return b1 & 0x7F, bool(b1 & 0x80), seq, ts, ssrc


def test_rewrites_ssrc_payload_type_and_offsets_keeping_marker_and_payload() -> None:
    down = DownTrack(ssrc=0xCAFE, payload_type=120, first_sequence=1000, first_timestamp=5000)
    out = down.rewrite(rtp(40, 90_000, 0x1111, pt=96, marker=True, payload=b"abc"), now=0.0)
    assert out is not None
    assert fields(out) == (120, True, 1000, 5000, 0xCAFE)
    assert out[12:] == b"abc"
    out = down.rewrite(rtp(41, 93_000, 0x1111), now=0.03)
    assert out is not None and fields(out)[2:4] == (1001, 8000)


def test_reordered_and_lost_packets_keep_their_distance() -> None:
    down = DownTrack(ssrc=1, payload_type=96, first_sequence=0, first_timestamp=0)
    seqs = []
    for seq in (10, 12, 11, 15):
        out = down.rewrite(rtp(seq, 0, 7), now=0.0)
        assert out is not None
        seqs.append(fields(out)[2])
    assert seqs == [0, 2, 1, 5]  # a gap stays a gap, so the subscriber can still NACK it


def test_csrcs_are_kept_and_header_extensions_dropped() -> None:
    down = DownTrack(ssrc=2, payload_type=111)
    packet = rtp(1, 2, 3, csrcs=(0xAAAA, 0xBBBB), extension=b"\x10\xff\x00\x00", payload=b"opus")
    out = down.rewrite(packet, now=0.0)
    assert out is not None
    assert out[0] == 0x82  # V=2, X cleared, CC=2
    assert out[12:20] == struct.pack("!II", 0xAAAA, 0xBBBB)
    assert out[20:] == b"opus"
    assert payload_offset(out) == 20


@pytest.mark.parametrize(
    ("first_sequence", "first_timestamp"),
    [(0xFFFE, 0xFFFF_FFF0), (0xFFFF, 0xFFFF_FFFF), (0, 0)],
)
def test_sequence_and_timestamp_wrap_at_2_16_and_2_32(first_sequence: int, first_timestamp: int) -> None:
    down = DownTrack(ssrc=9, payload_type=96, first_sequence=first_sequence, first_timestamp=first_timestamp)
    outs = [down.rewrite(rtp(100 + i, 3000 * i, 5), now=i / 30) for i in range(4)]
    got = [fields(o)[2:4] for o in outs if o is not None]
    assert got == [((first_sequence + i) % 2**16, (first_timestamp + 3000 * i) % 2**32) for i in range(4)]


def test_input_wraparound_maps_to_continuous_output() -> None:
    down = DownTrack(ssrc=9, payload_type=96, first_sequence=500, first_timestamp=1000)
    outs = [down.rewrite(rtp(s, t, 5), now=0.0) for s, t in ((0xFFFF, 0xFFFF_FF00), (0, 0x0000_0B00))]
    assert [fields(o)[2:4] for o in outs if o is not None] == [(500, 1000), (501, 1000 + 0xC00)]


def test_source_switch_continues_sequence_and_advances_timestamp_by_elapsed_time() -> None:
    down = DownTrack(ssrc=0xD0, payload_type=96, clock_rate=90_000, first_sequence=0xFFFE, first_timestamp=0)
    a, b = Forwarder(source_ssrc=0xA), Forwarder(source_ssrc=0xB)
    a.subscribe(down)
    sent = [a.forward(rtp(7000 + i, 1_000_000 + 3000 * i, 0xA), now=1.0 + i / 30) for i in range(3)]
    assert [fields(p)[2] for ((_, p),) in sent] == [0xFFFE, 0xFFFF, 0]
    last_ts = fields(sent[-1][0][1])[3]

    a.unsubscribe(down)
    b.subscribe(down)
    assert a.forward(rtp(7003, 1_009_000, 0xA), now=1.1) == []  # the old source no longer reaches it
    # The new source has unrelated numbering; 0.5 s after the last packet sent.
    ((_, first),) = b.forward(rtp(123, 4_000_000_000, 0xB), now=1.0 + 2 / 30 + 0.5)
    ((_, second),) = b.forward(rtp(124, 4_000_003_000, 0xB), now=1.6)
    assert fields(first)[2:] == (1, (last_ts + 45_000) % 2**32, 0xD0)
    assert fields(second)[2:] == (2, (last_ts + 48_000) % 2**32, 0xD0)


def test_timestamps_advance_across_an_immediate_switch() -> None:
    down = DownTrack(ssrc=1, payload_type=96, first_timestamp=2**32 - 1)
    down.rewrite(rtp(1, 50, 0xA), now=3.0)
    down.switch_source()
    out = down.rewrite(rtp(9, 77, 0xB), now=3.0)  # same instant: still a new frame time
    assert out is not None and fields(out)[2:4] == (1, 0)


def test_late_packet_from_the_previous_source_is_dropped() -> None:
    down = DownTrack(ssrc=1, payload_type=96)
    down.rewrite(rtp(1, 0, 0xA), now=0.0)
    down.switch_source()
    down.rewrite(rtp(50, 0, 0xB), now=0.1)
    assert down.rewrite(rtp(2, 0, 0xA), now=0.1) is None


def test_waits_for_a_key_frame_after_start_and_after_a_switch() -> None:
    down = DownTrack(ssrc=1, payload_type=96, first_sequence=10, keyframe_start=vp8_keyframe_start)
    assert down.rewrite(rtp(1, 0, 0xA, payload=VP8_DELTA), now=0.0) is None
    out = down.rewrite(rtp(2, 0, 0xA, payload=VP8_KEY), now=0.0)
    assert out is not None and fields(out)[2] == 10
    assert down.rewrite(rtp(3, 0, 0xA, payload=VP8_DELTA), now=0.0) is not None
    down.switch_source()
    assert down.rewrite(rtp(70, 0, 0xB, payload=VP8_DELTA), now=0.1) is None
    out = down.rewrite(rtp(71, 0, 0xB, payload=VP8_KEY), now=0.1)
    assert out is not None and fields(out)[2] == 12  # no gap for what was held back
    assert down.waiting_drops == 2


def test_fan_out_rewrites_once_per_subscriber() -> None:
    forwarder = Forwarder(source_ssrc=0xA)
    downs = [DownTrack(ssrc=100 + i, payload_type=96 + i, first_sequence=i) for i in range(3)]
    for down in downs:
        forwarder.subscribe(down)
    out = forwarder.forward(rtp(5, 5, 0xA), now=0.0)
    assert [(d, fields(p)[0], fields(p)[2], fields(p)[4]) for d, p in out] == [
        (downs[i], 96 + i, i, 100 + i) for i in range(3)
    ]
    assert forwarder.forward(b"\x80\x00", now=0.0) == [] and forwarder.dropped == 1


def test_malformed_packets_are_rejected() -> None:
    with pytest.raises(RtpFormatError):
        payload_offset(b"\x40" + bytes(11))  # version 1
    with pytest.raises(RtpFormatError):
        payload_offset(rtp(1, 1, 1, extension=b"\x00" * 4)[:14])
    with pytest.raises(RtpFormatError):
        rtp_ssrc(b"\x80")
    assert rtp_ssrc(rtp(1, 1, 0xDEADBEEF)) == 0xDEADBEEF


def test_keyframe_requests_are_throttled() -> None:
    forwarder = Forwarder(source_ssrc=1, keyframe_interval=0.5)
    assert [forwarder.request_keyframe(t) for t in (10.0, 10.1, 10.49, 10.5, 10.6)] == [
        True,
        False,
        False,
        True,
        False,
    ]


def test_pli_layout() -> None:
    # RFC 4585 section 6.1: V=2, FMT=1, PT=206, length 2 (words minus one), sender SSRC, media SSRC.
    assert build_pli(0x01020304, 0x0A0B0C0D) == bytes.fromhex("81ce0002010203040a0b0c0d")


def test_pause_forwards_nothing_and_audio_resumes_without_a_sequence_gap() -> None:
    forwarder = Forwarder(source_ssrc=0xA)
    down = DownTrack(ssrc=1, payload_type=111, clock_rate=48_000, first_sequence=100, first_timestamp=0)
    forwarder.subscribe(down)
    assert [fields(p)[2:4] for _, p in forwarder.forward(rtp(10, 960, 0xA), now=1.0)] == [(100, 0)]
    forwarder.pause()
    assert forwarder.paused
    assert all(forwarder.forward(rtp(11 + i, 960 * (2 + i), 0xA), now=1.02 + i / 50) == [] for i in range(50))
    assert forwarder.paused_drops == 50
    forwarder.resume()
    # 2 s later the stream goes on at sequence 101 (nothing to NACK), its clock advanced by the 2 s paused.
    ((_, out),) = forwarder.forward(rtp(111, 960 * 102, 0xA), now=3.0)
    assert fields(out)[2:4] == (101, 96_000)
    ((_, out),) = forwarder.forward(rtp(112, 960 * 103, 0xA), now=3.02)
    assert fields(out)[2:4] == (102, 96_960)


def test_resumed_video_waits_for_a_key_frame_and_reports_the_wait() -> None:
    forwarder = Forwarder(source_ssrc=0xA)
    down = DownTrack(ssrc=1, payload_type=96, first_sequence=7, keyframe_start=vp8_keyframe_start)
    forwarder.subscribe(down)
    sent: list[bytes] = []
    assert forwarder.fan_out(rtp(1, 0, 0xA, payload=VP8_DELTA), 0.0, lambda d, p: sent.append(p)) is True
    assert forwarder.fan_out(rtp(2, 0, 0xA, payload=VP8_KEY), 0.0, lambda d, p: sent.append(p)) is False
    forwarder.paused = True
    forwarder.paused = True  # idempotent
    assert forwarder.fan_out(rtp(3, 0, 0xA, payload=VP8_KEY), 0.1, lambda d, p: sent.append(p)) is False
    forwarder.paused = False
    assert down.waiting_for_keyframe
    assert forwarder.fan_out(rtp(4, 3000, 0xA, payload=VP8_DELTA), 0.2, lambda d, p: sent.append(p)) is True
    assert forwarder.fan_out(rtp(5, 6000, 0xA, payload=VP8_KEY), 0.3, lambda d, p: sent.append(p)) is False
    assert [fields(p)[2] for p in sent] == [7, 8]


def test_history_records_what_was_sent_and_counts_octets() -> None:
    recorded: dict[int, bytes] = {}

    class History:
        def record(self, seq: int, packet: bytes) -> None:
            recorded[seq] = packet

    down = DownTrack(ssrc=1, payload_type=96, first_sequence=0xFFFF, history=History())
    outs = [down.rewrite(rtp(5 + i, 0, 0xA, csrcs=(9,), payload=b"xy"), now=0.0) for i in range(2)]
    assert recorded == {0xFFFF: outs[0], 0: outs[1]}
    assert down.octets == 2 * (4 + 2)  # CSRC + payload
    assert down.source_sequence(0) == 6 and down.timestamp_out(0) == 0


def test_parsing_once_matches_rewrite_with_an_extension() -> None:
    packet = rtp(1, 2, 3, csrcs=(0xAAAA,), extension=b"\x10\xff\x00\x00", payload=b"opus", marker=True)
    first, marker, seq, ts, ssrc, body, start = parse_rtp(packet)
    assert (first, marker, seq, ts, ssrc, start) == (0x81, 0x80, 1, 2, 3, 24)
    assert body == struct.pack("!I", 0xAAAA) + b"opus"


@pytest.mark.parametrize("csrcs", [(), (0xAAAA, 0xBBBB)])
def test_abs_send_time_is_written_where_aiortc_reads_it(csrcs: tuple[int, ...]) -> None:
    ext_map = HeaderExtensionsMap()
    ext_map.configure(RTCRtpParameters(headerExtensions=[RTCRtpHeaderExtensionParameters(id=3, uri=ABS_SEND_TIME_URI)]))
    down = DownTrack(ssrc=5, payload_type=96, first_sequence=1, abs_send_time_id=3)
    packet = rtp(9, 90, 0xA, csrcs=csrcs, extension=b"\x10\xff\x00\x00", payload=b"vp8!")
    out = down.rewrite(packet, now=70.25)
    assert out is not None
    parsed = RtpPacket.parse(out, ext_map)  # an independent parser
    assert parsed.extensions.abs_send_time == int(70.25 * 2**18) & 0xFFFFFF
    assert (parsed.sequence_number, parsed.ssrc, parsed.csrc, parsed.payload) == (1, 5, list(csrcs), b"vp8!")
    assert payload_offset(out) == 12 + 4 * len(csrcs) + 8


def test_the_publish_limit_is_the_slowest_subscribers_estimate_within_floor_and_ceiling() -> None:
    forwarder = Forwarder(source_ssrc=1)
    assert forwarder.publish_limit_bps(150_000, 2_500_000) == 2_500_000  # nobody here: the ceiling
    estimates: list[float | None] = [None, 900_000.0, 1_200_000.0]
    for i, estimate in enumerate(estimates):
        forwarder.subscribe(DownTrack(ssrc=10 + i, payload_type=96, downlink_bps=lambda e=estimate: e))
    assert forwarder.publish_limit_bps(150_000, 2_500_000) == 900_000
    forwarder.subscribe(DownTrack(ssrc=20, payload_type=96, downlink_bps=lambda: 40_000.0))
    assert forwarder.publish_limit_bps(150_000, 2_500_000) == 150_000  # never below the floor
    forwarder.subscribe(DownTrack(ssrc=21, payload_type=96))  # no estimate source at all: ignored
    assert forwarder.publish_limit_bps(150_000, 1_000_000) == 150_000


def test_a_layer_switch_keeps_the_current_source_until_the_new_one_has_a_key_frame() -> None:
    down = DownTrack(ssrc=0xCAFE, payload_type=96, first_sequence=100, keyframe_start=vp8_keyframe_start)
    small = Forwarder(source_ssrc=0x1)
    big = Forwarder(source_ssrc=0x2)
    small.subscribe(down)
    assert small.forward(rtp(10, 3000, 0x1, payload=VP8_KEY), now=0.0)[0][0] is down
    # Asked to move to the big layer: it joins that forwarder but nothing of it goes out before a key frame,
    # while the small layer keeps flowing (no frozen picture meanwhile).
    down.switch_to(0x2)
    big.down_tracks.append(down)
    assert down.pending_switch == 0x2
    assert big.forward(rtp(500, 9000, 0x2, payload=VP8_DELTA), now=0.01) == []
    ((_, out),) = small.forward(rtp(11, 6000, 0x1, payload=VP8_DELTA), now=0.033)
    assert fields(out)[2] == 101
    # The big layer's key frame: the stream continues on it, one sequence number on, timestamp advanced by the
    # time that passed; from now on the small layer's packets are dropped.
    ((_, out),) = big.forward(rtp(501, 12000, 0x2, payload=VP8_KEY), now=0.066)
    assert fields(out)[2:] == (102, 3000 + round(0.033 * 90_000), 0xCAFE)  # 3000: the small layer's last
    assert down.source_ssrc == 0x2 and down.pending_switch is None
    assert small.forward(rtp(12, 9000, 0x1, payload=VP8_KEY), now=0.07) == []
    ((_, out),) = big.forward(rtp(502, 15000, 0x2, payload=VP8_DELTA), now=0.1)
    assert fields(out)[2:4] == (103, 3000 + round(0.033 * 90_000) + 3000)


def test_a_switch_to_the_current_source_or_cancelled_changes_nothing() -> None:
    down = DownTrack(ssrc=0xCAFE, payload_type=96, keyframe_start=vp8_keyframe_start)
    source = Forwarder(source_ssrc=0x1)
    source.subscribe(down)
    source.forward(rtp(1, 0, 0x1, payload=VP8_KEY), now=0.0)
    down.switch_to(0x1)
    assert down.pending_switch is None
    down.switch_to(0x2)
    down.switch_to(None)
    assert down.pending_switch is None
    assert down.rewrite(rtp(7, 0, 0x2, payload=VP8_KEY), now=0.1) is None  # not asked for any more


def vp8_descriptor(picture_id: int, tl0: int, *, key: bool, long_form: bool = True) -> bytes:
    """X=1 S=1 PID=0; I=1 L=1 T=1; PictureID (15- or 7-bit), TL0PICIDX, TID=0; then the VP8 header's P bit."""
    pid = bytes([0x80 | picture_id >> 8, picture_id & 0xFF]) if long_form else bytes([picture_id & 0x7F])
    return bytes([0x90, 0xE0]) + pid + bytes([tl0, 0x00, 0x00 if key else 0x01])


def ids(packet: bytes) -> tuple[int | None, bool, int | None]:
    return vp8_picture_ids(packet, payload_offset(packet))


def test_picture_ids_stay_continuous_across_a_switch_and_untouched_before_one() -> None:
    down = DownTrack(ssrc=0xCAFE, payload_type=96, keyframe_start=vp8_keyframe_start, vp8=True)
    a, b = Forwarder(source_ssrc=0xA), Forwarder(source_ssrc=0xB)
    a.subscribe(down)
    sent = [a.forward(rtp(1, 0, 0xA, payload=vp8_descriptor(32_000, 7, key=True)), 0.0)[0][1]]
    sent += [a.forward(rtp(2, 3000, 0xA, payload=vp8_descriptor(32_001, 7, key=False)), 0.033)[0][1]]
    # One source: the descriptors go out exactly as they came.
    assert [ids(p) for p in sent] == [(32_000, True, 7), (32_001, True, 7)]
    assert sent[1][12:] == vp8_descriptor(32_001, 7, key=False)
    # Another source numbers from 5 (and TL0 from 200): the subscriber still sees 32_002, 32_003 and TL0 8.
    down.switch_to(0xB)
    b.down_tracks.append(down)
    ((_, out),) = b.forward(rtp(90, 0, 0xB, payload=vp8_descriptor(5, 200, key=True)), 0.066)
    assert ids(out) == (32_002, True, 8)
    ((_, out),) = b.forward(rtp(91, 3000, 0xB, payload=vp8_descriptor(6, 200, key=False)), 0.1)
    assert ids(out) == (32_003, True, 8)
    assert out[-1] & 0x01  # the rest of the payload is untouched
    # 15-bit PictureIDs wrap at 2^15; a 7-bit one at 2^7 in its own width.
    b.forward(rtp(92, 6000, 0xB, payload=vp8_descriptor(32_767 - 32_003 + 6, 200, key=False)), 0.13)
    down.switch_to(0xA)
    ((_, out),) = a.forward(rtp(3, 6000, 0xA, payload=vp8_descriptor(100, 9, key=True, long_form=False)), 0.2)
    assert ids(out) == (0, False, 9)


def test_a_keyframe_descriptor_without_ids_is_forwarded_as_is() -> None:
    down = DownTrack(ssrc=0xCAFE, payload_type=96, keyframe_start=vp8_keyframe_start, vp8=True)
    a = Forwarder(source_ssrc=0xA)
    a.subscribe(down)
    ((_, out),) = a.forward(rtp(1, 0, 0xA, payload=bytes([0x10, 0x00])), 0.0)  # no X: no PictureID, no TL0
    assert out[12:] == bytes([0x10, 0x00])
    assert vp8_shift_picture_ids(bytes([0x10, 0x00]), 0, 5, 5) == bytes([0x10, 0x00])


@pytest.mark.parametrize("first_sequence", [100, 0x7FFF, 0x8000, 40_000, 0xFFFE])
def test_a_switch_continues_the_stream_whatever_the_first_sequence_number(first_sequence: int) -> None:
    # The first sequence number is random; from 2^15 up it once looked older than the initial "last sent" 0, so
    # nothing was recorded as sent and the next switch jumped to sequence 1, timestamp ~0 and the new source's
    # own PictureIDs (Chromium then decoded nothing more: its simulcast layers share PictureIDs).
    down = DownTrack(
        ssrc=0xCAFE,
        payload_type=96,
        first_sequence=first_sequence,
        first_timestamp=1_000,
        keyframe_start=vp8_keyframe_start,
        vp8=True,
    )
    small, big = Forwarder(source_ssrc=0x1), Forwarder(source_ssrc=0x2)
    small.subscribe(down)
    small.forward(rtp(10, 3000, 0x1, payload=vp8_descriptor(700, 3, key=True)), now=0.0)
    ((_, last),) = small.forward(rtp(11, 6000, 0x1, payload=vp8_descriptor(701, 3, key=False)), now=0.033)
    assert down.last_sent == ((first_sequence + 1) & 0xFFFF, 1_000 + 3000, 0.033) == (*fields(last)[2:4], 0.033)
    down.switch_to(0x2)
    big.down_tracks.append(down)
    ((_, out),) = big.forward(rtp(9000, 55_555, 0x2, payload=vp8_descriptor(701, 3, key=True)), now=0.066)
    assert fields(out)[2:4] == ((first_sequence + 2) & 0xFFFF, 1_000 + 3000 + round(0.033 * 90_000))
    assert ids(out) == (702, True, 4)

from __future__ import annotations

import struct

import pytest
from aiortc.rtp import RtcpPacket, RtcpRtpfbPacket, RtpPacket
from aiortc.rtp import unwrap_rtx as aiortc_unwrap_rtx

from sfu.forwarder import payload_offset
from sfu.rtcp import (
    NackThrottle,
    ReceiveStatistics,
    SenderClock,
    SendHistory,
    answer_nack,
    build_nack,
    build_sender_report,
    decode_nack,
    encode_nack,
    parse_sender_report,
    unwrap_rtx,
    wrap_rtx,
)


def test_history_keeps_the_last_packets_by_sequence_number() -> None:
    h = SendHistory(512)
    for seq in range(65_000, 65_000 + 600):
        h.record(seq & 0xFFFF, seq.to_bytes(4, "big"))
    assert h.get((65_000 + 599) & 0xFFFF) == (65_000 + 599).to_bytes(4, "big")
    assert h.get((65_000 + 88) & 0xFFFF) == (65_000 + 88).to_bytes(4, "big")  # 512 back: still there
    assert h.get((65_000 + 87) & 0xFFFF) is None  # overwritten
    assert h.get(1234) is None
    with pytest.raises(ValueError):
        SendHistory(500)


@pytest.mark.parametrize(
    "seqs",
    [[10], [10, 11, 26], [10, 27], list(range(100, 140)), [65_530, 65_535, 0, 3], [5, 5, 7]],
)
def test_nack_fci_round_trip(seqs: list[int]) -> None:
    assert sorted(decode_nack(encode_nack(seqs))) == sorted(set(seqs))


def test_nack_packs_runs_into_few_entries() -> None:
    assert len(encode_nack(range(100, 117))) == 4  # one PID + 16 bits
    assert len(encode_nack(range(100, 118))) == 8


def test_build_nack_is_what_aiortc_parses() -> None:
    # An independent parser (aiortc's) reads our bytes back: the wire format is right.
    (packet,) = RtcpPacket.parse(build_nack(0x1111, 0x2222, [7, 8, 30, 65_535]))
    assert isinstance(packet, RtcpRtpfbPacket) and packet.fmt == 1
    assert (packet.ssrc, packet.media_ssrc) == (0x1111, 0x2222)
    # aiortc does not wrap PID + bit at 2^16 (RFC 3550 arithmetic is modulo 2^16), so compare modulo.
    assert sorted(s & 0xFFFF for s in packet.lost) == [7, 8, 30, 65_535]


def test_answer_nack_resends_what_it_has_and_asks_the_publisher_for_the_rest() -> None:
    h = SendHistory(16)
    offset = 1000  # out = in + 1000
    for out_seq in (1010, 1011, 1013):
        h.record(out_seq, bytes([out_seq & 0xFF]))
    resend, upstream = answer_nack([1010, 1012, 1013, 65_535 + 1001], h, offset)
    assert resend == [bytes([1010 & 0xFF]), bytes([1013 & 0xFF])]
    assert upstream == [12, 0]  # 1012 - 1000, and (0 + 1000) wrapped back to the publisher's 0


def test_rtx_wrap_is_what_aiortc_unwraps_and_unwrap_restores_the_original() -> None:
    original = struct.pack("!BBHII", 0x81, 0x80 | 96, 4242, 90_000, 0xAAAA) + struct.pack("!I", 7) + b"vp8 payload"
    rtx = wrap_rtx(original, rtx_payload_type=97, rtx_seq=11, rtx_ssrc=0xBBBB)
    parsed = RtpPacket.parse(rtx)
    assert (parsed.payload_type, parsed.sequence_number, parsed.ssrc, parsed.marker) == (97, 11, 0xBBBB, 1)
    assert parsed.csrc == [7]
    # aiortc's receiver-side unwrap (an independent implementation) recovers the packet.
    recovered = aiortc_unwrap_rtx(parsed, payload_type=96, ssrc=0xAAAA)
    assert (recovered.sequence_number, recovered.timestamp, recovered.payload) == (4242, 90_000, b"vp8 payload")
    assert unwrap_rtx(rtx, 96, 0xAAAA, payload_offset(rtx)) == original


def test_unwrap_ignores_padding_only_rtx_probes() -> None:
    probe = struct.pack("!BBHII", 0xA0, 97, 1, 0, 0xBBBB) + bytes(9) + bytes([10])  # P=1, 10 octets of padding
    assert unwrap_rtx(probe, 96, 0xAAAA, 12) is None


def test_nack_throttle_asks_once_per_interval() -> None:
    throttle = NackThrottle(interval=0.1)
    assert throttle.filter([1, 2, 3], now=0.0) == [1, 2, 3]
    assert throttle.filter([2, 3, 4], now=0.05) == [4]
    assert throttle.filter([1, 2, 3, 4], now=0.12) == [1, 2, 3]
    for i in range(3000):  # bounded memory
        throttle.filter([i & 0xFFFF], now=1.0 + i)
    assert len(throttle._asked) <= 2049


def test_sender_clock_extrapolates_the_publisher_mapping() -> None:
    clock = SenderClock(clock_rate=90_000)
    assert not clock.known and clock.at(5.0) is None
    ntp = 3_900_000_000 << 32
    clock.update(ntp, 1_000, now=10.0)
    assert clock.at(10.0) == (ntp, 1_000) == clock.reported
    got_ntp, got_rtp = clock.at(10.5)  # type: ignore[misc]
    assert got_ntp == ntp + (1 << 31) and got_rtp == 1_000 + 45_000
    clock.update(ntp, 0xFFFF_FFF0, now=20.0)
    assert clock.at(20.001) == (ntp + round(0.001 * 2**32), (0xFFFF_FFF0 + 90) & 0xFFFFFFFF)


def test_receive_statistics_count_loss_per_interval_across_wraparound() -> None:
    stats = ReceiveStatistics(clock_rate=90_000)
    assert stats.report_block() is None
    seqs = [65_530 + i for i in range(12)]  # crosses 65535 -> 0
    for i, seq in enumerate(seqs):
        if i not in (3, 4, 5):  # three lost
            stats.add(seq & 0xFFFF, 3000 * i, now=i / 30)
    fraction, lost, extended, jitter = stats.report_block()  # type: ignore[misc]
    assert (lost, extended) == (3, 0x10000 + (65_541 & 0xFFFF))
    assert fraction == (3 << 8) // 12
    assert jitter == 0  # perfectly paced: no jitter
    stats.add(65_533, 9000, now=1.0)  # one of the lost arrives late: the interval shows none lost
    for i in range(12, 22):
        stats.add((65_530 + i) & 0xFFFF, 3000 * i, now=i / 30)
    fraction, lost, _, _ = stats.report_block()  # type: ignore[misc]
    assert fraction == 0 and lost == 2


def test_receive_statistics_jitter_follows_rfc_3550() -> None:
    stats = ReceiveStatistics(clock_rate=1000)  # 1 tick per ms keeps the numbers readable
    stats.add(1, 0, now=0.0)
    stats.add(2, 20, now=0.036)  # 16 ms late
    assert stats.report_block()[3] == 1  # type: ignore[index]  # 16/16


def test_rtx_wrap_keeps_a_header_extension_before_the_osn() -> None:
    ext = struct.pack("!HH", 0xBEDE, 1) + bytes([0x32, 1, 2, 3])
    original = struct.pack("!BBHII", 0x90, 96, 77, 1234, 0xAAAA) + ext + b"data"
    rtx = wrap_rtx(original, rtx_payload_type=97, rtx_seq=5, rtx_ssrc=0xBBBB)
    assert rtx[12:20] == ext and rtx[20:22] == struct.pack("!H", 77) and rtx[22:] == b"data"
    assert unwrap_rtx(rtx, 96, 0xAAAA, payload_offset(rtx)) == original


def test_a_packet_is_resent_at_most_once_per_interval() -> None:
    h = SendHistory(16)
    h.record(5, b"five")
    assert answer_nack([5, 6], h, seq_offset=0, now=1.0, min_interval=0.1) == ([b"five"], [6])
    assert answer_nack([5], h, seq_offset=0, now=1.05, min_interval=0.1) == ([], [])  # neither resent nor asked
    assert answer_nack([5], h, seq_offset=0, now=1.11, min_interval=0.1) == ([b"five"], [])
    h.record(5 + 16, b"new")  # the slot is reused: a fresh packet may be resent at once
    h.record(5, b"five again")
    assert answer_nack([5], h, seq_offset=0, now=1.12, min_interval=0.1) == ([b"five again"], [])


def test_a_sender_report_pair_survives_the_wire_and_other_packets_are_not_taken_for_one() -> None:
    packet = build_sender_report(0xDEADBEEF, 0x0123_4567_89AB_CDEF, 0xFFFF_FFFF)
    assert len(packet) == 28 and packet[1] == 200
    (parsed,) = RtcpPacket.parse(packet)  # a valid SR to an independent parser
    assert (parsed.ssrc, parsed.sender_info.ntp_timestamp, parsed.sender_info.rtp_timestamp) == (  # type: ignore[union-attr]
        0xDEADBEEF,
        0x0123_4567_89AB_CDEF,
        0xFFFF_FFFF,
    )
    assert parse_sender_report(packet) == (0xDEADBEEF, 0x0123_4567_89AB_CDEF, 0xFFFF_FFFF)
    assert parse_sender_report(packet[:27]) is None
    assert parse_sender_report(b"\\x00" + packet[1:]) is None  # version 0
    assert parse_sender_report(packet[:1] + bytes([201]) + packet[2:]) is None  # a receiver report
    assert parse_sender_report(build_nack(1, 2, [5])) is None

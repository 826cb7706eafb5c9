"""The media benchmark's packet format and statistics (no sockets)."""

from __future__ import annotations

import math
import struct
import time

from bench.media_peers import PACKET_SIZE, is_rtp, percentile, rtp_packet, stamp_of
from sfu.forwarder import DownTrack, payload_offset
from sfu.vp8 import vp8_keyframe_start


def test_a_stamped_packet_is_rtp_the_edge_forwards_from_its_first_packet() -> None:
    before = time.monotonic_ns()
    packet = rtp_packet(96, 7, 1234, 0xABCDEF01)
    assert len(packet) == PACKET_SIZE
    assert struct.unpack_from("!BBHII", packet) == (0x80, 0x80 | 96, 7, 1234, 0xABCDEF01)
    # The edge's key-frame gate opens on it, so a subscriber linked at any moment gets packets at once.
    assert vp8_keyframe_start(packet, payload_offset(packet))
    assert before <= stamp_of(packet) <= time.monotonic_ns()


def test_the_stamp_survives_the_edge_rewrite() -> None:
    packet = rtp_packet(96, 7, 1234, 0xABCDEF01)
    rewritten = DownTrack(ssrc=5, payload_type=100).rewrite(packet, now=0.0)
    assert rewritten is not None
    assert stamp_of(rewritten) == stamp_of(packet)


def test_the_stamp_is_found_after_a_header_extension() -> None:
    packet = rtp_packet(96, 7, 1234, 1)
    # X bit set and one 32-bit word of extension (RFC 3550 section 5.3.1) inserted after the fixed header.
    extended = bytes([packet[0] | 0x10]) + packet[1:12] + struct.pack("!HHI", 0xBEDE, 1, 0) + packet[12:]
    assert stamp_of(extended) == stamp_of(packet)


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([3.0], 99) == 3.0
    assert math.isnan(percentile([], 50))


def test_rtp_is_told_from_rtcp_stun_and_dtls() -> None:
    assert is_rtp(rtp_packet(96, 1, 2, 3))
    assert not is_rtp(bytes([0x80, 200]) + bytes(30))  # RTCP SR (RFC 5761 section 4)
    assert not is_rtp(bytes([0x00, 0x01]) + bytes(30))  # STUN binding request
    assert not is_rtp(bytes([22, 0xFE]) + bytes(30))  # DTLS handshake
    assert not is_rtp(rtp_packet(96, 1, 2, 3)[:11])

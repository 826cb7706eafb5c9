"""The upstream interface over RTCP: the bytes a publisher's peer connection receives, checked against aiortc's
own RTCP parser and serialiser (the publisher side of every test peer)."""

from __future__ import annotations

import pytest
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTCP_PSFB_PLI,
    RTCP_RTPFB_NACK,
    RtcpPacket,
    RtcpPsfbPacket,
    RtcpRtpfbPacket,
    pack_remb_fci,
    unpack_remb_fci,
)

from sfu.rtcp import build_remb
from sfu.upstream import RtcpUpstream, Upstream


def one_packet(data: bytes) -> object:
    (packet,) = RtcpPacket.parse(data)
    return packet


def test_each_call_sends_one_rtcp_packet_the_publisher_understands() -> None:
    sent: list[bytes] = []
    upstream: Upstream = RtcpUpstream(sent.append, sender_ssrc=0x1111)
    upstream.request_keyframe(0xA)
    upstream.send_nack(0xA, [7, 9, 30])
    upstream.send_remb(800_000, [0xA, 0xB])
    pli, nack, remb = (one_packet(p) for p in sent)
    assert isinstance(pli, RtcpPsfbPacket) and pli.fmt == RTCP_PSFB_PLI
    assert (pli.ssrc, pli.media_ssrc) == (0x1111, 0xA)
    assert isinstance(nack, RtcpRtpfbPacket) and nack.fmt == RTCP_RTPFB_NACK
    assert (nack.ssrc, nack.media_ssrc, sorted(nack.lost)) == (0x1111, 0xA, [7, 9, 30])
    assert isinstance(remb, RtcpPsfbPacket) and remb.fmt == RTCP_PSFB_APP
    assert (remb.ssrc, remb.media_ssrc) == (0x1111, 0)
    assert unpack_remb_fci(remb.fci) == (800_000, [0xA, 0xB])


@pytest.mark.parametrize("bitrate", [0, 150_000, 0x3FFFF, 0x40000, 2_500_000, 123_456_789])
@pytest.mark.parametrize("ssrcs", [[0xA], [0xA, 0xB, 0xFFFFFFFF]])
def test_remb_is_byte_for_byte_what_aiortc_sends(bitrate: int, ssrcs: list[int]) -> None:
    expected = bytes(RtcpPsfbPacket(fmt=RTCP_PSFB_APP, ssrc=0x2222, media_ssrc=0, fci=pack_remb_fci(bitrate, ssrcs)))
    assert build_remb(0x2222, bitrate, ssrcs) == expected


def test_a_fractional_or_negative_bitrate_is_sent_as_whole_bits_per_second() -> None:
    assert build_remb(1, 150_000.9, [2]) == build_remb(1, 150_000, [2])
    assert build_remb(1, -5.0, [2]) == build_remb(1, 0, [2])

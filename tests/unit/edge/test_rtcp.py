from __future__ import annotations

import pytest
from aiortc.rtp import RtcpPacket, RtcpRtpfbPacket

from edge.rtcp import SendHistory, answer_nack, build_nack, decode_nack, encode_nack


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

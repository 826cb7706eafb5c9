from __future__ import annotations

import struct

import pytest
from aiortc.sdp import SessionDescription

from edge.simulcast import (
    RID_URI,
    SimulcastError,
    SimulcastOffer,
    accept_simulcast,
    header_extension,
    parse_simulcast_offer,
)

# The video m-section of a Chromium offer made with three sendEncodings (trimmed to what matters).
CHROME_OFFER = """v=0
o=- 1 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0 1
m=audio 9 UDP/TLS/RTP/SAVPF 111
c=IN IP4 0.0.0.0
a=mid:0
a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
a=sendonly
a=rtpmap:111 opus/48000/2
a=ssrc:1111 cname:x
m=video 9 UDP/TLS/RTP/SAVPF 96 97
c=IN IP4 0.0.0.0
a=mid:1
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
a=sendonly
a=rtpmap:96 VP8/90000
a=rtpmap:97 rtx/90000
a=fmtp:97 apt=96
a=rid:q send
a=rid:h send
a=rid:f send
a=simulcast:send q;h;f
"""

AIORTC_ANSWER = """v=0\r
o=- 3 3 IN IP4 0.0.0.0\r
s=-\r
t=0 0\r
a=group:BUNDLE 0 1\r
a=msid-semantic:WMS *\r
m=audio 9 UDP/TLS/RTP/SAVPF 111\r
c=IN IP4 0.0.0.0\r
a=recvonly\r
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r
a=mid:0\r
a=rtcp-mux\r
a=rtpmap:111 opus/48000/2\r
a=ice-ufrag:abcd\r
a=ice-pwd:abcdefghijklmnopqrstuvwx\r
a=fingerprint:sha-256 00:11\r
a=setup:active\r
m=video 9 UDP/TLS/RTP/SAVPF 96 97\r
c=IN IP4 0.0.0.0\r
a=recvonly\r
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r
a=mid:1\r
a=rtcp-mux\r
a=rtpmap:96 VP8/90000\r
a=rtpmap:97 rtx/90000\r
a=fmtp:97 apt=96\r
a=ice-ufrag:abcd\r
a=ice-pwd:abcdefghijklmnopqrstuvwx\r
a=fingerprint:sha-256 00:11\r
a=setup:active\r
"""


def test_a_chromium_simulcast_offer_is_understood() -> None:
    assert parse_simulcast_offer(CHROME_OFFER) == {
        "1": SimulcastOffer("1", ("q", "h", "f"), rid_extension_id=10, repaired_rid_extension_id=11, mid_extension_id=4)
    }


def test_offers_without_simulcast_have_none() -> None:
    assert parse_simulcast_offer(AIORTC_ANSWER) == {}


@pytest.mark.parametrize(
    ("line", "rids"),
    [
        ("a=simulcast:send q;h;f", ("q", "h", "f")),
        ("a=simulcast:send q;~h;f", ("q", "f")),  # paused stream
        ("a=simulcast:send q,h;f", ("q", "f")),  # alternatives: the first of each
        ("a=simulcast:recv x send q;f", ("q", "f")),
    ],
)
def test_simulcast_line_forms(line: str, rids: tuple[str, ...]) -> None:
    sdp = CHROME_OFFER.replace("a=simulcast:send q;h;f", line)
    assert parse_simulcast_offer(sdp)["1"].rids == rids


@pytest.mark.parametrize(
    ("old", "new", "why"),
    [
        ("a=rid:h send\n", "", "no a=rid send line: h"),
        ("a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\n", "", "header extension"),
        ("a=simulcast:send q;h;f", "a=simulcast:send q;h;f;b@d", "no a=rid send line"),
    ],
)
def test_unusable_simulcast_is_refused_with_a_reason(old: str, new: str, why: str) -> None:
    with pytest.raises(SimulcastError, match=why):
        parse_simulcast_offer(CHROME_OFFER.replace(old, new))


def test_the_answer_accepts_each_layer_under_the_offered_extension_ids() -> None:
    answer = accept_simulcast(AIORTC_ANSWER, parse_simulcast_offer(CHROME_OFFER))
    video = answer.split("m=video", 1)[1]
    for line in [
        f"a=extmap:10 {RID_URI}",
        "a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
        "a=rid:q recv",
        "a=rid:h recv",
        "a=rid:f recv",
        "a=simulcast:recv q;h;f",
    ]:
        assert f"{line}\r\n" in video, line
    assert "a=rid" not in answer.split("m=video", 1)[0]  # the audio section is untouched
    # Still an SDP aiortc itself parses, with the same media sections.
    parsed = SessionDescription.parse(answer)
    assert [m.rtp.muxId for m in parsed.media] == ["0", "1"]
    assert accept_simulcast(AIORTC_ANSWER, {}) == AIORTC_ANSWER


def rtp_with_extensions(profile: int, body: bytes, payload: bytes = b"\x00") -> bytes:
    body += b"\x00" * (-len(body) % 4)
    header = struct.pack("!BBHII", 0x90, 96, 1, 2, 3) + struct.pack("!HH", profile, len(body) // 4)
    return header + body + payload


def test_header_extension_one_byte_form() -> None:
    # RFC 8285 4.2: id 4 (mid "1"), padding, id 10 (rid "h"), then a stop (id 15).
    packet = rtp_with_extensions(0xBEDE, bytes([0x40]) + b"1" + b"\x00" + bytes([0xA0]) + b"h")
    assert header_extension(packet, 10) == b"h"
    assert header_extension(packet, 4) == b"1"
    assert header_extension(packet, 5) is None


def test_header_extension_two_byte_form_and_truncation() -> None:
    packet = rtp_with_extensions(0x1000, bytes([10, 3]) + b"mid" + bytes([20, 0]))
    assert header_extension(packet, 10) == b"mid"
    assert header_extension(packet, 20) == b""
    assert header_extension(packet[:15], 10) is None  # extension length runs past the packet
    assert header_extension(struct.pack("!BBHII", 0x80, 96, 1, 2, 3), 10) is None  # X bit clear

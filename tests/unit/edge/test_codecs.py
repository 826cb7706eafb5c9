"""Codec choice and header extension ids in edge re-offers (the latter keep what the client negotiated, RFC 8285
section 6)."""

from __future__ import annotations

import re

import pytest
from aiortc import RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.codecs import CODECS, HEADER_EXTENSIONS
from aiortc.sdp import SessionDescription

from edge.codecs import (
    client_payload_types,
    codecs_for_offer,
    create_offer,
    extensions_for_offer,
    keep_negotiated_codecs,
    prefer_codec,
)

MID = "urn:ietf:params:rtp-hdrext:sdes:mid"
AUDIO_LEVEL = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
# What Chromium offers (its ids differ from aiortc's fixed 1 = mid, 2 = audio level).
CHROMIUM = {AUDIO_LEVEL: 1, MID: 4, "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time": 2}


def test_known_ids_are_kept_and_the_rest_take_free_ones() -> None:
    table = extensions_for_offer(CHROMIUM)
    ids = {kind: {e.uri: e.id for e in exts} for kind, exts in table.items()}
    assert ids["audio"][AUDIO_LEVEL] == 1 and ids["audio"][MID] == 4 and ids["video"][MID] == 4
    every = [e for exts in table.values() for e in exts]
    by_id: dict[int, set[str]] = {}
    for e in every:
        by_id.setdefault(e.id, set()).add(e.uri)
    assert all(len(uris) == 1 for uris in by_id.values()), by_id  # one URI per id across the bundle
    assert {e.uri for e in every} == {e.uri for exts in HEADER_EXTENSIONS.values() for e in exts}


async def test_an_edge_offer_uses_them_and_aiortc_defaults_are_left_alone() -> None:
    pc = RTCPeerConnection()
    try:
        pc.addTransceiver("audio", direction="sendonly")
        pc.addTransceiver("video", direction="sendonly")
        offer = await create_offer(pc, CHROMIUM)
        media = SessionDescription.parse(offer.sdp).media
        ids = {e.uri: e.id for m in media for e in m.rtp.headerExtensions}
        assert ids[AUDIO_LEVEL] == 1 and ids[MID] == 4
        plain = SessionDescription.parse((await pc.createOffer()).sdp).media
        assert {e.uri: e.id for m in plain for e in m.rtp.headerExtensions}[MID] == 1  # aiortc's own table
    finally:
        await pc.close()


async def test_one_codec_is_offered_with_its_rtx_format_when_asked() -> None:
    pc = RTCPeerConnection()
    try:
        plain = pc.addTransceiver("video", direction="sendonly")
        prefer_codec(plain, "video/VP8")
        with_rtx = pc.addTransceiver("video", direction="sendonly")
        prefer_codec(with_rtx, "video/VP8", rtx=True)
        offer = await pc.createOffer()
        first, second = offer.sdp.split("m=video")[1:]
        assert "VP8/90000" in first and "rtx/90000" not in first and "H264" not in first
        assert "VP8/90000" in second and "rtx/90000" in second and "H264" not in second
        with pytest.raises(ValueError, match="cannot negotiate video/AV1"):
            prefer_codec(plain, "video/AV1", rtx=True)
    finally:
        await pc.close()


# A Chromium offer's codec lines (its payload types, not aiortc's).
CHROMIUM_CODECS = """v=0
o=- 1 2 IN IP4 127.0.0.1
s=-
t=0 0
m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8
c=IN IP4 0.0.0.0
a=mid:0
a=rtpmap:111 opus/48000/2
a=rtpmap:63 red/48000/2
a=rtpmap:9 G722/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
m=video 9 UDP/TLS/RTP/SAVPF 102 103 108 109 96 97 98 99
c=IN IP4 0.0.0.0
a=mid:1
a=rtpmap:102 H264/90000
a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f
a=rtpmap:103 rtx/90000
a=fmtp:103 apt=102
a=rtpmap:108 H264/90000
a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f
a=rtpmap:109 rtx/90000
a=fmtp:109 apt=108
a=rtpmap:96 VP8/90000
a=rtpmap:97 rtx/90000
a=fmtp:97 apt=96
a=rtpmap:98 VP9/90000
a=fmtp:98 profile-id=0
a=rtpmap:99 rtx/90000
a=fmtp:99 apt=98
"""


def test_the_clients_payload_types_are_reused_and_others_take_free_ones() -> None:
    known = client_payload_types(CHROMIUM_CODECS)
    table = codecs_for_offer(known)
    video = {(c.mimeType.lower(), str(c.parameters.get("profile-level-id", c.parameters.get("apt", "")))): c
             for c in table["video"]}  # fmt: skip
    assert video[("video/vp8", "")].payloadType == 96
    assert video[("video/rtx", "96")].payloadType == 97
    assert video[("video/h264", "42001f")].payloadType == 102
    assert video[("video/rtx", "102")].payloadType == 103
    assert video[("video/h264", "42e01f")].payloadType == 108
    assert video[("video/rtx", "108")].payloadType == 109
    audio = {c.mimeType.lower(): c.payloadType for c in table["audio"]}
    assert audio["audio/opus"] == 111 and audio["audio/pcmu"] == 0 and audio["audio/pcma"] == 8
    # One codec per payload type across the bundle, none on a number the client gave another codec (VP9 98).
    every = [c.payloadType for codecs in table.values() for c in codecs]
    assert len(every) == len(set(every)) and 98 not in every and 99 not in every


async def test_an_edge_re_offer_keeps_what_a_publisher_negotiated_first_and_its_payload_types() -> None:
    client, edge = RTCPeerConnection(), RTCPeerConnection()
    try:
        sending = client.addTransceiver("video", direction="sendonly")
        capabilities = RTCRtpSender.getCapabilities("video").codecs
        sending.setCodecPreferences(
            [c for c in capabilities if c.mimeType.lower() == "video/h264"]
            + [c for c in capabilities if c.mimeType.lower() != "video/h264"]
        )
        await client.setLocalDescription(await client.createOffer())
        # Renumber like another browser would: every dynamic payload type + 10.
        offer = _shift_payload_types(client.localDescription.sdp, 10)
        await edge.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        (receiving,) = edge.getTransceivers()
        negotiated = [(c.mimeType.lower(), c.payloadType) for c in receiving._codecs]
        # H.264 first, on a payload type aiortc's own table gives nothing.
        assert negotiated[0][0] == "video/h264" and negotiated[0][1] not in {c.payloadType for c in CODECS["video"]}
        keep_negotiated_codecs(receiving)
        await edge.setLocalDescription(await edge.createAnswer())
        edge.addTransceiver("audio", direction="sendonly")  # someone else's microphone: a re-offer follows

        kept = SessionDescription.parse((await create_offer(edge, {}, client_payload_types(offer))).sdp)
        codecs = [(c.mimeType.lower(), c.payloadType) for c in kept.media[0].rtp.codecs]
        assert codecs[0] == negotiated[0]  # what the client sends stays first, on its payload type
        assert set(codecs) <= set(negotiated)
        opus = next(c for c in kept.media[1].rtp.codecs if c.mimeType.lower() == "audio/opus")
        assert opus.payloadType not in {pt for _, pt in negotiated}  # no clash inside the bundle
    finally:
        await client.close()
        await edge.close()


def _shift_payload_types(sdp: str, by: int) -> str:
    def shift(match: re.Match[str]) -> str:
        return shift_pt(match.group(0))

    def shift_pt(text: str) -> str:
        return str(int(text) + by) if int(text) >= 96 else text

    lines = []
    for line in sdp.split("\r\n"):
        if line.startswith("m="):
            head, formats = line.split(" UDP/TLS/RTP/SAVPF ")
            line = head + " UDP/TLS/RTP/SAVPF " + re.sub(r"\d+", shift, formats)
        elif line.startswith(("a=rtpmap:", "a=fmtp:", "a=rtcp-fb:")):
            key, rest = line.split(":", 1)
            pt, tail = rest.split(" ", 1) if " " in rest else (rest, "")
            tail = re.sub(r"(?<=apt=)\d+", shift, tail)
            line = f"{key}:{shift_pt(pt)} {tail}".rstrip()
        lines.append(line)
    return "\r\n".join(lines)

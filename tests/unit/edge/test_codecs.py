"""Codec choice and header extension ids in edge re-offers (the latter keep what the client negotiated, RFC 8285
section 6)."""

from __future__ import annotations

import pytest
from aiortc import RTCPeerConnection
from aiortc.codecs import HEADER_EXTENSIONS
from aiortc.sdp import SessionDescription

from edge.codecs import create_offer, extensions_for_offer, prefer_codec

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

"""Codec negotiation shared by edge sessions and synthetic participants."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import aiortc.rtcpeerconnection as _aiortc_pc
from aiortc import (
    RTCPeerConnection,
    RTCRtpHeaderExtensionParameters,
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.codecs import HEADER_EXTENSIONS


def prefer_codec(transceiver: RTCRtpTransceiver, mime_type: str, *, rtx: bool = False) -> None:
    """Negotiate one codec only: the forwarder passes payloads through, so both sides must agree on it. With
    ``rtx`` its RTX format too (RFC 4588: retransmissions on a stream of their own, which keeps the receiver's
    loss and bandwidth statistics honest)."""
    kind = mime_type.split("/")[0]
    wanted = {mime_type.lower(), f"{kind}/rtx"} if rtx else {mime_type.lower()}
    codecs = [c for c in RTCRtpSender.getCapabilities(kind).codecs if c.mimeType.lower() in wanted]
    if not any(c.mimeType.lower() == mime_type.lower() for c in codecs):
        raise ValueError(f"aiortc cannot negotiate {mime_type}")
    transceiver.setCodecPreferences(codecs)


# -- RTP header extension ids across renegotiations -----------------------------------------------------------
#
# RFC 8285 section 6 (and RFC 8829 section 5.2.2): once an extension id is negotiated on a BUNDLE transport it
# must keep meaning the same URI in later offers. aiortc's createOffer always writes its own fixed ids (1 = mid,
# 2 = audio level, ...), so an edge re-offer to a browser that chose different ids (Chromium: 1 = audio level)
# is refused ("RTP extension ID reassignment not supported") and the edge would parse the browser's packets
# with the wrong map. The edge therefore offers with the ids the client used, via aiortc's module-level table
# (read synchronously at the start of createOffer, so swapping it around that one call is race-free).


def extension_ids(extensions: Iterable[RTCRtpHeaderExtensionParameters]) -> dict[str, int]:
    """URI → id, as a peer's SDP assigned them."""
    return {ext.uri: ext.id for ext in extensions}


def extensions_for_offer(known: Mapping[str, int]) -> dict[str, list[RTCRtpHeaderExtensionParameters]]:
    """aiortc's header extensions per kind, renumbered to ``known`` ids; others get ids ``known`` leaves free."""
    taken = set(known.values())
    free = (i for i in range(1, 15) if i not in taken)  # one-byte header ids (RFC 8285 section 4.2)
    assigned = dict(known)
    out: dict[str, list[RTCRtpHeaderExtensionParameters]] = {}
    for kind, defaults in HEADER_EXTENSIONS.items():
        exts = []
        for ext in defaults:
            if ext.uri not in assigned:
                assigned[ext.uri] = next(free)
            exts.append(RTCRtpHeaderExtensionParameters(id=assigned[ext.uri], uri=ext.uri))
        out[kind] = exts
    return out


async def create_offer(pc: RTCPeerConnection, known: Mapping[str, int]) -> RTCSessionDescription:
    """``pc.createOffer()`` keeping the header extension ids in ``known`` (see above)."""
    if not known:
        return await pc.createOffer()
    setattr(_aiortc_pc, "HEADER_EXTENSIONS", extensions_for_offer(known))  # noqa: B010 - aiortc has no option
    try:
        return await pc.createOffer()
    finally:
        setattr(_aiortc_pc, "HEADER_EXTENSIONS", HEADER_EXTENSIONS)  # noqa: B010

"""Codec negotiation shared by edge sessions and synthetic participants."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence

import aiortc.rtcpeerconnection as _aiortc_pc
from aiortc import (
    RTCPeerConnection,
    RTCRtpCodecCapability,
    RTCRtpCodecParameters,
    RTCRtpHeaderExtensionParameters,
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.codecs import CODECS, HEADER_EXTENSIONS
from aiortc.rtcpeerconnection import is_codec_compatible
from aiortc.sdp import SessionDescription


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


# -- Payload types and codec order across renegotiations -----------------------------------------------------
#
# The same holds for payload types (RFC 8829 section 5.2.2: a later offer reuses the payload types negotiated
# before), and aiortc breaks it the same way: every createOffer lists each m-section with aiortc's own codec
# table (VP8 first, VP8 = 97) whatever was negotiated. A Chromium publisher that had negotiated H.264 = 102 first
# then saw VP8 first in the edge's re-offer and switched its camera to VP8 at the first renegotiation (someone
# joining), and a VP8 publisher's payload type moved 96 → 97 (its send stream is rebuilt for that). So the edge
# offers aiortc's codecs renumbered to the client's payload types, and each m-section it receives on keeps the
# codecs, in the order, negotiated for it.


def client_payload_types(sdp: str) -> list[RTCRtpCodecParameters]:
    """Every codec (with its payload type) a client's SDP lists, in any m-section."""
    return [codec for media in SessionDescription.parse(sdp).media for codec in media.rtp.codecs]


def codecs_for_offer(known: Sequence[RTCRtpCodecParameters]) -> dict[str, list[RTCRtpCodecParameters]]:
    """aiortc's codecs per kind with the payload types ``known`` gave them (RTX following its base codec); a
    codec the client never listed gets a dynamic payload type the client does not use."""
    taken = {c.payloadType for c in known}
    free = (pt for pt in range(96, 128) if pt not in taken)
    client_rtx = {
        int(apt): c.payloadType
        for c in known
        if c.mimeType.lower().endswith("/rtx") and (apt := c.parameters.get("apt")) is not None
    }
    out: dict[str, list[RTCRtpCodecParameters]] = {}
    for kind, defaults in CODECS.items():
        renumbered: dict[int | None, int | None] = {}
        codecs: list[RTCRtpCodecParameters] = []
        for codec in defaults:
            if codec.mimeType.lower().endswith("/rtx"):
                continue
            same = next((c for c in known if is_codec_compatible(codec, c)), None)
            pt = codec.payloadType
            if same is not None:
                pt = same.payloadType
            elif pt is not None and pt >= 96:  # static payload types (PCMU 0, PCMA 8, G722 9) stay
                pt = next(free)
            renumbered[codec.payloadType] = pt
        for codec in defaults:
            new = copy.deepcopy(codec)
            if codec.mimeType.lower().endswith("/rtx"):
                base = renumbered.get(int(str(codec.parameters["apt"])))
                if base is None:
                    continue
                new.parameters["apt"] = base
                new.payloadType = client_rtx.get(base) or next(free)
            else:
                new.payloadType = renumbered[codec.payloadType]
            codecs.append(new)
        out[kind] = codecs
    return out


def keep_negotiated_codecs(transceiver: RTCRtpTransceiver) -> None:
    """Make later offers list what ``transceiver`` negotiated, in the negotiated order (the first codec is what
    the client sends)."""
    negotiated = transceiver._codecs
    if not negotiated:
        return
    capabilities = RTCRtpSender.getCapabilities(transceiver.kind).codecs
    wanted: list[RTCRtpCodecCapability] = []
    for codec in negotiated:
        if codec.mimeType.lower().endswith("/rtx"):
            continue
        match = next((c for c in capabilities if is_codec_compatible(_as_parameters(c), codec)), None)
        if match is not None and match not in wanted:
            wanted.append(match)
    if any(c.mimeType.lower().endswith("/rtx") for c in negotiated):
        wanted += [c for c in capabilities if c.mimeType.lower().endswith("/rtx")][:1]
    if wanted:
        transceiver.setCodecPreferences(wanted)


def _as_parameters(capability: RTCRtpCodecCapability) -> RTCRtpCodecParameters:
    return RTCRtpCodecParameters(
        mimeType=capability.mimeType,
        clockRate=capability.clockRate,
        channels=capability.channels,
        parameters=dict(capability.parameters),
    )


async def create_offer(
    pc: RTCPeerConnection, known: Mapping[str, int], codecs: Sequence[RTCRtpCodecParameters] = ()
) -> RTCSessionDescription:
    """``pc.createOffer()`` keeping the header extension ids in ``known`` and the payload types of ``codecs``
    (the client's; see above)."""
    if not known and not codecs:
        return await pc.createOffer()
    # aiortc has no option for either: its module-level tables are read synchronously at the start of
    # createOffer, so swapping them around that one call is race-free.
    setattr(_aiortc_pc, "HEADER_EXTENSIONS", extensions_for_offer(known))  # noqa: B010
    setattr(_aiortc_pc, "CODECS", codecs_for_offer(codecs))  # noqa: B010
    try:
        return await pc.createOffer()
    finally:
        setattr(_aiortc_pc, "HEADER_EXTENSIONS", HEADER_EXTENSIONS)  # noqa: B010
        setattr(_aiortc_pc, "CODECS", CODECS)  # noqa: B010

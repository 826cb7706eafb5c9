"""Simulcast receive, the parts aiortc lacks: SDP negotiation of RID-based simulcast and telling the layers'
RTP streams apart. Sans-I/O: strings and bytes in, strings and values out.

A browser that simulcasts (``addTransceiver(track, {sendEncodings: [{rid: "q"}, {rid: "h"}, {rid: "f"}]})``)
offers, per video m-section, ``a=rid:<id> send`` lines, ``a=simulcast:send q;h;f`` (RFC 8853) and the RTP
stream id header extension (RFC 8852), and no ``a=ssrc`` lines: each layer's SSRC is learned from the first
packets, which carry the ``rtp-stream-id`` extension naming their RID. aiortc ignores all three lines, so its
answer would decline simulcast and the browser would send one layer. :func:`accept_simulcast` adds the
receive side to the edge's answer; :func:`header_extension` reads a packet's RID so the edge can map SSRCs
to layers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

RID_URI = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
REPAIRED_RID_URI = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"
MID_URI = "urn:ietf:params:rtp-hdrext:sdes:mid"

_RID_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,16}$")  # RFC 8851 section 10: rid-id is 1*(alpha-numeric / "-" / "_")


class SimulcastError(ValueError):
    """The offer's simulcast description is unusable; the message says what."""


@dataclass(frozen=True, slots=True)
class SimulcastOffer:
    """One m-section's simulcast as offered."""

    mid: str
    rids: tuple[str, ...]
    """The layers in the order of ``a=simulcast:send`` (the sender's preference; browsers list them as added)."""
    rid_extension_id: int
    """The offer's id for the RTP stream id header extension (the answer must reuse it, RFC 8285 section 6)."""
    repaired_rid_extension_id: int | None = None
    mid_extension_id: int | None = None


def _sections(sdp: str) -> list[list[str]]:
    """The SDP's lines split into the session part and one list per m-section."""
    sections: list[list[str]] = [[]]
    for line in sdp.replace("\r\n", "\n").split("\n"):
        if not line:
            continue
        if line.startswith("m="):
            sections.append([])
        sections[-1].append(line)
    return sections


def parse_simulcast_offer(sdp: str) -> dict[str, SimulcastOffer]:
    """The offer's simulcast m-sections by mid (empty when it offers none)."""
    found: dict[str, SimulcastOffer] = {}
    for lines in _sections(sdp)[1:]:
        mid: str | None = None
        send_rids: list[str] = []
        order: list[str] = []
        ext: dict[str, int] = {}
        for line in lines:
            if line.startswith("a=mid:"):
                mid = line[6:].strip()
            elif line.startswith("a=rid:"):
                parts = line[6:].split()
                if len(parts) >= 2 and parts[1] == "send":
                    send_rids.append(parts[0])
            elif line.startswith("a=simulcast:"):
                order = _simulcast_send_list(line[12:])
            elif line.startswith("a=extmap:"):
                ident, _, uri = line[9:].partition(" ")
                ext[uri.split()[0] if uri else ""] = int(ident.split("/")[0])
        if not order or mid is None:
            continue
        unknown = [r for r in order if r not in send_rids]
        if unknown:
            raise SimulcastError(f"mid {mid}: a=simulcast names rids with no a=rid send line: {', '.join(unknown)}")
        bad = [r for r in order if not _RID_TOKEN.match(r)]
        if bad:
            raise SimulcastError(f"mid {mid}: malformed rid {bad[0]!r}")
        if RID_URI not in ext:
            raise SimulcastError(f"mid {mid}: simulcast offered without the {RID_URI} header extension")
        found[mid] = SimulcastOffer(
            mid=mid,
            rids=tuple(order),
            rid_extension_id=ext[RID_URI],
            repaired_rid_extension_id=ext.get(REPAIRED_RID_URI),
            mid_extension_id=ext.get(MID_URI),
        )
    return found


def _simulcast_send_list(value: str) -> list[str]:
    """RFC 8853 section 5.1: ``send <alt-list>;<alt-list> [recv …]``; each alternative list is comma-separated
    and may be paused with ``~``. The edge takes the first alternative of each stream, skipping paused ones."""
    words = value.split()
    rids: list[str] = []
    for direction, streams in zip(words[::2], words[1::2], strict=False):
        if direction != "send":
            continue
        for stream in streams.split(";"):
            first = stream.split(",")[0]
            if first and not first.startswith("~"):
                rids.append(first)
    return rids


def accept_simulcast(answer_sdp: str, offers: dict[str, SimulcastOffer]) -> str:
    """``answer_sdp`` (aiortc's answer) with each offered simulcast accepted: the RID header extensions under the
    offer's ids, ``a=rid:<id> recv`` per layer and ``a=simulcast:recv`` in the offered order (RFC 8853 5.3)."""
    if not offers:
        return answer_sdp
    sections = _sections(answer_sdp)
    for lines in sections[1:]:
        mid = next((line[6:].strip() for line in lines if line.startswith("a=mid:")), None)
        offer = offers.get(mid) if mid is not None else None
        if offer is None or not lines[0].startswith("m=video") or lines[0].split()[1] == "0":
            continue
        have = {line.partition(" ")[2] for line in lines if line.startswith("a=extmap:")}
        extra = [f"a=extmap:{offer.rid_extension_id} {RID_URI}"] if RID_URI not in have else []
        if offer.repaired_rid_extension_id is not None and REPAIRED_RID_URI not in have:
            extra.append(f"a=extmap:{offer.repaired_rid_extension_id} {REPAIRED_RID_URI}")
        extra += [f"a=rid:{rid} recv" for rid in offer.rids]
        extra.append("a=simulcast:recv " + ";".join(offer.rids))
        lines.extend(extra)
    return "\r\n".join(line for lines in sections for line in lines) + "\r\n"


def header_extension(packet: bytes, ext_id: int) -> bytes | None:
    """The value of header extension element ``ext_id`` in an RTP packet, or None. Reads the one-byte (0xBEDE)
    and two-byte (0x100x) forms of RFC 8285 sections 4.2 and 4.3; no allocation unless found."""
    if len(packet) < 12 or not packet[0] & 0x10:
        return None
    offset = 12 + 4 * (packet[0] & 0x0F)
    if len(packet) < offset + 4:
        return None
    profile = (packet[offset] << 8) | packet[offset + 1]
    end = offset + 4 + 4 * ((packet[offset + 2] << 8) | packet[offset + 3])
    if end > len(packet):
        return None
    i = offset + 4
    if profile == 0xBEDE:
        while i < end:
            byte = packet[i]
            if byte == 0:  # padding
                i += 1
                continue
            ident, length = byte >> 4, (byte & 0x0F) + 1
            if ident == 15:  # RFC 8285 section 4.2: stop parsing
                return None
            if ident == ext_id:
                return packet[i + 1 : i + 1 + length] if i + 1 + length <= end else None
            i += 1 + length
    elif profile >> 4 == 0x100:
        while i + 1 < end:
            ident = packet[i]
            if ident == 0:
                i += 1
                continue
            length = packet[i + 1]
            if ident == ext_id:
                return packet[i + 2 : i + 2 + length] if i + 2 + length <= end else None
            i += 2 + length
    return None

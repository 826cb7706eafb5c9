"""A published track's upstream, sans-I/O: what the edge asks of the source of a track's packets.

Packets of a track come from a local publisher's peer connection or (with the relay) over a link from another
edge. Either way the edge sometimes has to ask that source for something: a key frame (a subscriber starts,
switches layer or lost its picture), the retransmission of packets no subscriber history holds, or a bitrate no
higher than its slowest subscriber can take. :class:`Upstream` is that interface; the track model calls it and
never knows which kind of source it talks to. :class:`RtcpUpstream` implements it for a peer connection: it
builds the RTCP (RFC 4585 PLI and generic NACK, REMB) and hands the bytes to a send function (the edge's send
fast path). A relay link implements the same three calls with messages on its control stream.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from sfu.forwarder import build_pli
from sfu.rtcp import build_nack, build_remb


class Upstream(Protocol):
    """Where a track's feedback goes. Calls never block; throttling is the caller's (the forwarder's key frame
    interval, the NACK throttle), so each call means one request."""

    def request_keyframe(self, media_ssrc: int) -> None:
        """Ask for a key frame on ``media_ssrc`` (RFC 4585 section 6.3.1 PLI on a peer connection)."""

    def send_nack(self, media_ssrc: int, seqs: Sequence[int]) -> None:
        """Ask for these source-numbered packets of ``media_ssrc`` again (RFC 4585 section 6.2.1)."""

    def send_remb(self, bitrate_bps: float, media_ssrcs: Sequence[int]) -> None:
        """Tell the source to send at most ``bitrate_bps`` on ``media_ssrcs`` together (REMB)."""


@dataclass(slots=True)
class RtcpUpstream:
    """:class:`Upstream` over RTCP to a publisher's peer connection."""

    send: Callable[[bytes], None]
    """Sends one RTCP packet toward the publisher (SRTCP protection is the sender's business)."""
    sender_ssrc: int
    """SSRC of the edge's side in the publisher's session (aiortc uses the transceiver's sender SSRC)."""

    def request_keyframe(self, media_ssrc: int) -> None:
        self.send(build_pli(self.sender_ssrc, media_ssrc))

    def send_nack(self, media_ssrc: int, seqs: Sequence[int]) -> None:
        self.send(build_nack(self.sender_ssrc, media_ssrc, seqs))

    def send_remb(self, bitrate_bps: float, media_ssrcs: Sequence[int]) -> None:
        self.send(build_remb(self.sender_ssrc, bitrate_bps, media_ssrcs))

"""One participant's RTCPeerConnection at the edge.

The client offers what it publishes; the edge answers and taps each incoming track into a forwarder (no
decoder). To send other participants' tracks the edge adds send-only transceivers with no MediaStreamTrack and
renegotiates with an edge ``offer`` (RFC 8829 section 4.1.8: either side may offer). Negotiations are
serialised per session by one lock, so an edge offer never overlaps the client's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiortc import RTCPeerConnection, RTCRtpTransceiver, RTCSessionDescription
from aiortc.sdp import candidate_from_sdp

from edge import rtp_hooks
from edge.codecs import prefer_codec
from edge.rtp_hooks import PublishedTrack, SubscribedTrack
from protocol.signalling import Answer, Candidate, EdgeMessage, Offer

log = logging.getLogger("meetmesh.edge.session")

NEGOTIATION_TIMEOUT_S = 10.0
"""How long the edge waits for the client's answer (and for DTLS on a new sender) before giving up."""


class SessionError(Exception):
    """A negotiation with the client failed; the message says which and why."""


class Session:
    def __init__(self, participant_id: str, send: Callable[[EdgeMessage], Awaitable[bool]]) -> None:
        self.participant_id = participant_id
        self.pc = RTCPeerConnection()
        self._send = send
        self._lock = asyncio.Lock()
        self._answer: asyncio.Future[str] | None = None
        self.published: dict[str, PublishedTrack] = {}
        """Incoming tracks by the client's mid."""
        self.subscribed: dict[object, tuple[RTCRtpTransceiver, SubscribedTrack]] = {}
        """Outgoing tracks, keyed by what the room calls them."""

    async def handle_offer(self, sdp: str) -> list[tuple[str, str, PublishedTrack]]:
        """Apply the client's offer and answer it; returns the newly published (mid, kind, track)."""
        async with self._lock:
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            new: list[tuple[str, str, PublishedTrack]] = []
            for transceiver in self.pc.getTransceivers():
                mid = transceiver.mid
                # The client sends on it (its offer says sendonly/sendrecv), so the edge receives: tap it now,
                # before DTLS completes, so no decoder ever starts.
                if mid is None or mid in self.published or transceiver.direction not in ("recvonly", "sendrecv"):
                    continue
                if any(t is transceiver for t, _ in self.subscribed.values()):
                    continue
                transceiver.direction = "recvonly"
                published = rtp_hooks.tap_receiver(transceiver)
                self.published[mid] = published
                new.append((mid, transceiver.kind, published))
            await self.pc.setLocalDescription(await self.pc.createAnswer())
            await self._send(Answer(sdp=self.pc.localDescription.sdp))
            return new

    def handle_answer(self, sdp: str) -> None:
        if self._answer is None or self._answer.done():
            raise SessionError("answer received but the edge has no offer outstanding")
        self._answer.set_result(sdp)

    async def handle_candidate(self, msg: Candidate) -> None:
        # aiortc gathers all candidates before the SDP is sent, so trickled ones are rare; accept them anyway.
        if not msg.candidate:
            return
        candidate = candidate_from_sdp(msg.candidate.removeprefix("candidate:"))
        candidate.sdpMid = msg.sdp_mid
        candidate.sdpMLineIndex = msg.sdp_mline_index
        await self.pc.addIceCandidate(candidate)

    async def subscribe(self, key: object, source: PublishedTrack, kind: str) -> SubscribedTrack:
        """Add a send-only transceiver carrying ``source`` and renegotiate with an edge offer."""
        async with self._lock:
            transceiver = self.pc.addTransceiver(kind, direction="sendonly")
            if source.codec is not None:
                prefer_codec(transceiver, source.codec.mimeType)
            subscribed = rtp_hooks.tap_sender(transceiver)
            self.subscribed[key] = (transceiver, subscribed)
            await self._renegotiate()
        await asyncio.wait_for(subscribed.ready.wait(), NEGOTIATION_TIMEOUT_S)
        rtp_hooks.link(source, subscribed)
        return subscribed

    async def unsubscribe(self, key: object) -> None:
        """Stop forwarding to ``key``'s sender and mark it inactive, so the client's track ends."""
        entry = self.subscribed.pop(key, None)
        if entry is None:
            return
        transceiver, subscribed = entry
        if subscribed.source is not None and subscribed.source.forwarder is not None and subscribed.down_track:
            if subscribed.down_track in subscribed.source.forwarder.down_tracks:
                subscribed.source.forwarder.unsubscribe(subscribed.down_track)
        subscribed.source = None
        async with self._lock:
            if self.pc.connectionState == "closed":
                return
            transceiver.direction = "inactive"
            await self._renegotiate()

    async def _renegotiate(self) -> None:
        """Edge offer → client answer; the caller holds the lock."""
        loop = asyncio.get_running_loop()
        self._answer = loop.create_future()
        await self.pc.setLocalDescription(await self.pc.createOffer())
        if not await self._send(Offer(sdp=self.pc.localDescription.sdp)):
            raise SessionError(f"participant {self.participant_id} is gone; cannot renegotiate")
        try:
            sdp = await asyncio.wait_for(self._answer, NEGOTIATION_TIMEOUT_S)
        except TimeoutError:
            raise SessionError(
                f"participant {self.participant_id} did not answer within {NEGOTIATION_TIMEOUT_S:g} s"
            ) from None
        finally:
            self._answer = None
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))

    async def close(self) -> None:
        if self._answer is not None and not self._answer.done():
            self._answer.cancel()
        await self.pc.close()

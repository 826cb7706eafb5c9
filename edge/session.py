"""One participant's RTCPeerConnection at the edge.

The client offers what it publishes; the edge answers and taps each incoming track into a forwarder (no
decoder). To send other participants' tracks the edge adds send-only transceivers with no MediaStreamTrack and
renegotiates with an edge ``offer`` (RFC 8829 section 4.1.8: either side may offer). Negotiations take turns:
one at a time per session, and a client offer waiting for its turn goes before edge offers not yet started.

Glare (both sides offer at once) follows "perfect negotiation" (W3C webrtc-pc section 10.7): the edge is the
*impolite* peer. A client offer that arrives while the edge's own offer is outstanding is ignored at once - it
neither waits for its turn (which would stall the socket reader, so the answer the edge waits for could never
be read: the old 10 s stall) nor is applied later; the polite client rolls its offer back, answers the edge's
and offers again. Each offer
carries ``tracks`` (mid → source and publisher) so clients know whose media each mid is.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager

from aiortc import RTCPeerConnection, RTCRtpTransceiver, RTCSessionDescription
from aiortc.sdp import candidate_from_sdp

from edge import rtp_hooks
from edge.codecs import create_offer, extension_ids, prefer_codec
from edge.room import TrackRef
from edge.rtp_hooks import PublishedTrack, SubscribedTrack
from protocol.signalling import Answer, Candidate, EdgeMessage, Offer, TrackInfo

log = logging.getLogger("meetmesh.edge.session")

NEGOTIATION_TIMEOUT_S = 10.0
"""How long the edge waits for the client's answer (and for DTLS on a new sender) before giving up."""


class SessionError(Exception):
    """A negotiation with the client failed; the message says which and why."""


class SubscribeError(SessionError):
    """Some tracks of an update could not be started; ``keys`` says which (the rest are forwarded)."""

    def __init__(self, keys: list[object], message: str) -> None:
        super().__init__(message)
        self.keys = keys


class Session:
    def __init__(
        self,
        participant_id: str,
        send: Callable[[EdgeMessage], Awaitable[bool]],
        max_publish_bitrate: float = 2_500_000.0,
    ) -> None:
        self.participant_id = participant_id
        self.max_publish_bitrate = max_publish_bitrate
        """What this participant's video is asked for at most (REMB ceiling)."""
        self.pc = RTCPeerConnection()
        self._send = send
        self._turns = asyncio.Condition()
        self._busy = False
        """A negotiation (the client's offer or the edge's) is being applied."""
        self._client_offers_waiting = 0
        self._answer: asyncio.Future[str] | None = None
        self._making_offer = False
        """The edge's offer is outstanding: from before createOffer until the client's answer arrives."""
        self.ignored_offers = 0
        """Client offers dropped because they collided with the edge's (glare; the client re-offers)."""
        self.published: dict[str, PublishedTrack] = {}
        """Incoming tracks by the client's mid."""
        self._extension_ids: dict[str, int] = {}
        """Header extension URI → id as the client's offers numbered them; kept in edge offers (RFC 8285)."""
        self._stopped: list[tuple[str, str, str]] = []
        self._stopped_mids: set[str] = set()
        self.sources: dict[str, str] = {}
        """What each published mid shows (``camera``/``microphone``/``screen``), as the client's offers said."""
        self.subscribed: dict[object, tuple[RTCRtpTransceiver, SubscribedTrack]] = {}
        """Outgoing tracks, keyed by what the room calls them."""

    @property
    def negotiating(self) -> bool:
        """The edge has an offer of its own in progress (a client offer now would collide)."""
        return self._making_offer

    async def handle_offer(
        self, sdp: str, tracks: Mapping[str, TrackInfo] | None = None
    ) -> list[tuple[str, str, PublishedTrack]]:
        """Apply the client's offer and answer it; returns the newly published (mid, kind, track), or nothing
        when the offer collided with the edge's own and was ignored (the impolite side of perfect negotiation)."""
        if self._making_offer:
            self.ignored_offers += 1
            log.debug("participant %s: ignoring a colliding offer (glare); it will re-offer", self.participant_id)
            return []
        async with self._client_turn():
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            new: list[tuple[str, str, PublishedTrack]] = []
            for transceiver in self.pc.getTransceivers():
                self._extension_ids.update(extension_ids(transceiver._headerExtensions))
                mid = transceiver.mid
                # A published m-line the client now offers inactive (or recvonly, from the edge's side "sendonly")
                # stopped: a screen share ended. aiortc keeps the offered direction only privately.
                offered = getattr(transceiver, "_offerDirection", None)
                if mid in self.published and mid not in self._stopped_mids and offered in ("inactive", "sendonly"):
                    self._stopped_mids.add(mid)
                    self._stopped.append((mid, transceiver.kind, self.sources.get(mid, "")))
                # The client sends on it (its offer says sendonly/sendrecv), so the edge receives: tap it now,
                # before DTLS completes, so no decoder ever starts.
                if mid is None or mid in self.published or transceiver.direction not in ("recvonly", "sendrecv"):
                    continue
                if any(t is transceiver for t, _ in self.subscribed.values()):
                    continue
                transceiver.direction = "recvonly"
                published = rtp_hooks.tap_receiver(transceiver)
                published.publish_ceiling_bps = self.max_publish_bitrate
                self.published[mid] = published
                info = (tracks or {}).get(mid)
                self.sources[mid] = info.source if info is not None else ""
                new.append((mid, transceiver.kind, published))
            await self.pc.setLocalDescription(await self.pc.createAnswer())
            await self._send(Answer(sdp=self.pc.localDescription.sdp))
            return new

    def take_stopped(self) -> list[tuple[str, str, str]]:
        """Published tracks the client stopped sending since the last call: (mid, kind, source)."""
        stopped, self._stopped = self._stopped, []
        return stopped

    def handle_answer(self, sdp: str) -> None:
        if self._answer is None or self._answer.done():
            raise SessionError("answer received but the edge has no offer outstanding")
        self._answer.set_result(sdp)
        # From here a client offer no longer collides: it waits (briefly) while the answer is applied.
        self._making_offer = False

    async def handle_candidate(self, msg: Candidate) -> None:
        # aiortc gathers all candidates before the SDP is sent, so trickled ones are rare; accept them anyway.
        if not msg.candidate:
            return
        try:
            candidate = candidate_from_sdp(msg.candidate.removeprefix("candidate:"))
        except (ValueError, IndexError):
            log.debug("participant %s: unparsable ICE candidate dropped", self.participant_id)
            return
        candidate.sdpMid = msg.sdp_mid
        candidate.sdpMLineIndex = msg.sdp_mline_index
        if self.pc.remoteDescription is None:
            return  # trickled for an offer the edge ignored (glare): the re-offer carries it again
        try:
            await self.pc.addIceCandidate(candidate)
        except (ValueError, KeyError) as exc:
            # A candidate for a mid the edge does not know (from a rolled-back offer): harmless, drop it.
            log.debug("participant %s: candidate dropped: %s", self.participant_id, exc)

    async def subscribe(self, key: object, source: PublishedTrack, kind: str) -> SubscribedTrack:
        """Add a send-only transceiver carrying ``source`` and renegotiate with an edge offer."""
        (subscribed,) = await self.update(add=[(key, source, kind)])
        return subscribed

    async def unsubscribe(self, key: object) -> None:
        """Stop forwarding to ``key``'s sender and mark it inactive, so the client's track ends."""
        await self.update(remove=[key])

    async def update(
        self,
        add: Sequence[tuple[object, PublishedTrack, str]] = (),
        remove: Sequence[object] = (),
    ) -> list[SubscribedTrack]:
        """Several subscription changes in one edge offer: ``remove`` stops those senders (inactive, so the
        client's tracks end), ``add`` adds a send-only transceiver per (key, source, kind). A newcomer to a
        meeting of N gets everybody's tracks in one round trip instead of 2N, which is most of its join time."""
        stopped: list[RTCRtpTransceiver] = []
        for key in remove:
            entry = self.subscribed.pop(key, None)
            if entry is None:
                continue
            transceiver, subscribed = entry
            source = subscribed.source
            if source is not None and source.forwarder is not None and subscribed.down_track:
                if subscribed.down_track in source.forwarder.down_tracks:
                    source.forwarder.unsubscribe(subscribed.down_track)
            subscribed.source = None
            stopped.append(transceiver)
        if not add and not stopped:
            return []
        added: list[tuple[object, PublishedTrack, SubscribedTrack]] = []
        async with self._edge_turn():
            if self.pc.connectionState == "closed":
                if add:
                    raise SessionError(f"participant {self.participant_id} is gone; cannot subscribe")
                return []
            for transceiver in stopped:
                transceiver.direction = "inactive"
            for key, source, kind in add:
                transceiver = self.pc.addTransceiver(kind, direction="sendonly")
                if source.codec is not None:
                    prefer_codec(transceiver, source.codec.mimeType)
                subscribed = rtp_hooks.tap_sender(transceiver)
                self.subscribed[key] = (transceiver, subscribed)
                added.append((key, source, subscribed))
            try:
                await self._renegotiate()
            except BaseException:
                # Never offered successfully: forget them (a retry adds them afresh) and let the next offer
                # carry their m-lines as inactive.
                for key, _, _ in added:
                    entry = self.subscribed.pop(key, None)
                    if entry is not None:
                        entry[0].direction = "inactive"
                raise
        # Each sender starts once the transport is up; one that does not start in time fails alone.
        started = await asyncio.gather(
            *(asyncio.wait_for(s.ready.wait(), NEGOTIATION_TIMEOUT_S) for _, _, s in added), return_exceptions=True
        )
        linked: list[SubscribedTrack] = []
        failed: list[object] = []
        for (key, source, subscribed), outcome in zip(added, started, strict=True):
            if isinstance(outcome, BaseException):
                failed.append(key)
                entry = self.subscribed.pop(key, None)
                if entry is not None:
                    entry[0].direction = "inactive"  # goes out with the next offer
                continue
            rtp_hooks.link(source, subscribed)
            linked.append(subscribed)
        if failed:
            who = self.participant_id
            raise SubscribeError(failed, f"{len(failed)} of {len(added)} new senders to {who} did not start")
        return linked

    @asynccontextmanager
    async def _client_turn(self) -> AsyncIterator[None]:
        """Apply a client offer: waits only for a negotiation already being applied, and edge offers not yet
        started wait for it (so the socket reader, which calls this, never waits on an answer it must read)."""
        async with self._turns:
            self._client_offers_waiting += 1
            try:
                await self._turns.wait_for(lambda: not self._busy)
            finally:
                self._client_offers_waiting -= 1
            self._busy = True
        try:
            yield
        finally:
            async with self._turns:
                self._busy = False
                self._turns.notify_all()

    @asynccontextmanager
    async def _edge_turn(self) -> AsyncIterator[None]:
        """Make an edge offer: one at a time, and never while a client offer waits to be applied."""
        async with self._turns:
            await self._turns.wait_for(lambda: not self._busy and not self._client_offers_waiting)
            self._busy = True
            self._making_offer = True
        try:
            yield
        finally:
            async with self._turns:
                self._busy = False
                self._making_offer = False
                self._turns.notify_all()

    def track_info(self) -> dict[str, TrackInfo]:
        """Whose media each active send-only mid carries (sent with every edge offer)."""
        out: dict[str, TrackInfo] = {}
        for key, (transceiver, _) in self.subscribed.items():
            if transceiver.mid is None or transceiver.direction == "inactive":
                continue
            if isinstance(key, TrackRef):
                out[transceiver.mid] = TrackInfo(source=key.source, participant_id=key.publisher_id)
        return out

    async def _renegotiate(self) -> None:
        """Edge offer → client answer; the caller holds the edge's turn."""
        loop = asyncio.get_running_loop()
        self._answer = loop.create_future()
        await self.pc.setLocalDescription(await create_offer(self.pc, self._extension_ids))
        offer = Offer(sdp=self.pc.localDescription.sdp, tracks=self.track_info())
        if not await self._send(offer):
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

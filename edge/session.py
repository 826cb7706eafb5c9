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
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager

from aiortc import RTCBundlePolicy, RTCConfiguration, RTCPeerConnection, RTCRtpTransceiver, RTCSessionDescription
from aiortc.sdp import candidate_from_sdp

from edge import rtp_hooks
from edge.codecs import create_offer, extension_ids, prefer_codec
from edge.rtp_hooks import PublishedTrack, SubscribedTrack
from edge.simulcast import SimulcastOffer, accept_simulcast, parse_simulcast_offer
from protocol.signalling import Answer, Candidate, EdgeMessage, Offer, TrackInfo, Tracks
from sfu.layers import DownlinkBudget
from sfu.room import TrackRef

log = logging.getLogger("meetmesh.edge.session")

NEGOTIATION_TIMEOUT_S = 10.0
"""How long the edge waits for the client's answer (and for DTLS on a new sender) before giving up."""
ADAPT_TICK_S = 0.5
"""How often each subscriber's simulcast layers are chosen again (bandwidth, rendered size, layer activity)."""
RATE_WINDOW_TICKS = 5
"""Adaptation ticks over which the rate sent to a subscriber is measured (about two seconds)."""
AUDIO_SHARE_BPS = 50_000.0
"""What each forwarded audio track is assumed to take out of a congested subscriber's budget."""


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
        # Max-bundle (RFC 8843): every m-line on one transport from the start. aiortc's default ("balanced") gives a
        # new transceiver the transport of one *of the same kind*: two video senders added in one renegotiation to
        # a participant with no video yet (a receive-only viewer) shared a fresh transport, BUNDLE then moved the
        # first onto the shared one and discarded it, and the second never started.
        self.pc = RTCPeerConnection(RTCConfiguration(bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
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
        self.simulcast: dict[str, SimulcastOffer] = {}
        """The client's simulcast m-sections by mid, as its latest offer described them (the edge accepts
        them in every answer and repeats them in its own offers, or the browser would fall back to one layer)."""
        self.budget = DownlinkBudget()
        """This subscriber's budget for simulcast video, from its bandwidth estimate."""
        self._sent_samples: deque[tuple[float, int]] = deque(maxlen=RATE_WINDOW_TICKS)
        self._adapter: asyncio.Task[None] | None = None

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
        simulcast_offers = parse_simulcast_offer(sdp)  # SimulcastError (a ValueError) refuses the offer
        async with self._client_turn():
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            for transceiver in self.pc.getTransceivers():
                if transceiver.mid is not None and transceiver.mid not in simulcast_offers:
                    self.simulcast.pop(transceiver.mid, None)
            self.simulcast.update(simulcast_offers)
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
                # before DTLS completes, so no decoder ever starts. aiortc makes every m-line of a remote offer
                # "recvonly" here, including one the client only receives on (a receive-only client's recvonly
                # microphone line, "sendonly" from the edge's side): that one publishes nothing, and taking it as
                # a publication would leave a track that never starts.
                if mid is None or mid in self.published or transceiver.direction not in ("recvonly", "sendrecv"):
                    continue
                if offered not in (None, "recvonly", "sendrecv"):
                    continue
                if any(t is transceiver for t, _ in self.subscribed.values()):
                    continue
                transceiver.direction = "recvonly"
                simulcast = simulcast_offers.get(mid) if transceiver.kind == "video" else None
                published = rtp_hooks.tap_receiver(transceiver, simulcast)
                published.publish_ceiling_bps = self.max_publish_bitrate
                self.published[mid] = published
                info = (tracks or {}).get(mid)
                self.sources[mid] = info.source if info is not None else ""
                new.append((mid, transceiver.kind, published))
            await self.pc.setLocalDescription(await self.pc.createAnswer())
            # aiortc knows nothing of simulcast: the answer it made declines it (RFC 8853 section 5.3), so the
            # client gets it with simulcast accepted. aiortc re-serialises its local description, so the edited
            # text is sent, not set.
            await self._send(Answer(sdp=accept_simulcast(self.pc.localDescription.sdp, simulcast_offers)))
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
            rtp_hooks.unlink(subscribed)
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
                    prefer_codec(transceiver, source.codec.mimeType, rtx=kind == "video")
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
            if subscribed.group is not None and self._adapter is None:
                self._adapter = asyncio.create_task(self._adapt_forever(), name=f"adapt-{self.participant_id}")
        if failed:
            who = self.participant_id
            raise SubscribeError(failed, f"{len(failed)} of {len(added)} new senders to {who} did not start")
        return linked

    async def move(self, moves: Sequence[tuple[object, object, PublishedTrack]]) -> list[object]:
        """Point existing senders at other tracks without renegotiating: each (old key, new key, source) moves
        ``old key``'s sender to ``source`` (a source switch: the subscriber's stream continues from the new
        source's next key frame) and tells the client whose media the mid now carries (``tracks``). Returns the
        new keys moved; a sender that cannot carry ``source`` (another codec) is left alone, for the caller to
        renegotiate."""
        moved: list[object] = []
        for old_key, new_key, source in moves:
            entry = self.subscribed.get(old_key)
            if entry is None or new_key in self.subscribed or entry[0].direction == "inactive":
                continue
            try:
                rtp_hooks.link(source, entry[1])
            except rtp_hooks.TrackLinkError:
                continue
            del self.subscribed[old_key]
            self.subscribed[new_key] = entry
            moved.append(new_key)
            if entry[1].group is not None and self._adapter is None:
                self._adapter = asyncio.create_task(self._adapt_forever(), name=f"adapt-{self.participant_id}")
        if moved:
            await self._send(Tracks(tracks=self.track_info()))
        return moved

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
        sdp = accept_simulcast(self.pc.localDescription.sdp, self.simulcast)
        offer = Offer(sdp=sdp, tracks=self.track_info())
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

    def set_video_size(self, mid: str, width: int, height: int) -> bool:
        """The client renders the video it receives on ``mid`` at ``width`` x ``height`` device pixels (0 x 0:
        not shown); False if ``mid`` names nothing negotiated with this client."""
        for transceiver, subscribed in self.subscribed.values():
            if transceiver.mid == mid and transceiver.kind == "video":
                subscribed.render_height = max(0, height)
                rtp_hooks.show(subscribed, height > 0)
                if subscribed.group is not None:
                    # A smaller size takes effect at once; a bigger one after the selector's hold.
                    rtp_hooks.choose_layer(
                        subscribed, self._video_budget(time.monotonic(), measure=False), time.monotonic()
                    )
                return True
        # A size for a track the edge just stopped sending races with the offer that ended it: not an error.
        return any(t.mid == mid for t in self.pc.getTransceivers())

    def _video_budget(self, now: float, *, measure: bool = True) -> float | None:
        """Each simulcast video's share of what this subscriber can take (None: no limit)."""
        tracks = [s for _, s in self.subscribed.values() if s.down_track is not None]
        if measure:
            # Over a couple of seconds: one key frame can be most of a video's bytes in a half-second tick.
            samples = self._sent_samples
            samples.append((now, sum(s.down_track.octets for s in tracks if s.down_track is not None)))
            (then, before), (_, octets) = samples[0], samples[-1]
            sending = 8 * (octets - before) / (now - then) if now > then else 0.0
            estimates = [e for s in tracks if (e := s.estimate.bitrate_bps) is not None]
            self.budget.update(min(estimates) if estimates else None, sending, now)
        cap = self.budget.cap_bps if now < self.budget.cap_until else None
        if cap is None:
            return None
        audio = sum(1 for s in tracks if s.down_track is not None and s.down_track.clock_rate != 90_000)
        videos = sum(1 for s in tracks if s.down_track is not None and s.down_track.clock_rate == 90_000)
        return max(0.0, cap - AUDIO_SHARE_BPS * audio) / max(1, videos)

    def adapt(self, now: float) -> None:
        """Choose every simulcast subscription's layer again (the adaptation tick)."""
        budget = self._video_budget(now)
        for _, subscribed in list(self.subscribed.values()):
            if subscribed.group is not None:
                rtp_hooks.choose_layer(subscribed, budget, now)

    async def _adapt_forever(self) -> None:
        while True:
            await asyncio.sleep(ADAPT_TICK_S)
            self.adapt(time.monotonic())

    async def close(self) -> None:
        if self._answer is not None and not self._answer.done():
            self._answer.cancel()
        if self._adapter is not None:
            self._adapter.cancel()
        # Nothing more is forwarded to this participant (its senders would only count unsent packets).
        for _, subscribed in self.subscribed.values():
            rtp_hooks.unlink(subscribed)
        await self.pc.close()

"""Per-subscriber downlink estimate from the RTCP the subscriber sends, sans-I/O (``now`` in seconds).

Inputs are what a subscriber reports about one forwarded stream: receiver report blocks (RFC 3550 section
6.4.1: fraction lost, interarrival jitter, LSR/DLSR for the round-trip time) and REMB (draft-alvestrand-rmcat-
remb section 2: the receiver's own estimate of what it can take). The output, :attr:`BandwidthEstimate.bitrate_bps`,
is what layer selection (``sfu.layers``) may send to that subscriber: the REMB value capped by a loss-based
controller (draft-ietf-rmcat-gcc-02 section 6), so a receiver that reports loss but no REMB (no abs-send-time,
or a client without REMB) still gets its layers lowered.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LSR_REMEMBERED = 8
"""Sender reports remembered for matching an LSR echo (one per 0.5-1.5 s: several seconds of reports)."""


@dataclass(slots=True)
class BandwidthEstimate:
    """What one subscriber can receive, from its receiver reports and REMB."""

    initial_bps: float = 1_500_000.0
    """Where the loss-based controller starts when loss is reported before any REMB."""
    min_bps: float = 30_000.0
    """Floor of the loss-based controller (an audio stream still fits)."""
    remb_bps: float | None = None
    """The subscriber's latest REMB (None: it sent none)."""
    loss_based_bps: float | None = None
    """The loss-based controller's value (None until loss or a REMB gives it a start)."""
    fraction_lost: float = 0.0
    """Latest fraction of packets lost, 0..1 (RFC 3550 section 6.4.1, 8-bit fixed point on the wire)."""
    jitter_s: float = 0.0
    """Latest interarrival jitter in seconds."""
    rtt_s: float | None = None
    """Round-trip time, smoothed (RFC 6298 style, alpha 1/8); None until an LSR echo matches a sent SR."""
    reports: int = 0
    """Receiver report blocks consumed."""
    _sent_lsr: dict[int, float] = field(default_factory=dict, repr=False)

    @property
    def bitrate_bps(self) -> float | None:
        """What may be sent to this subscriber (None: nothing reported yet, no limit known)."""
        if self.remb_bps is None:
            return self.loss_based_bps
        if self.loss_based_bps is None:
            return self.remb_bps
        return min(self.remb_bps, self.loss_based_bps)

    def sender_report_sent(self, ntp_timestamp: int, now: float) -> None:
        """Remember when an SR with this 64-bit NTP timestamp left, to turn its LSR echo into an RTT."""
        self._sent_lsr[(ntp_timestamp >> 16) & 0xFFFFFFFF] = now
        if len(self._sent_lsr) > LSR_REMEMBERED:
            del self._sent_lsr[next(iter(self._sent_lsr))]

    def on_receiver_report(
        self, fraction_lost: int, jitter: int, clock_rate: int, lsr: int, dlsr: int, now: float
    ) -> None:
        """One report block about the stream sent to this subscriber (fields as on the wire)."""
        self.reports += 1
        self.fraction_lost = fraction_lost / 256
        self.jitter_s = jitter / clock_rate if clock_rate else 0.0
        sent = self._sent_lsr.get(lsr) if lsr else None
        if sent is not None:
            # RFC 3550 section 6.4.1: RTT = A - LSR - DLSR; the edge keeps A - LSR as its own clock's difference.
            rtt = max(0.0, now - sent - dlsr / 65536)
            self.rtt_s = rtt if self.rtt_s is None else 0.875 * self.rtt_s + 0.125 * rtt
        self._loss_control()

    def on_remb(self, bitrate_bps: float) -> None:
        self.remb_bps = float(bitrate_bps)
        if self.loss_based_bps is None:
            self.loss_based_bps = self.remb_bps

    def _loss_control(self) -> None:
        # draft-ietf-rmcat-gcc-02 section 6: above 10% loss decrease by half the loss, below 2% increase by 5%,
        # in between hold. The increase is capped at the REMB (or the start value) so the estimate never
        # drifts upward on reports alone.
        loss = self.fraction_lost
        if self.loss_based_bps is None:
            if loss <= 0.02:
                return  # no loss and no REMB: no limit known
            self.loss_based_bps = self.remb_bps if self.remb_bps is not None else self.initial_bps
        if loss > 0.10:
            self.loss_based_bps = max(self.min_bps, self.loss_based_bps * (1 - 0.5 * loss))
        elif loss < 0.02:
            ceiling = self.remb_bps if self.remb_bps is not None else self.initial_bps
            self.loss_based_bps = min(ceiling, self.loss_based_bps * 1.05)

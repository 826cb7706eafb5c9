"""Which simulcast layer each subscriber gets: pure policy, time passed in.

Inputs per layer are what the edge can see without decoding (measured bitrate, the resolution from the layer's
key frames); per subscriber, its bandwidth estimate (REMB / receiver reports) and the size it renders the
video at (reported by the client). The rule, as in mediasoup and LiveKit: the smallest layer that covers the
rendered height, capped by what the estimate can carry with headroom. Going down is immediate (congestion
hurts now); going up under an estimate waits until the higher layer has been affordable for ``up_hold_s``
(estimates and measured layer bitrates jitter, and every switch costs a key frame); going up with no estimate in
play (the video is shown bigger) is immediate.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class LayerInfo:
    """What the edge measured about one simulcast layer."""

    rid: str
    bitrate_bps: float = 0.0
    height: int | None = None
    """From the layer's last key frame (None until one was seen)."""
    active: bool = True
    """Packets arrived recently (a browser pauses layers it cannot encode or that nobody needs)."""


@dataclass(slots=True)
class LayerSelector:
    """One subscriber's choice for one simulcast track."""

    headroom: float = 1.2
    """The estimate must exceed a layer's bitrate by this factor for the layer to be affordable."""
    up_hold_s: float = 2.0
    current: str | None = None
    _want_since: dict[str, float] = field(default_factory=dict)

    def choose(
        self, layers: list[LayerInfo], estimate_bps: float | None, render_height: int | None, now: float
    ) -> str | None:
        """The rid to forward now (None if no layer is active). ``layers`` may come in any order."""
        ranked = sorted((x for x in layers if x.active), key=_rank)
        if not ranked:
            self.current = None
            return None
        target = ranked[0]
        for layer in ranked[1:]:
            if estimate_bps is not None and layer.bitrate_bps * self.headroom > estimate_bps:
                break
            if render_height is not None and target.height is not None and target.height >= render_height:
                break  # the smaller layer already covers the rendered size
            target = layer
        order = [x.rid for x in ranked]
        if self.current not in order:
            self.current = target.rid
            self._want_since.clear()
            return self.current
        if order.index(target.rid) <= order.index(self.current) or estimate_bps is None:
            # Down (or stay): at once. Up with no estimate in play (a bigger rendered size, a layer that came
            # back): at once too - the hold is for estimates, which jitter.
            self.current = target.rid
            self._want_since.clear()
            return self.current
        # Each higher layer's clock runs while it stays affordable; the highest one held long enough wins.
        top = order.index(target.rid)
        for index, rid in enumerate(order):
            if index <= order.index(self.current):
                continue
            if index <= top:
                self._want_since.setdefault(rid, now)
            else:
                self._want_since.pop(rid, None)
        held = [rid for rid, since in self._want_since.items() if now - since >= self.up_hold_s]
        if held:
            self.current = max(held, key=order.index)
            chosen = order.index(self.current)
            self._want_since = {r: t for r, t in self._want_since.items() if order.index(r) > chosen}
        return self.current


def _rank(layer: LayerInfo) -> tuple[int, float]:
    # Resolution first when known (bitrates of adjacent layers cross during ramp-up), then bitrate.
    return (layer.height if layer.height is not None else 0, layer.bitrate_bps)


@dataclass(slots=True)
class DownlinkBudget:
    """How much one subscriber's simulcast videos may take together, from its bandwidth estimate.

    A receiver's estimate is no ceiling to plan by: Chromium's REMB stays near 1.5x what it currently receives
    and climbs ~8 %/s after the rate goes up, so right after a switch to a bigger layer it is below what is
    sent without any congestion (and a subscriber on a small layer is never estimated able to take a bigger
    one; SFUs probe with padding for that, this edge does not). The estimate is therefore read as a congestion
    *signal*: when it falls (the receiver saw delay grow or packets lost) below what is being sent, the videos
    must fit it; otherwise nothing limits them. After congestion the cap holds for ``hold_s`` (doubling, up to
    ``max_hold_s``, each time congestion returns within ``hold_s`` of a cap's end), so a link that cannot carry a
    bigger layer is not tried again every few seconds."""

    hold_s: float = 8.0
    max_hold_s: float = 64.0
    congested_below: float = 0.9
    """Congested when the estimate is below this fraction of the rate being sent..."""
    falling_below: float = 0.95
    """...and below this fraction of the previous estimate."""
    cap_bps: float | None = None
    cap_until: float = float("-inf")
    last_estimate_bps: float | None = None
    """The estimate the previous update saw."""
    _hold: float | None = None

    def update(self, estimate_bps: float | None, sending_bps: float, now: float) -> float | None:
        """The budget for all of this subscriber's videos now (None: unlimited)."""
        hold = self.hold_s if self._hold is None else self._hold
        capped = self.cap_bps is not None and now < self.cap_until
        last, self.last_estimate_bps = self.last_estimate_bps, estimate_bps
        falling = estimate_bps is not None and last is not None and estimate_bps < self.falling_below * last
        if falling and estimate_bps is not None and estimate_bps < self.congested_below * sending_bps:
            if capped and self.cap_bps is not None:
                self.cap_bps = min(self.cap_bps, estimate_bps)  # still too much: tighten, and hold from now
            else:
                recurring = self.cap_bps is not None and now < self.cap_until + hold
                self._hold = hold = min(self.max_hold_s, hold * 2) if recurring else self.hold_s
                self.cap_bps = estimate_bps
            self.cap_until = now + hold
            return self.cap_bps
        if capped:
            return self.cap_bps
        if self.cap_bps is not None and now >= self.cap_until + hold:
            self.cap_bps = None  # calm for a whole hold after the cap: the next congestion starts afresh
            self._hold = None
        return None

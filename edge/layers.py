"""Which simulcast layer each subscriber gets: pure policy, time passed in.

Inputs per layer are what the edge can see without decoding (measured bitrate, the resolution from the layer's
key frames); per subscriber, its bandwidth estimate (REMB / receiver reports) and the size it renders the
video at (reported by the client). The rule, as in mediasoup and LiveKit: the smallest layer that covers the
rendered height, capped by what the estimate can carry with headroom. Going down is immediate (congestion
hurts now); going up waits until the higher layer has been affordable for ``up_hold_s`` (estimates jitter,
and every switch costs a key frame).
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
        if order.index(target.rid) <= order.index(self.current):
            self.current = target.rid  # down (or stay): at once
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

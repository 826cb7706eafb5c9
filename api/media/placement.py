"""Which edge a participant joins: nearest by measured round-trip time, weighed against load. Pure.

Before joining, the SDK measures its round-trip time to one candidate edge per region (``edges`` query, each
edge's ``probeUrl``) and sends the results with ``joinMeeting``. Each live edge gets a score, lower is better:

    score = latency_weight * min(rtt / RTT_SCALE_MS, 1) + capacity_weight * load

with ``load`` in 0..1 (CPU busy or sessions over capacity, whichever is higher) and the weights settings
(``API_PLACEMENT_LATENCY_WEIGHT`` 0.4, ``API_PLACEMENT_CAPACITY_WEIGHT`` 0.6). An edge the client did not measure
counts as ``RTT_SCALE_MS`` away; one in the client's region hint counts as ``HINTED_RTT_MS``. Edges at
``FULL`` load are skipped while another has room. Among equal scores, an edge already serving the meeting wins
(one fewer relay link), then the lowest id (every API process decides the same).

``API_PLACEMENT_SPREAD`` (on: edges relay a meeting's media to each other, breakout rooms included): off, a
meeting's later participants join an edge that already serves it (while it has room), for deployments whose
edges cannot reach each other's relay ports.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from api.media.registry import EdgeInfo

RTT_SCALE_MS = 300.0
"""Round-trip times are compared up to here; beyond it every edge is equally far."""
HINTED_RTT_MS = 30.0
FULL = 0.95


@dataclass(frozen=True, slots=True)
class Weights:
    latency: float = 0.4
    capacity: float = 0.6


def score(edge: EdgeInfo, rtt_ms: float | None, weights: Weights) -> float:
    rtt = RTT_SCALE_MS if rtt_ms is None else max(0.0, rtt_ms)
    return weights.latency * min(rtt / RTT_SCALE_MS, 1.0) + weights.capacity * edge.load


def choose(
    edges: Sequence[EdgeInfo],
    rtts: Mapping[str, float],
    *,
    region: str | None = None,
    meeting_edges: Sequence[str] = (),
    weights: Weights = Weights(),
    spread: bool = True,
) -> EdgeInfo | None:
    """The edge to place a participant on, or None when no edge is live. Without ``spread``, a meeting already
    served by an edge with room stays there (edges that do not relay media to each other cannot split one)."""
    if not edges:
        return None
    roomy = [e for e in edges if e.load < FULL] or list(edges)
    if not spread:
        roomy = [e for e in roomy if e.edge_id in meeting_edges] or roomy

    def rtt_of(e: EdgeInfo) -> float | None:
        if e.edge_id in rtts:
            return rtts[e.edge_id]
        return HINTED_RTT_MS if region and e.region == region else None

    serving = set(meeting_edges)
    return min(roomy, key=lambda e: (round(score(e, rtt_of(e), weights), 6), e.edge_id not in serving, e.edge_id))

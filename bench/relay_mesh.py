"""Relay mesh with real processes (the API and two edges, ``testkit.mesh``): a meeting placed across two edges by
measured RTTs, then the edge of two of its participants killed.

- ``cross_edge_join_to_first_frame_ms``: a guest placed on edge b, from its ``joinMeeting`` to the first decoded
  frame of the host's camera, which is on edge a (includes the API telling both edges of each other, polled every
  2 s, and the relay link's QUIC handshake);
- ``trunk_copies_per_stream``: packets of the host's camera sent over the trunk per packet relayed, with two
  subscribers behind the remote edge (must be 1);
- ``failover_media_restored_ms``: from SIGKILL of edge b until both its guests, rejoined through the API onto
  edge a, decode video again and the host decodes both of them again.
"""

from __future__ import annotations

import asyncio

from edge.ice import use_host_addresses
from testkit.mesh import failover_run, running_mesh


def run() -> dict[str, float | int | str]:
    use_host_addresses(["127.0.0.1"])  # the synthetic participants' media stays on loopback, as the edges' does
    with running_mesh([("bench-a", "eu"), ("bench-b", "us")]) as mesh:
        report = asyncio.run(failover_run(mesh))
    print(f"relay mesh: {report}", flush=True)
    return {
        "cross_edge_join_to_first_frame_ms": report.cross_edge_join_to_first_frame_ms,
        "trunk_copies_per_stream": report.trunk_copies_per_stream,
        "failover_media_restored_ms": report.failover_media_restored_ms,
    }

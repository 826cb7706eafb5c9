"""Failover with real processes: the API and two edges (``python -m edge``) registered with it; a host on one
edge, two guests on the other, placed by their measured RTTs. The guests' edge is killed (SIGKILL); they rejoin
through the API (``refreshJoinToken``, as the SDK does) and are placed on the surviving edge, with media back both
ways; the survivor drops its relay link to the dead edge."""

from __future__ import annotations

import asyncio

import pytest

from testkit.mesh import failover_run, running_mesh

pytestmark = [pytest.mark.timeout(180), pytest.mark.slow]


async def test_participants_of_a_dead_edge_come_back_on_another() -> None:
    with running_mesh([("fo-a", "eu"), ("fo-b", "us")]) as mesh:
        report = await failover_run(mesh)
        a = mesh.edge("fo-a")
        print(report)
        # Before the failure: one copy of the host's camera on the trunk for two subscribers on b.
        assert report.trunk_copies_per_stream == 1.0, report
        assert abs(report.remote_received - report.trunk_packets) <= 10, report
        # After: both guests on a, media back both ways within the 5 s, and no link to the dead edge.
        assert report.rejoined_to == [a.signal_url, a.signal_url], report
        assert report.failover_media_restored_ms < 5000, report
        assert "fo-b" not in report.links_after, report
        await asyncio.sleep(0)

"""A meeting across three regions, each a network namespace of its own (``tests/support/regions.py``): an edge
process per region bound to that region's address, the API in this namespace on the backbone, synthetic
participants joining through the API with their round-trip times (placement's RTT rule sends each to their
region's edge). Media crosses between namespaces over the relay; the trunk carries one copy of each stream per
remote edge; a removal holds meeting-wide; killing a region's edge brings its participants back elsewhere.

Not here: real distance. Delays would be netem on the backbone, which this host's kernel lacks (the test
records whether it could apply them); the clients state their RTTs instead of measuring them.
"""

from __future__ import annotations

import asyncio
import secrets
import signal
import time
from collections.abc import Callable, Iterator
from typing import Any

import aioice.ice
import httpx
import pytest

from edge.ice import use_host_addresses
from testkit.media_load import gql
from testkit.mesh import CREATE, SIGN_UP, TIMEOUT_S, MeshParticipant, near, running_mesh
from tests.support.regions import regions

pytestmark = [pytest.mark.timeout(240), pytest.mark.slow]

REMOVE = "mutation($p: ID!) { removeParticipant(participantId: $p) { id } }"


async def _until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"{what} not within {timeout:g} s"
        await asyncio.sleep(0.05)


async def _growing(people: list[MeshParticipant], window_s: float = 1.5) -> list[int]:
    """Per participant, how many remote videos decoded new frames over the window."""
    before = [p.videos() for p in people]
    await asyncio.sleep(window_s)
    return [sum(1 for t, n in p.videos().items() if n > b.get(t, 0)) for p, b in zip(people, before, strict=True)]


async def _relay(http: httpx.AsyncClient, url: str) -> dict[str, Any]:
    stats: dict[str, Any] = (await http.get(url + "/healthz")).json()["relay"]
    return stats


@pytest.fixture
def host_candidates() -> Iterator[Callable[[str], None]]:
    """Which addresses this process's aiortc peers offer: ICE host candidates are chosen process-wide
    (``edge.ice``), and an in-process edge of an earlier test may have left them at loopback, which no
    namespace reaches. Restored afterwards."""
    saved = aioice.ice.get_host_addresses
    yield lambda address: use_host_addresses([address])
    aioice.ice.get_host_addresses = saved


async def test_a_meeting_spans_three_regions_in_their_own_network_namespaces(
    host_candidates: Callable[[str], None],
) -> None:
    names = ("eu", "us", "ap")
    with regions(names) as net:
        host_candidates(net.root_ip)  # the participants here reach the regions over the bridge
        print("netem available:", net.delay("us", 80))
        edge_ids = [f"rg-{n}" for n in names]
        hosts = {f"rg-{n}": net.regions[n].host for n in names}
        with running_mesh([(f"rg-{n}", n) for n in names], api_host=net.root_ip, hosts=hosts) as mesh:
            eu, us, ap = (mesh.edge(e) for e in edge_ids)
            assert {e.ip for e in mesh.edges} == {r.ip for r in net.regions.values()}
            async with httpx.AsyncClient(base_url=mesh.api_url, timeout=TIMEOUT_S, trust_env=False) as http:
                email = f"regions-{secrets.token_hex(6)}@example.test"
                sign_up = {"i": {"email": email, "password": "correct horse", "displayName": "Host"}}
                host_token = (await gql(http, SIGN_UP, sign_up))["signUp"]["accessToken"]
                settings = {"guestWaitingRoom": False, "maxParticipants": 10, "allowGuests": True}
                made = await gql(
                    http, CREATE, {"i": {"title": "regions", "passcode": "", "settings": settings}}, host_token
                )
                number = made["createMeeting"]["number"]
                host = MeshParticipant("Host", near(eu.edge_id, edge_ids))
                g1, g2 = (MeshParticipant(f"US {n}", near(us.edge_id, edge_ids)) for n in (1, 2))
                g3 = MeshParticipant("AP", near(ap.edge_id, edge_ids))
                people = [host, g1, g2, g3]
                try:
                    await host.join(http, number, host_token)
                    for guest in (g1, g2, g3):
                        await guest.join(http, number)
                    # The RTT rule: each on their region's edge.
                    assert [p.edge_url for p in people] == [
                        eu.signal_url, us.signal_url, us.signal_url, ap.signal_url
                    ]  # fmt: skip

                    # Everyone decodes everyone, across three network stacks.
                    await _until(
                        lambda: all(len(p.videos()) == 3 and min(p.videos().values()) >= 5 for p in people),
                        60,
                        "everyone decoding the three others",
                    )

                    # One copy per stream per remote edge: the host's camera went once to us (two subscribers
                    # there) and once to ap, for every packet relayed.
                    first = await _relay(http, eu.http_url)
                    (cam,) = [
                        t for t, s in first["local"].items() if s["kind"] == "video" and "~" + host.participant_id in t
                    ]
                    await asyncio.sleep(2.0)
                    later = (await _relay(http, eu.http_url))["local"][cam]
                    relayed = later["relayed"] - first["local"][cam]["relayed"]
                    sent = {e: later["sent"].get(e, 0) - first["local"][cam]["sent"].get(e, 0) for e in later["sent"]}
                    assert relayed > 10, relayed
                    assert sent == {us.edge_id: relayed, ap.edge_id: relayed}, (sent, relayed)
                    us_stats = await _relay(http, us.http_url)
                    assert [k for k, s in us_stats["remote"].items() if s["participant"] == host.participant_id]
                    assert sorted(us_stats["links"]) == [ap.edge_id, eu.edge_id]

                    # The host (eu) removes the ap participant: cut off at ap, and nobody anywhere decodes them.
                    await gql(http, REMOVE, {"p": g3.participant_id}, host_token)
                    await _until(g3.lost.is_set, 10, "the removed participant's edge closing its connection")
                    # Each edge renegotiates its subscribers without the removed tracks; then the two others'
                    # videos flow on for everyone, and the removed one's for nobody.
                    growing: list[int] = []
                    deadline = time.monotonic() + 15
                    while growing != [2, 2, 2] and time.monotonic() < deadline:
                        growing = await _growing([host, g1, g2], 1.0)
                    assert growing == [2, 2, 2], growing

                    # The us edge dies: its two participants rejoin through the API elsewhere within 5 s and
                    # media is back both ways; the host on eu kept the connection throughout.
                    killed = time.monotonic()
                    us.proc.send_signal(signal.SIGKILL)
                    await _until(lambda: g1.lost.is_set() and g2.lost.is_set(), 10, "the us participants noticing")
                    await asyncio.gather(g1.rejoin(http), g2.rejoin(http))
                    survivors = [host, g1, g2]
                    before = {id(p): set(p.videos()) for p in survivors}
                    await _until(
                        lambda: (
                            all(len(set(p.videos()) - before[id(p)]) >= 2 for p in (g1, g2))
                            and len(set(host.videos()) - before[id(host)]) >= 2
                        ),
                        10,
                        "media back after the us edge died",
                    )
                    restored_ms = (time.monotonic() - killed) * 1000
                    print(f"failover across namespaces: media back in {restored_ms:.0f} ms")
                    assert restored_ms < 5000, restored_ms
                    assert {g1.edge_url, g2.edge_url} <= {eu.signal_url, ap.signal_url}
                    assert not host.lost.is_set()
                finally:
                    for person in people:
                        await person.close()

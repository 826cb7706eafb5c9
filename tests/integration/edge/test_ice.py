from __future__ import annotations

import asyncio

import aioice.ice
from aiortc import RTCPeerConnection

from edge.ice import use_host_addresses


def test_only_the_chosen_addresses_become_host_candidates() -> None:
    async def gather() -> str:
        pc = RTCPeerConnection()
        pc.addTransceiver("audio")
        await pc.setLocalDescription(await pc.createOffer())
        sdp = pc.localDescription.sdp
        await pc.close()
        return sdp

    use_host_addresses(["127.0.0.1"])
    try:
        candidates = [line for line in asyncio.run(gather()).splitlines() if line.startswith("a=candidate")]
        assert candidates and all(" 127.0.0.1 " in c for c in candidates), candidates
        assert aioice.ice.get_host_addresses(True, True) == ["127.0.0.1"]
    finally:
        use_host_addresses(None)
    assert aioice.ice.get_host_addresses is not None and "127.0.0.1" not in aioice.ice.get_host_addresses(True, False)

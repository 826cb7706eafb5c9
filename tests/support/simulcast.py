"""A synthetic simulcast publisher over the edge's signalling: three VP8 layers of one camera, sent the way
Chromium sends them (``edge.synthetic.SimulcastPublisher``)."""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass, field

from edge.synthetic import EncodedClip, SimulcastPublisher, encode_vp8_clip
from protocol.signalling import Join, Joined, Offer, TrackInfo, encode, parse_edge_message
from tests.support.edge import Client
from tests.support.gql import eventually

SIZES = {"q": (160, 90), "h": (320, 180), "f": (640, 360)}
BITRATES = {"q": 100_000, "h": 300_000, "f": 900_000}


@functools.cache
def vp8_layers() -> dict[str, EncodedClip]:
    return {
        rid: encode_vp8_clip(frames=30, fps=15, width=w, height=h, gop=15, bit_rate=BITRATES[rid])
        for rid, (w, h) in SIZES.items()
    }


@dataclass(eq=False)
class SimulcastClient(Client):
    """A participant whose camera goes out in three layers."""

    publisher: SimulcastPublisher | None = field(default=None)
    clips: dict[str, EncodedClip] = field(default_factory=vp8_layers)

    async def start(self, token: str) -> None:
        await self.ws.send(encode(Join(token=token)))
        assert isinstance(parse_edge_message(await asyncio.wait_for(self.ws.recv(), 5)), Joined)
        self.publisher = SimulcastPublisher(self.peer.pc, self.clips)
        pc = self.peer.pc
        await pc.setLocalDescription(await pc.createOffer())
        sdp = self.publisher.offer_sdp(pc.localDescription.sdp)
        assert "a=ssrc:" not in sdp.split(f"a=mid:{self.publisher.transceiver.mid}")[0].split("m=video")[-1]
        mid = self.publisher.transceiver.mid
        assert mid is not None
        await self.ws.send(encode(Offer(sdp=sdp, tracks={mid: TrackInfo(source="camera")})))
        self._reader = asyncio.create_task(self._read())
        await eventually(lambda: pc.remoteDescription is not None, timeout=5)
        self.publisher.start()

    async def close(self) -> None:
        if self.publisher is not None:
            await self.publisher.stop()
        await super().close()

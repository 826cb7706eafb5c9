"""Layer switching driven with bytes and explicit times: real forwarders and down tracks, layers that count the
key frames they are asked for (no sockets, no aiortc)."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from sfu.forwarder import DownTrack, Forwarder
from sfu.layer_switch import detach, move_to_layer, settle
from sfu.vp8 import vp8_keyframe_start

KEY = bytes([0x10, 0x00])  # VP8 descriptor S=1, PID=0; payload header P=0: a key frame starts
DELTA = bytes([0x10, 0x01])  # the same with P=1: an inter frame


@dataclass(eq=False)
class FakeLayer:
    forwarder: Forwarder | None
    keyframe_requests: int = 0
    sent: list[bytes] = field(default_factory=list)

    def request_keyframe(self) -> None:
        self.keyframe_requests += 1

    def packet(self, seq: int, payload: bytes, now: float) -> list[bytes]:
        """Fan one packet of this layer out; what reached the down tracks."""
        assert self.forwarder is not None
        out: list[bytes] = []
        self.forwarder.fan_out(
            struct.pack("!BBHII", 0x80, 96, seq, seq * 3000, self.forwarder.source_ssrc) + payload,
            now,
            lambda _down, data: out.append(data),
        )
        return out


def ssrc_of(packet: bytes) -> int:
    return int.from_bytes(packet[8:12], "big")


def layers() -> tuple[FakeLayer, FakeLayer, FakeLayer]:
    return FakeLayer(Forwarder(0xA)), FakeLayer(Forwarder(0xB)), FakeLayer(None)  # the last: SSRC not yet known


def down() -> DownTrack:
    return DownTrack(ssrc=0xCAFE, payload_type=96, keyframe_start=vp8_keyframe_start, vp8=True)


def test_a_down_track_that_shows_nothing_yet_moves_at_once() -> None:
    a, b, unknown = layers()
    track = down()
    move_to_layer(track, [a, b, unknown], a)
    assert a.forwarder is not None and track in a.forwarder.down_tracks and a.keyframe_requests == 1
    move_to_layer(track, [a, b, unknown], b)  # no packet went out yet: no need to keep A
    assert track not in a.forwarder.down_tracks
    assert b.forwarder is not None and track in b.forwarder.down_tracks and b.keyframe_requests == 1
    assert b.packet(1, KEY, 0.0) and track.source_ssrc == 0xB
    move_to_layer(track, [a, b, unknown], unknown)  # a layer without a forwarder cannot be taken
    assert settle(track, [a, b, unknown]) is b


def test_a_flowing_down_track_keeps_its_layer_until_the_new_one_has_a_key_frame() -> None:
    a, b, _ = layers()
    track = down()
    move_to_layer(track, [a, b], a)
    assert [ssrc_of(p) for p in a.packet(1, KEY, 0.0)] == [0xCAFE]
    move_to_layer(track, [a, b], b)
    assert track.pending_switch == 0xB and b.keyframe_requests == 1
    # Until B's key frame: A keeps playing, B's inter frames are held back, and B is asked again on each settle.
    assert a.packet(2, DELTA, 0.033) and not b.packet(50, DELTA, 0.034)
    assert settle(track, [a, b]) is a and b.keyframe_requests == 2
    assert b.packet(51, KEY, 0.066)
    assert track.source_ssrc == 0xB and not a.packet(3, DELTA, 0.067)  # A's late packets no longer go out
    assert settle(track, [a, b]) is b
    assert a.forwarder is not None and track not in a.forwarder.down_tracks  # left once B took over


def test_moving_to_the_current_layer_asks_for_a_key_frame_only_while_one_is_awaited() -> None:
    a, b, _ = layers()
    track = down()
    move_to_layer(track, [a, b], a)
    move_to_layer(track, [a, b], a)  # still waiting for the first key frame: ask again
    assert a.keyframe_requests == 2
    a.packet(1, KEY, 0.0)
    move_to_layer(track, [a, b], a)  # flowing: nothing to do
    assert a.keyframe_requests == 2
    move_to_layer(track, [a, b], b)
    move_to_layer(track, [a, b], b)  # the pending switch still waits: ask B again
    assert b.keyframe_requests == 2


def test_switching_back_before_the_key_frame_cancels_the_pending_switch() -> None:
    a, b, _ = layers()
    track = down()
    move_to_layer(track, [a, b], a)
    a.packet(1, KEY, 0.0)
    move_to_layer(track, [a, b], b)
    track.switch_to(None)  # what the selector's change of mind does (DownTrack.switch_to)
    assert settle(track, [a, b]) is a
    assert b.forwarder is not None and track not in b.forwarder.down_tracks
    assert not b.packet(2, KEY, 0.1) and track.source_ssrc == 0xA


def test_detach_takes_the_down_track_off_every_layer() -> None:
    a, b, unknown = layers()
    track = down()
    move_to_layer(track, [a, b], a)
    a.packet(1, KEY, 0.0)
    move_to_layer(track, [a, b], b)
    detach(track, [a, b, unknown])
    assert a.forwarder is not None and b.forwarder is not None
    assert track not in a.forwarder.down_tracks and track not in b.forwarder.down_tracks
    assert settle(track, [a, b, unknown]) is None

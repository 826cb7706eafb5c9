"""The relay session, sans-I/O: two sessions exchange datagrams in memory (tests/support/relay_link.py) on a
simulated clock, with loss, reordering and duplication where the test says so."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import pytest

from relay.frames import Announce, encode_control
from relay.session import (
    PROTOCOL_ERROR,
    UNAUTHENTICATED,
    EstimateReceived,
    KeyFrameRequested,
    LinkClosed,
    MediaReceived,
    NackReceived,
    PeerReady,
    SubscriptionChanged,
    TrackAnnounced,
    TrackWithdrawn,
)
from relay.trunk import FIRST_DELTA_CLASS
from tests.support.relay_link import SERVER_ADDR, Keys, Pair, pair

T = TypeVar("T")


def _of(events: Sequence[object], kind: type[T]) -> list[T]:
    return [e for e in events if isinstance(e, kind)]


def _ready(p: Pair) -> Pair:
    p.pump(40)
    assert _of(p.client_events, PeerReady) and _of(p.server_events, PeerReady), (p.client_events, p.server_events)
    return p


def _rtp(seq: int, size: int = 1000) -> bytes:
    return bytes((0x80, 96)) + seq.to_bytes(2, "big") + bytes(size - 4)


def test_both_edges_learn_who_the_other_is() -> None:
    p = _ready(pair())
    assert _of(p.client_events, PeerReady)[0].peer.edge_id == "edge-b"
    assert _of(p.server_events, PeerReady)[0].peer.region == "eu"


def test_only_subscribed_tracks_and_layers_cross_the_link() -> None:
    p = _ready(pair())
    cam = p.server.announce("m1", "ada", "ada-cam", "video", "camera", layers=3)
    mic = p.server.announce("m1", "ada", "ada-mic", "audio", "microphone")
    p.pump(10)
    assert [e.announce.track for e in _of(p.client_events, TrackAnnounced)] == [cam, mic]
    # Nobody behind the client wants anything yet: nothing is sent.
    assert not p.server.send_media(cam, _rtp(1), layer=0)
    p.client.subscribe(cam, (1,))
    p.pump(10)
    assert _of(p.server_events, SubscriptionChanged) == [SubscriptionChanged(cam, frozenset({1}))]
    sent = [p.server.send_media(cam, _rtp(i), layer=i % 3) for i in range(30)]
    assert sent == [i % 3 == 1 for i in range(30)]
    assert not p.server.send_media(mic, _rtp(99, 100))  # the microphone was not asked for
    p.pump(20)
    got = _of(p.client_events, MediaReceived)
    assert len(got) == 10 and {m.header.layer for m in got} == {1} and {m.header.track for m in got} == {cam}
    assert [int.from_bytes(m.packet[2:4], "big") for m in got] == list(range(1, 30, 3))


def test_key_frame_requests_and_nacks_travel_back_to_the_publishing_side() -> None:
    p = _ready(pair())
    cam = p.server.announce("m1", "ada", "ada-cam", "video", "camera", layers=2)
    p.pump(10)
    p.client.request_key_frame(cam, 1)  # not subscribed: nothing to ask for
    p.client.subscribe(cam, (0, 1))
    p.client.request_key_frame(cam, 1)
    p.client.nack(cam, (5, 6, 9))
    p.client.nack(cam, (7,), layer=1)  # a simulcast layer's own sequence numbers
    p.pump(10)
    assert _of(p.server_events, KeyFrameRequested) == [KeyFrameRequested(cam, 1)]
    assert _of(p.server_events, NackReceived) == [NackReceived(cam, (5, 6, 9), 0), NackReceived(cam, (7,), 1)]


def test_downlink_estimates_travel_back_only_for_tracks_being_pulled() -> None:
    p = _ready(pair())
    cam = p.server.announce("m1", "ada", "ada-cam", "video", "camera")
    p.pump(10)
    p.client.estimate(cam, 300_000.0)  # not subscribed: nobody behind us to speak for
    p.client.subscribe(cam)
    p.client.estimate(cam, 300_000.0)
    p.client.estimate(cam, 1e15)  # clamped to what the wire allows, not refused
    p.pump(10)
    assert _of(p.server_events, EstimateReceived) == [EstimateReceived(cam, 300_000.0), EstimateReceived(cam, 10e9)]


def test_a_withdrawn_track_stops_and_its_subscription_goes() -> None:
    p = _ready(pair())
    cam = p.server.announce("m1", "ada", "ada-cam", "video", "camera")
    p.pump(10)
    p.client.subscribe(cam)
    p.pump(10)
    p.server.withdraw(cam)
    assert not p.server.send_media(cam, _rtp(1))
    p.pump(10)
    assert _of(p.client_events, TrackWithdrawn) == [TrackWithdrawn(cam)]
    assert cam not in p.client.subscriptions and cam not in p.client.peer_tracks
    with pytest.raises(KeyError):
        p.client.subscribe(cam)


def test_control_messages_arrive_and_media_is_never_duplicated_on_a_bad_link() -> None:
    p = _ready(pair())
    p.loss, p.reorder, p.duplicate = 0.1, 0.3, 0.1
    tracks = [p.server.announce("m1", f"p{i}", f"t{i}", "video", "camera") for i in range(20)]
    p.pump(200)
    assert [e.announce.track for e in _of(p.client_events, TrackAnnounced)] == tracks  # reliable and in order
    for t in tracks:
        p.client.subscribe(t)
    p.pump(200)
    assert len(_of(p.server_events, SubscriptionChanged)) == 20
    sent = 0
    for seq in range(400):
        sent += p.server.send_media(tracks[seq % 20], _rtp(seq, 300))
        if seq % 20 == 19:
            p.pump(2)
    p.pump(100)
    got = [(m.header.track, m.packet[2:4]) for m in _of(p.client_events, MediaReceived)]
    assert len(got) == len(set(got)), "a duplicated UDP datagram became a duplicated RTP packet"
    assert 0.6 * sent < len(got) < sent  # about 10 % lost, never retransmitted (datagrams are unreliable)


def test_a_congested_link_queues_boundedly_and_keeps_audio_and_key_frames() -> None:
    p = _ready(pair(queue_packets=64, max_in_flight=8))
    cam = p.server.announce("m1", "ada", "ada-cam", "video", "camera", layers=3)
    mic = p.server.announce("m1", "ada", "ada-mic", "audio", "microphone")
    p.pump(10)
    p.client.subscribe(cam, (0, 1, 2))
    p.client.subscribe(mic)
    p.pump(10)
    # Three layers of video with key frames, and audio, at about three times what the link drains (8 datagrams
    # per step): audio alone would fit, video cannot.
    for i in range(3000):
        layer = i % 3
        p.server.send_media(cam, _rtp(i, 1100), layer=layer, key=(i % 300 == 0))
        if i % 10 == 0:
            p.server.send_media(mic, _rtp(i, 120))
        assert len(p.server.queue) <= 64 and len(p.server.quic._datagrams_pending) <= 8
        if i % 25 == 24:
            p.pump(1, step=0.001)
    p.pump(400)
    dropped = p.server.queue.dropped
    assert dropped.get(FIRST_DELTA_CLASS + 2, 0) >= dropped.get(FIRST_DELTA_CLASS + 1, 0) > 0
    got = _of(p.client_events, MediaReceived)
    audio = [m for m in got if m.header.audio]
    keys = [m for m in got if m.header.key]
    assert len(audio) == 300 and len(keys) == 10, (len(audio), len(keys), dropped)


def test_an_oversized_packet_is_refused_and_does_not_block_the_link() -> None:
    p = _ready(pair())
    cam = p.server.announce("m1", "ada", "ada-cam", "video", "camera")
    p.pump(10)
    p.client.subscribe(cam)
    p.pump(10)
    assert not p.server.send_media(cam, _rtp(1, 1452))
    assert p.server.counters.too_big == 1
    assert p.server.send_media(cam, _rtp(2, 1200))
    p.pump(10)
    assert len(_of(p.client_events, MediaReceived)) == 1


@pytest.mark.parametrize(
    "setup, refused_by",
    [
        (lambda k: pair(k, client_token="forged.token.here"), "server"),
        (lambda k: pair(k, client_token=Keys().token("edge-a")), "server"),  # another deployment's API
        (lambda k: pair(k, client_token=k.token("edge-z")), "server"),  # hello says edge-a, token edge-z
        (lambda k: pair(k, client_token=k.token("edge-a", now=0)), "server"),  # long expired
        (lambda k: pair(k, server_token="x.y.z"), "client"),
        (lambda k: pair(k, expected_peer="edge-c"), "client"),  # dialled edge-c, reached edge-b
        (lambda k: pair(k, pin="00" * 32), "client"),  # not the certificate the API published
    ],
    ids=["bad token", "foreign key", "token of another edge", "expired", "server token", "wrong edge", "pin"],
)
def test_an_edge_that_cannot_prove_it_belongs_to_this_deployment_is_refused(setup, refused_by: str) -> None:  # type: ignore[no-untyped-def]
    p: Pair = setup(Keys())
    cam = p.server.announce("m1", "ada", "ada-cam", "video", "camera")
    p.client.announce("m1", "bob", "bob-cam", "video", "camera")
    p.pump(60)
    closed = _of(p.client_events, LinkClosed) + _of(p.server_events, LinkClosed)
    assert closed and all(c.error_code == UNAUTHENTICATED for c in closed), (p.client_events, p.server_events)
    refuser = p.server if refused_by == "server" else p.client
    assert refuser.peer is None
    # Nothing the refused side announced was accepted, and nobody was told the peer is ready.
    assert not _of(p.server_events, TrackAnnounced) and not _of(p.client_events, TrackAnnounced)
    assert not _of(p.server_events if refused_by == "server" else p.client_events, PeerReady)
    assert not p.server.send_media(cam, _rtp(1))


def test_anything_before_hello_closes_the_link() -> None:
    # A client that speaks without introducing itself: an announce is the first thing on its control stream.
    p = pair(connect=False)
    p.client.quic.connect(SERVER_ADDR, p.now)
    p.client.quic.send_stream_data(0, encode_control(Announce(0, "m", "p", "t", "video", "camera")))
    p.pump(60)
    assert p.server.peer is None
    assert _of(p.server_events, LinkClosed)[0].error_code == UNAUTHENTICATED
    assert not _of(p.server_events, TrackAnnounced)


def test_media_from_a_peer_that_has_not_said_hello_is_dropped() -> None:
    p = pair(connect=False)
    p.client.quic.connect(SERVER_ADDR, p.now)
    p.pump(30)  # handshake done, no hello
    for seq in range(5):
        p.client.quic.send_datagram_frame(b"\x00\x00" + _rtp(seq))
    p.pump(30)
    assert p.server.counters.before_auth == 5 and not _of(p.server_events, MediaReceived)


def test_a_malformed_datagram_or_a_second_stream_from_a_peer_is_a_protocol_error() -> None:
    p = _ready(pair())
    p.client.quic.send_datagram_frame(b"\x20\x00junk")  # reserved bit set
    p.pump(20)
    assert _of(p.server_events, LinkClosed)[0].error_code == PROTOCOL_ERROR
    q = _ready(pair())
    q.client.quic.send_stream_data(4, b"\x01x")
    q.pump(20)
    assert _of(q.server_events, LinkClosed)[0].error_code == PROTOCOL_ERROR

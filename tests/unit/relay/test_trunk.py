"""The trunk queue: bounded in packets and bytes, and under pressure the least important media goes first."""

from __future__ import annotations

from relay.trunk import AUDIO_OR_RTCP, FIRST_DELTA_CLASS, KEY_FRAME, TrunkQueue, rank


def _drain(q: TrunkQueue) -> list[bytes]:
    out = []
    while (d := q.pop()) is not None:
        out.append(d)
    return out


def test_ranks_follow_importance() -> None:
    assert rank(audio=True, rtcp=False, key=False, layer=0) == AUDIO_OR_RTCP
    assert rank(audio=False, rtcp=True, key=False, layer=2) == AUDIO_OR_RTCP
    assert rank(audio=False, rtcp=False, key=True, layer=2) == KEY_FRAME
    assert rank(audio=False, rtcp=False, key=False, layer=0) < rank(audio=False, rtcp=False, key=False, layer=2)


def test_pop_gives_the_most_important_first_and_fifo_within_a_class() -> None:
    q = TrunkQueue()
    q.push(b"L2-a", track=1, rank_=FIRST_DELTA_CLASS + 2, layer=2)
    q.push(b"L0-a", track=2, rank_=FIRST_DELTA_CLASS, layer=0)
    q.push(b"audio-a", track=3, rank_=AUDIO_OR_RTCP)
    q.push(b"L0-b", track=2, rank_=FIRST_DELTA_CLASS, layer=0)
    q.push(b"key", track=4, rank_=KEY_FRAME, layer=1)
    q.push(b"audio-b", track=3, rank_=AUDIO_OR_RTCP)
    assert _drain(q) == [b"audio-a", b"audio-b", b"key", b"L0-a", b"L0-b", b"L2-a"]
    assert len(q) == 0 and q.size_bytes == 0


def test_a_full_queue_drops_the_largest_layers_deltas_before_key_frames_and_audio() -> None:
    q = TrunkQueue(max_packets=10)
    for i in range(6):
        assert q.push(b"L2-%d" % i, track=1, rank_=FIRST_DELTA_CLASS + 2, layer=2)
    for i in range(4):
        assert q.push(b"L0-%d" % i, track=2, rank_=FIRST_DELTA_CLASS, layer=0)
    # Full. Audio and key frames push layer-2 deltas out, newest first.
    for i in range(5):
        assert q.push(b"A-%d" % i, track=3, rank_=AUDIO_OR_RTCP)
    assert q.push(b"K", track=4, rank_=KEY_FRAME, layer=0)
    assert len(q) == 10
    assert q.dropped == {FIRST_DELTA_CLASS + 2: 6}
    # Now only layer 0 deltas are below audio: they go next.
    assert q.push(b"A-5", track=3, rank_=AUDIO_OR_RTCP)
    assert q.dropped[FIRST_DELTA_CLASS] == 1
    # A newcomer no more important than anything queued is the one dropped.
    assert not q.push(b"L1", track=5, rank_=FIRST_DELTA_CLASS + 1, layer=1)
    assert not q.push(b"L0-x", track=2, rank_=FIRST_DELTA_CLASS, layer=0)
    assert q.dropped == {FIRST_DELTA_CLASS + 2: 6, FIRST_DELTA_CLASS: 2, FIRST_DELTA_CLASS + 1: 1}
    drained = _drain(q)
    assert drained[:6] == [b"A-%d" % i for i in range(6)] and drained[6] == b"K"
    assert all(not d.startswith(b"L2") for d in drained)


def test_audio_is_never_dropped_to_make_room_for_audio_or_video() -> None:
    q = TrunkQueue(max_packets=4)
    for i in range(4):
        q.push(b"A%d" % i, track=1, rank_=AUDIO_OR_RTCP)
    assert not q.push(b"K", track=2, rank_=KEY_FRAME)
    assert not q.push(b"A4", track=1, rank_=AUDIO_OR_RTCP)
    assert _drain(q) == [b"A0", b"A1", b"A2", b"A3"]


def test_a_key_frame_drops_the_older_deltas_of_its_own_track_and_layer_only() -> None:
    q = TrunkQueue()
    q.push(b"t1-L0-old", track=1, rank_=FIRST_DELTA_CLASS, layer=0)
    q.push(b"t1-L1", track=1, rank_=FIRST_DELTA_CLASS + 1, layer=1)
    q.push(b"t2-L0", track=2, rank_=FIRST_DELTA_CLASS, layer=0)
    q.push(b"t1-key", track=1, rank_=KEY_FRAME, layer=0)
    q.push(b"t1-L0-new", track=1, rank_=FIRST_DELTA_CLASS, layer=0)
    assert _drain(q) == [b"t1-key", b"t2-L0", b"t1-L0-new", b"t1-L1"]
    assert q.dropped == {FIRST_DELTA_CLASS: 1}


def test_the_byte_bound_holds_as_well_as_the_packet_bound() -> None:
    q = TrunkQueue(max_packets=1000, max_bytes=10_000)
    for i in range(100_000):  # bounded loop: the queue must stay bounded whatever is pushed
        q.push(bytes(1200), track=i % 7, rank_=FIRST_DELTA_CLASS + i % 3, layer=i % 3)
        assert q.size_bytes <= 10_000 and len(q) <= 1000
    queued = q.size_bytes
    assert sum(len(d) for d in _drain(q)) == queued and q.size_bytes == 0 and len(q) == 0


def test_layers_the_peer_no_longer_wants_leave_the_queue() -> None:
    q = TrunkQueue()
    q.push(b"t1-L2-key", track=1, rank_=KEY_FRAME, layer=2)
    q.push(b"t1-L2", track=1, rank_=FIRST_DELTA_CLASS + 2, layer=2)
    q.push(b"t1-L0", track=1, rank_=FIRST_DELTA_CLASS, layer=0)
    q.push(b"t2-L2", track=2, rank_=FIRST_DELTA_CLASS + 2, layer=2)
    assert q.drop_unwanted(1, frozenset({0, 1})) == 2
    assert len(q) == 2 and q.size_bytes == len(b"t1-L0") + len(b"t2-L2")
    assert _drain(q) == [b"t1-L0", b"t2-L2"]
    q.push(b"t1-L0", track=1, rank_=FIRST_DELTA_CLASS, layer=0)
    assert q.drop_unwanted(1, frozenset()) == 1 and len(q) == 0  # unsubscribed: nothing of it stays

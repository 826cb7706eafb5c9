"""The room policy: who receives which tracks (last-N video, top-N audio in large rooms, host mutes, screen
shares), and the per-member changes it hands the I/O layer."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence

import pytest

from sfu.room import Changes, Room, SubscriptionDiff, TrackRef


def cam(p: str) -> TrackRef:
    return TrackRef(p, f"{p}-cam", "video")


def mic(p: str) -> TrackRef:
    return TrackRef(p, f"{p}-mic", "audio")


def screen(p: str) -> TrackRef:
    return TrackRef(p, f"{p}-screen", "video", "screen")


def screen_audio(p: str) -> TrackRef:
    return TrackRef(p, f"{p}-screen-audio", "audio", "screen")


def full(room: Room, *pids: str, video: bool = True) -> None:
    """Each of ``pids`` joins, publishes microphone (and camera) and becomes a member, in that order."""
    for p in pids:
        room.publish(mic(p))
        if video:
            room.publish(cam(p))
        room.admit(p)


def cams_of(room: Room, member: str) -> set[str]:
    return {t.publisher_id for t in room.wanted(member) if t.kind == "video" and t.source == "camera"}


def mics_of(room: Room, member: str) -> set[str]:
    return {t.publisher_id for t in room.wanted(member) if t.kind == "audio" and t.source == "microphone"}


# -- TrackRef -------------------------------------------------------------------------------------------------


def test_track_source_defaults_from_kind() -> None:
    assert TrackRef("a", "0", "video").source == "camera"
    assert TrackRef("a", "1", "audio").source == "microphone"
    assert TrackRef("a", "1", "audio") == TrackRef("a", "1", "audio", "microphone")
    assert TrackRef("a", "2", "video", "screen") != TrackRef("a", "2", "video")


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (("a", "0", "data"), "kind must be audio or video"),
        (("a", "0", "video", "webcam"), "source must be one of camera, microphone, screen"),
        (("a", "0", "audio", "camera"), "a camera track cannot be audio"),
        (("a", "0", "video", "microphone"), "a microphone track cannot be video"),
    ],
)
def test_nonsense_tracks_are_refused(args: tuple[str, ...], why: str) -> None:
    with pytest.raises(ValueError, match=why):
        TrackRef(*args)


@pytest.mark.parametrize(
    ("kwargs", "why"),
    [
        ({"last_n": -1}, "last_n must be >= 0"),
        ({"top_audio_threshold": -1}, "top_audio_threshold must be >= 0"),
        ({"top_audio_n": -1}, "top_audio_n must be >= 0"),
        ({"audio_hang_s": -0.5}, "audio_hang_s must be >= 0"),
    ],
)
def test_nonsense_settings_are_refused(kwargs: dict[str, float], why: str) -> None:
    with pytest.raises(ValueError, match=why):
        Room("m", **kwargs)  # type: ignore[arg-type]


# -- the legacy calling convention (edge/rooms.py today) --------------------------------------------------------


def test_legacy_calls_behave_as_before_in_a_small_room() -> None:
    room = Room("m")
    assert room.add_member("a") == []
    a_mic, a_cam = mic("a"), cam("a")
    assert room.add_track(a_mic) == []  # nobody else is there
    assert room.add_track(a_cam) == []
    b_mic = mic("b")
    assert room.add_track(b_mic) == ["a"]  # b publishes before its own first negotiation finished
    assert room.add_member("b") == [a_mic, a_cam]
    assert room.subscribed("a", b_mic) and room.subscribed("b", a_cam)
    assert not room.subscribed("a", a_mic) and not room.subscribed("z", a_mic)
    assert room.add_track(b_mic) == []  # the same track twice is nothing new
    assert room.remove("a") == {"b": [a_mic, a_cam]}
    assert not room.subscribed("b", a_cam)  # a subscription in flight when a left is called off
    assert room.remove("a") == {}
    assert room.remove("b") == {}
    assert room.empty


# -- last-N video -----------------------------------------------------------------------------------------------


def test_without_speakers_the_first_to_join_fill_the_slots() -> None:
    room = Room("m", last_n=2)
    full(room, "a", "b", "c", "d", "e")
    assert cams_of(room, "e") == {"a", "b"}
    assert cams_of(room, "a") == {"b", "c"}  # a never takes a slot of its own: the next one fills it
    assert cams_of(room, "b") == {"a", "c"}
    assert room.video_slots("b") == ["a", "c"]
    assert all(mics_of(room, p) == {"a", "b", "c", "d", "e"} - {p} for p in "abcde")


def test_recent_speakers_come_first_most_recent_first() -> None:
    room = Room("m", last_n=3)
    full(room, "a", "b", "c", "d", "e", "f")
    room.update_speakers(["e", "c"], [], now=1)
    assert room.video_slots("f") == ["e", "c", "a"]
    assert room.video_slots("e") == ["c", "a", "b"]
    assert room.video_slots("c") == ["e", "a", "b"]
    assert cams_of(room, "a") == {"e", "c", "b"}
    room.update_speakers(["d", "e", "c"], [], now=2)
    assert room.video_slots("f") == ["d", "e", "c"]
    assert room.video_slots("a") == ["d", "e", "c"]


def test_speakers_absent_from_the_room_or_without_a_camera_take_no_slot() -> None:
    room = Room("m", last_n=2)
    full(room, "a", "b", "c")
    full(room, "nocam", video=False)
    room.update_speakers(["ghost", "nocam", "c", "c"], [], now=1)
    assert room.video_slots("nocam") == ["c", "a"]
    assert room.video_slots("a") == ["c", "b"]


@pytest.mark.parametrize("n", [3, 4, 25])
def test_n_at_least_the_room_gives_everyone_every_camera(n: int) -> None:
    room = Room("m", last_n=n)
    full(room, "a", "b", "c", "d")
    room.update_speakers(["d"], [], now=1)
    assert all(cams_of(room, p) == {"a", "b", "c", "d"} - {p} for p in "abcd")


def test_last_n_zero_forwards_no_camera_but_screens_and_audio() -> None:
    room = Room("m", last_n=0)
    full(room, "a", "b")
    room.publish(screen("a"))
    assert room.wanted("b") == {mic("a"), screen("a")}


def test_screen_shares_always_reach_everyone() -> None:
    room = Room("m", last_n=1, top_audio_threshold=2, top_audio_n=1, audio_hang_s=0)
    full(room, "a", "b", "c", "d")
    room.publish(screen("d"))
    room.publish(screen_audio("d"))
    room.update_speakers(["a"], ["a"], now=1)
    for p in "abc":
        assert {screen("d"), screen_audio("d")} <= room.wanted(p)
    assert cams_of(room, "b") == {"a"} and mics_of(room, "b") == {"a"}
    assert screen("d") not in room.wanted("d")


def test_a_new_speaker_replaces_the_least_recent_and_the_diff_pairs_them_for_a_switch() -> None:
    room = Room("m", last_n=2)
    full(room, "a", "b", "c", "d")
    room.update_speakers(["a", "b"], [], now=1)
    changes = room.update_speakers(["c", "a", "b"], [], now=2)
    assert changes == {"d": SubscriptionDiff(add=[cam("c")], remove=[cam("b")])}
    assert changes["d"].switches() == ([(cam("b"), cam("c"))], [], [])
    # a, b and c keep the same two others; only the order of their slots changed
    assert cams_of(room, "a") == {"c", "b"} and cams_of(room, "b") == {"c", "a"} and cams_of(room, "c") == {"a", "b"}


def test_the_same_speaker_answer_twice_changes_nothing() -> None:
    room = Room("m", last_n=1)
    full(room, "a", "b", "c")
    assert room.update_speakers(["c"], [], now=1) != {}
    assert room.update_speakers(["c"], [], now=1.25) == {}


def test_a_departing_top_speaker_is_replaced_in_the_same_diff() -> None:
    room = Room("m", last_n=1)
    full(room, "a", "b", "c")
    room.update_speakers(["b"], [], now=1)
    changes = room.leave("b")
    assert changes == {
        "a": SubscriptionDiff(add=[cam("c")], remove=[mic("b"), cam("b")]),
        "c": SubscriptionDiff(add=[cam("a")], remove=[mic("b"), cam("b")]),
    }
    assert changes["a"].switches() == ([(cam("b"), cam("c"))], [], [mic("b")])


def test_a_camera_turned_off_frees_its_slot() -> None:
    room = Room("m", last_n=1)
    full(room, "a", "b", "c")
    assert room.unpublish(cam("a")) == {
        "b": SubscriptionDiff(add=[cam("c")], remove=[cam("a")]),
        "c": SubscriptionDiff(add=[cam("b")], remove=[cam("a")]),
    }
    assert room.unpublish(cam("a")) == {}


# -- top-N audio in large rooms ---------------------------------------------------------------------------------


def crowd(n: int) -> list[str]:
    return [f"p{i:02d}" for i in range(n)]


def test_fifty_participants_hear_everyone() -> None:
    room = Room("m")
    full(room, *crowd(50), video=False)
    room.update_speakers(["p01"], ["p01"], now=1)
    assert not room.large
    assert mics_of(room, "p00") == set(crowd(50)) - {"p00"}


def test_the_fifty_first_participant_leaves_only_the_top_three_heard() -> None:
    room = Room("m")
    people = crowd(51)
    full(room, *people[:50], video=False)
    room.update_speakers([], ["p07", "p03", "p09", "p04"], now=1)
    changes = room.publish(mic("p50"))  # the 51st participant counts from its first track
    assert room.large
    joined = room.admit("p50")
    assert mics_of(room, "p00") == {"p07", "p03", "p09"}
    assert mics_of(room, "p50") == {"p07", "p03", "p09"}
    assert mics_of(room, "p03") == {"p07", "p09"}  # nobody hears itself
    assert changes["p00"].add == [] and len(changes["p00"].remove) == 50 - 1 - 3
    assert joined == {"p50": SubscriptionDiff(add=[mic("p03"), mic("p07"), mic("p09")])}  # in publish order
    # back to fifty: everyone is heard again
    changes = room.leave("p50")
    assert mics_of(room, "p00") == set(people[:50]) - {"p00"}
    assert len(changes["p00"].add) == 50 - 1 - 3


def test_a_speaker_stays_heard_for_the_hang_time_after_leaving_the_top() -> None:
    room = Room("m", top_audio_threshold=3, top_audio_n=1, audio_hang_s=2.0)
    full(room, "a", "b", "c", "d", video=False)
    room.update_speakers([], ["a"], now=10)
    assert mics_of(room, "d") == {"a"}
    assert room.update_speakers([], ["b"], now=11) == {p: SubscriptionDiff(add=[mic("b")]) for p in "acd"}
    assert mics_of(room, "d") == {"a", "b"}
    assert room.update_speakers([], [], now=11.75) == {}
    changes = room.update_speakers([], [], now=12)  # a was last on top at 10
    assert changes == {p: SubscriptionDiff(remove=[mic("a")]) for p in "bcd"}
    changes = room.update_speakers([], [], now=13)
    assert changes == {p: SubscriptionDiff(remove=[mic("b")]) for p in "acd"}
    assert mics_of(room, "d") == set()


def test_a_speaker_back_on_top_within_the_hang_time_is_never_cut() -> None:
    room = Room("m", top_audio_threshold=3, top_audio_n=1, audio_hang_s=2.0)
    full(room, "a", "b", "c", "d", video=False)
    room.update_speakers([], ["a"], now=10)
    for t, top in [(11, ["b"]), (11.5, ["a"]), (13, ["b"]), (13.25, ["a"])]:
        changes = room.update_speakers([], top, now=t)
        assert all(mic("a") not in d.remove for d in changes.values())


def test_speakers_not_in_the_room_take_no_audio_slot() -> None:
    room = Room("m", top_audio_threshold=3, top_audio_n=2, audio_hang_s=0)
    full(room, "a", "b", "c", "d", video=False)
    room.update_speakers([], ["ghost", "c", "b", "a"], now=1)
    assert mics_of(room, "d") == {"c", "b"}


# -- host mutes -------------------------------------------------------------------------------------------------


def test_a_host_mute_stops_all_audio_of_that_participant_and_nothing_else() -> None:
    room = Room("m")
    full(room, "a", "b", "c")
    room.publish(screen_audio("a"))
    room.publish(screen("a"))
    changes = room.set_audio_blocked("a", True)
    assert changes == {p: SubscriptionDiff(remove=[mic("a"), screen_audio("a")]) for p in "bc"}
    assert room.wanted("b") == {cam("a"), screen("a"), mic("c"), cam("c")}
    assert room.set_audio_blocked("a", True) == {}
    room.publish(mic2 := TrackRef("a", "a-mic2", "audio"))  # a second microphone while muted: held back too
    assert all(mic2 not in room.wanted(p) for p in "bc")
    changes = room.set_audio_blocked("a", False)
    assert changes == {p: SubscriptionDiff(add=[mic("a"), screen_audio("a"), mic2]) for p in "bc"}


def test_a_muted_loud_speaker_gives_its_top_slot_to_the_next() -> None:
    room = Room("m", top_audio_threshold=3, top_audio_n=1, audio_hang_s=0)
    full(room, "a", "b", "c", "d", video=False)
    room.update_speakers([], ["a", "b"], now=1)
    changes = room.set_audio_blocked("a", True)
    assert mics_of(room, "c") == {"b"}
    assert changes["c"] == SubscriptionDiff(add=[mic("b")], remove=[mic("a")])


def test_a_mute_holds_before_joining_and_across_a_reconnect() -> None:
    room = Room("m")
    room.set_audio_blocked("a", True)
    full(room, "a", "b")
    assert mic("a") not in room.wanted("b")
    room.leave("a")
    full(room, "a")  # reconnects: a new session, still muted until the API lifts it
    assert room.wanted("b") == {cam("a")}
    assert room.set_audio_blocked("a", False) == {"b": SubscriptionDiff(add=[mic("a")])}


def test_changes_for_members_only_and_in_join_order() -> None:
    room = Room("m")
    room.publish(mic("pub"))  # publishing, not yet able to receive
    full(room, "z", "a")
    changes = room.publish(cam("pub"))
    assert list(changes) == ["z", "a"]
    assert room.wanted("pub") == set()


# -- the incremental diff against a brute-force reference ---------------------------------------------------------


def reference(room: Room, now_top: Sequence[str]) -> dict[str, set[TrackRef]]:
    """The policy written the slow, obvious way (hang time 0)."""
    people = list(room.participants)
    tracks = list(room.tracks)
    cameras = [p for p in people if any(t.publisher_id == p and t.source == "camera" for t in tracks)]
    ranking = list(dict.fromkeys([p for p in room.recent_speakers if p in cameras] + cameras))
    heard: set[str] | None = None
    if len(people) > room.top_audio_threshold:
        present = [p for p in now_top if p in people and p not in room.audio_blocked]
        heard = set(present[: room.top_audio_n])
    out: dict[str, set[TrackRef]] = {}
    for m in room.members:
        slots = [p for p in ranking if p != m][: room.last_n]
        want: set[TrackRef] = set()
        for t in tracks:
            p = t.publisher_id
            if p == m:
                continue
            if t.kind == "audio":
                if p not in room.audio_blocked and (t.source == "screen" or heard is None or p in heard):
                    want.add(t)
            elif t.source == "screen" or p in slots:
                want.add(t)
        out[m] = want
    return out


def apply(shadow: dict[str, set[TrackRef]], changes: Changes, members: Iterable[str]) -> None:
    for m in list(shadow):
        if m not in members:
            del shadow[m]
    for m, diff in changes.items():
        assert diff, "empty diffs are left out"
        assert m in members
        have = shadow.setdefault(m, set())
        assert not set(diff.add) & set(diff.remove)
        assert not set(diff.add) & have, "an addition the member already has"
        assert set(diff.remove) <= have, "a removal of something the member does not have"
        have.difference_update(diff.remove)
        have.update(diff.add)


@pytest.mark.parametrize("seed", range(40))
def test_random_histories_match_the_reference(seed: int) -> None:
    rng = random.Random(seed)
    room = Room(
        "m",
        last_n=rng.choice([0, 1, 2, 3, 25]),
        top_audio_threshold=rng.choice([0, 3, 5, 50]),
        top_audio_n=rng.choice([0, 1, 3]),
        audio_hang_s=0,
    )
    pool = [f"p{i}" for i in range(9)]
    shadow: dict[str, set[TrackRef]] = {}
    top: list[str] = []
    now = 0.0
    mids = 0
    for _step in range(150):
        op = rng.choice(["admit", "publish", "publish", "unpublish", "leave", "block", "speakers", "speakers"])
        p = rng.choice(pool)
        if op == "admit":
            changes = room.admit(p)
        elif op == "publish":
            mids += 1
            kind, source = rng.choice([("audio", ""), ("video", ""), ("video", "screen"), ("audio", "screen")])
            changes = room.publish(TrackRef(p, str(mids), kind, source))
        elif op == "unpublish" and room.tracks:
            changes = room.unpublish(rng.choice(list(room.tracks)))
        elif op == "leave":
            changes = room.leave(p)
        elif op == "block":
            changes = room.set_audio_blocked(p, rng.random() < 0.5)
        else:
            now += 0.25
            top = rng.sample(pool, rng.randint(0, 4))
            changes = room.update_speakers(rng.sample(pool, rng.randint(0, 6)), top, now)
        apply(shadow, changes, room.members)
        expected = reference(room, top)
        assert {m: room.wanted(m) for m in room.members} == expected
        assert {m: shadow.get(m, set()) for m in room.members} == expected
        assert {m: room.subscriptions[m] for m in room.members} == expected


# -- SubscriptionDiff.switches ----------------------------------------------------------------------------------


def test_switches_pair_same_kind_and_source_in_order() -> None:
    diff = SubscriptionDiff(
        add=[cam("x"), mic("x"), screen("x"), cam("y")],
        remove=[mic("a"), cam("a"), cam("b"), cam("c")],
    )
    pairs, adds, removes = diff.switches()
    assert pairs == [(cam("a"), cam("x")), (mic("a"), mic("x")), (cam("b"), cam("y"))]
    assert adds == [screen("x")] and removes == [cam("c")]
    assert diff.remove == [mic("a"), cam("a"), cam("b"), cam("c")]  # untouched
    assert not SubscriptionDiff() and SubscriptionDiff(remove=[cam("a")])


def test_a_meeting_large_across_edges_forwards_only_the_loudest_audio_here_too() -> None:
    room = Room("m", top_audio_threshold=50, top_audio_n=1, audio_hang_s=0.0)
    for pid in ("a", "b", "c"):
        room.admit(pid)
        room.publish(TrackRef(pid, "0", "audio"))
    room.update_speakers(("b",), ("b",), now=1.0)
    assert room.subscribed("a", TrackRef("c", "0", "audio"))  # three here: everyone is heard
    # The API says the meeting has 60 participants on all its edges: only the loudest is heard.
    changes = room.set_meeting_size(60)
    assert TrackRef("c", "0", "audio") in changes["a"].remove
    assert room.subscribed("a", TrackRef("b", "0", "audio"))
    assert not room.subscribed("a", TrackRef("c", "0", "audio"))
    assert room.set_meeting_size(60) == {}
    # Back under the threshold: everyone again.
    changes = room.set_meeting_size(40)
    assert TrackRef("c", "0", "audio") in changes["a"].add

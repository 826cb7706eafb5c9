"""Which breakout rooms need a recording of their own now (api.recordings.rooms), every case of the rule."""

from __future__ import annotations

import itertools

import pytest

from api.recordings.rooms import CAPTURING, PAUSED, RoomChanges, room_recordings

ROOMS = ["b1", "b2", "b3"]


def test_opening_rooms_while_recording_records_each_occupied_room() -> None:
    changes = room_recordings(CAPTURING, True, ROOMS, {"b1", "b3"}, {})
    assert changes == RoomChanges(start=["b1", "b3"], status=CAPTURING)


def test_an_empty_room_is_not_recorded_until_someone_enters() -> None:
    assert room_recordings(CAPTURING, True, ROOMS, set(), {}).empty
    assert room_recordings(CAPTURING, True, ROOMS, {"b2"}, {}).start == ["b2"]


def test_a_room_that_empties_keeps_its_recording_until_the_rooms_close() -> None:
    # Someone steps out and back in: one recording of the room, not a new one per visit.
    assert room_recordings(CAPTURING, True, ROOMS, set(), {"b1": CAPTURING}).empty


def test_closing_the_rooms_stops_every_room_recording() -> None:
    changes = room_recordings(CAPTURING, False, ROOMS, set(), {"b1": CAPTURING, "b2": PAUSED})
    assert changes == RoomChanges(stop=["b1", "b2"])


@pytest.mark.parametrize("main", [None, "stopped", "ready"])
def test_no_main_recording_means_no_room_recordings(main: str | None) -> None:
    assert room_recordings(main, True, ROOMS, set(ROOMS), {}).empty
    assert room_recordings(main, True, ROOMS, set(ROOMS), {"b2": CAPTURING}) == RoomChanges(stop=["b2"])


def test_starting_to_record_while_rooms_are_paused_starts_them_paused() -> None:
    changes = room_recordings(PAUSED, True, ROOMS, {"b2"}, {})
    assert changes == RoomChanges(start=["b2"], status=PAUSED)


def test_room_recordings_pause_and_resume_with_the_main_recording() -> None:
    assert room_recordings(PAUSED, True, ROOMS, {"b1"}, {"b1": CAPTURING, "b2": PAUSED}) == RoomChanges(
        set_status=["b1"], status=PAUSED
    )
    assert room_recordings(CAPTURING, True, ROOMS, {"b1"}, {"b1": PAUSED, "b2": PAUSED}) == RoomChanges(
        set_status=["b1", "b2"], status=CAPTURING
    )


def test_a_deleted_room_stops_its_recording() -> None:
    assert room_recordings(CAPTURING, True, ["b1"], {"b1"}, {"b1": CAPTURING, "gone": CAPTURING}) == RoomChanges(
        stop=["gone"], status=CAPTURING
    )


@pytest.mark.parametrize(
    ("main", "rooms_open", "occupied", "recorded"),
    list(
        itertools.product(
            [None, CAPTURING, PAUSED],
            [False, True],
            [frozenset(), frozenset({"b1"}), frozenset(ROOMS)],
            [{}, {"b1": CAPTURING}, {"b2": PAUSED, "b3": CAPTURING}],
        )
    ),
)
def test_applying_the_changes_reaches_the_rule(
    main: str | None, rooms_open: bool, occupied: frozenset[str], recorded: dict[str, str]
) -> None:
    # Whatever the starting point: afterwards, while the main recording is open and the rooms are open, every
    # occupied room and every room recorded before has a recording in the main one's status; otherwise none.
    changes = room_recordings(main, rooms_open, ROOMS, occupied, recorded)
    after = {r: s for r, s in recorded.items() if r not in changes.stop}
    for r in changes.set_status:
        after[r] = changes.status
    for r in changes.start:
        assert r not in after
        after[r] = changes.status
    if main is None or not rooms_open:
        assert after == {}
    else:
        assert after == {r: main for r in ROOMS if r in occupied or r in recorded}
    assert room_recordings(main, rooms_open, ROOMS, occupied, after).empty  # and nothing more to do

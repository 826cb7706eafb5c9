"""Which recording each flowing track is tapped into (edge.recorder.plan_taps): its room's, and only there."""

from __future__ import annotations

from edge.recorder import Tapped, TapPlan, plan_taps

MAIN_A = Tapped("a", "0", None)
MAIN_A_MIC = Tapped("a", "1", None)
ROOM_B = Tapped("b", "0", "room1")
ROOM_C = Tapped("c", "0", "room2")


def test_each_room_records_into_its_own_recording() -> None:
    plan = plan_taps({}, [MAIN_A, MAIN_A_MIC, ROOM_B, ROOM_C], {None: "rm", "room1": "r1"})
    # Room 2 has no recording (nobody told the edge to capture it): its tracks are not tapped anywhere.
    assert plan == TapPlan(close=[], open=[(MAIN_A, "rm"), (MAIN_A_MIC, "rm"), (ROOM_B, "r1")])


def test_nothing_changes_when_the_taps_are_right() -> None:
    taps = {("a", "0"): "rm", ("b", "0"): "r1"}
    assert plan_taps(taps, [MAIN_A, ROOM_B], {None: "rm", "room1": "r1"}) == TapPlan([], [])


def test_a_stopped_or_paused_room_closes_only_its_taps() -> None:
    taps = {("a", "0"): "rm", ("b", "0"): "r1"}
    assert plan_taps(taps, [MAIN_A, ROOM_B], {None: "rm"}) == TapPlan(close=[("b", "0")], open=[])
    assert plan_taps(taps, [MAIN_A, ROOM_B], {"room1": "r1"}) == TapPlan(close=[("a", "0")], open=[])


def test_a_new_recording_of_a_room_reopens_its_taps_there() -> None:
    plan = plan_taps({("b", "0"): "r1"}, [ROOM_B], {"room1": "r2"})
    assert plan == TapPlan(close=[("b", "0")], open=[(ROOM_B, "r2")])


def test_a_participant_now_in_another_room_moves_to_that_rooms_recording() -> None:
    # b reconnected from the main room into room 1 (a join token names one room): the main recording's tap of
    # the track closes, room 1's opens.
    plan = plan_taps({("b", "0"): "rm"}, [ROOM_B], {None: "rm", "room1": "r1"})
    assert plan == TapPlan(close=[("b", "0")], open=[(ROOM_B, "r1")])


def test_a_track_that_ended_closes_its_tap() -> None:
    assert plan_taps({("a", "0"): "rm"}, [], {None: "rm"}) == TapPlan(close=[("a", "0")], open=[])

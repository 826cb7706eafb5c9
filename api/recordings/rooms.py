"""Which breakout rooms need a recording of their own, now. Pure: no database, no clock.

A recording must never mix rooms (a breakout conversation mixed into the meeting's recording would reach everyone
who may play it back, and the main room's would be unintelligible), so while the meeting's (main room's) cloud
recording is open and its breakout rooms are open or closing, each breakout room with someone in it is recorded on
its own, in step with the main recording: capturing while it captures, paused while it is paused. A room's
recording starts when the first person enters it (an empty room has nothing to record: its files would hold no
track) and runs on, even through moments when the room is empty, until the rooms close or the main recording
stops; then it is stopped and processed like any other recording.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

CAPTURING = "recording"
PAUSED = "paused"


@dataclass(frozen=True, slots=True)
class RoomChanges:
    """What to do to the breakout rooms' recordings (room ids; each list in the order the rooms were given)."""

    start: list[str] = field(default_factory=list)
    """Rooms to begin a recording for, in ``status``."""
    stop: list[str] = field(default_factory=list)
    """Rooms whose recording stops."""
    set_status: list[str] = field(default_factory=list)
    """Rooms whose open recording must change to ``status`` (the main recording paused or resumed)."""
    status: str = CAPTURING
    """The status new and changed recordings take: the main recording's."""

    @property
    def empty(self) -> bool:
        return not (self.start or self.stop or self.set_status)


def room_recordings(
    main_status: str | None,
    rooms_open: bool,
    rooms: Collection[str],
    occupied: Collection[str],
    recorded: Mapping[str, str],
) -> RoomChanges:
    """The changes that make the breakout rooms' recordings what they should be now.

    ``main_status``: the main room's open recording's status (``recording`` or ``paused``), None when the meeting
    is not being recorded. ``rooms_open``: breakout rooms are open or closing (people are in them). ``rooms``: the
    meeting's breakout rooms, in display order. ``occupied``: rooms with an admitted participant in them now.
    ``recorded``: the rooms that have an open recording, with its status (a room no longer in ``rooms``, deleted
    meanwhile, is stopped).
    """
    if main_status not in (CAPTURING, PAUSED) or not rooms_open:
        return RoomChanges(stop=[r for r in recorded])
    status = main_status
    start = [r for r in rooms if r in occupied and r not in recorded]
    stop = [r for r in recorded if r not in rooms]
    align = [r for r in rooms if r in recorded and recorded[r] != status]
    return RoomChanges(start=start, stop=stop, set_status=align, status=status)

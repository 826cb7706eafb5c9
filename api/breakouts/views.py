"""What a read or a mutation returns and what events carry: one loaded `Breakouts` view, and the JSON-able
snapshot built from it. GraphQL types are built from the same view and snapshot, so a query and the events a
subscriber applied cannot disagree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from api.breakouts.deadline import Phase, Schedule
from api.participants.permissions import Role
from dbschema.breakouts import BreakoutRoom, BreakoutState
from dbschema.models import Participant


def schedule_of(st: BreakoutState | None) -> Schedule:
    if st is None:
        return Schedule()
    return Schedule(Phase(st.status), st.grace_s, st.closes_at, st.returns_at)


@dataclass(slots=True)
class Breakouts:
    """A meeting's breakout rooms as one viewer may see them."""

    meeting_id: str
    state: BreakoutState | None
    """None until someone first configures breakout rooms for the meeting."""
    rooms: list[BreakoutRoom]
    assignments: dict[str, str]
    """participant id → room id: the plan applied when rooms open."""
    people: list[Participant]
    """Everyone who came to the meeting, first arrival first."""
    viewer_role: Role

    @property
    def schedule(self) -> Schedule:
        return schedule_of(self.state)

    def present(self, room_id: str) -> list[Participant]:
        """Who is in the room now: admitted participants whose breakout_room_id is this room."""
        return [p for p in self.people if p.state == "admitted" and p.breakout_room_id == room_id]

    def assigned(self, room_id: str) -> list[Participant]:
        return [p for p in self.people if self.assignments.get(p.id) == room_id]

    def unassigned(self) -> list[Participant]:
        """Admitted participants (not host or co-host) without a room in the plan."""
        return [
            p
            for p in self.people
            if p.state == "admitted" and p.role in ("participant", "guest") and p.id not in self.assignments
        ]


def _ts(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def snapshot(b: Breakouts, *, with_assignments: bool = False) -> dict[str, Any]:
    """The state every admitted participant may see; the plan (assignments) only when asked, for events that
    go to hosts alone."""
    st = b.state
    d: dict[str, Any] = {
        "status": b.schedule.phase.value,
        "allowChooseRoom": bool(st and st.allow_choose),
        "graceSeconds": st.grace_s if st else 60,
        "openedAt": _ts(st.opened_at) if st and b.schedule.running else None,
        "closesAt": _ts(st.closes_at) if st else None,
        "returnsAt": _ts(st.returns_at) if st else None,
        "rooms": [{"id": r.id, "name": r.name, "participantIds": [p.id for p in b.present(r.id)]} for r in b.rooms],
    }
    if with_assignments:
        d["assignments"] = [{"participantId": pid, "roomId": rid} for pid, rid in sorted(b.assignments.items())]
    return d

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Any

import strawberry

from api.participants.views import participant_snapshot
from dbschema.models import Participant as ParticipantRow


@strawberry.enum
class ParticipantRole(Enum):
    HOST = "host"
    COHOST = "cohost"
    PARTICIPANT = "participant"
    GUEST = "guest"


@strawberry.enum
class ParticipantState(Enum):
    WAITING = "waiting"
    ADMITTED = "admitted"
    LEFT = "left"
    DENIED = "denied"
    REMOVED = "removed"


@strawberry.enum
class JoinStatus(Enum):
    WAITING = "WAITING"
    ADMITTED = "ADMITTED"


def _ts(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


@strawberry.type(description="A person in a meeting, with presence and media state.")
class Participant:
    id: strawberry.ID
    meeting_id: strawberry.ID
    display_name: str
    role: ParticipantRole
    state: ParticipantState
    waiting_reason: str | None = strawberry.field(description="waiting_room or host_absent while WAITING.")
    is_guest: bool
    audio_muted: bool
    muted_by_host: bool
    video_on: bool
    sharing: bool
    hand_raised_at: datetime | None
    joined_at: datetime | None
    breakout_room_id: strawberry.ID | None = strawberry.field(
        default=None, description="Breakout room the participant is assigned to or in; null for the main room."
    )
    local_recording_granted: bool = strawberry.field(
        default=False, description="The host lets this person record locally (allowLocalRecording)."
    )
    recording_locally: bool = strawberry.field(
        default=False, description="Recording the meeting on their own device now (setLocalRecording)."
    )

    @classmethod
    def from_snapshot(cls, d: dict[str, Any]) -> Participant:
        return cls(
            id=strawberry.ID(d["id"]),
            meeting_id=strawberry.ID(d["meetingId"]),
            display_name=d["displayName"],
            role=ParticipantRole(d["role"]),
            state=ParticipantState(d["state"]),
            waiting_reason=d["waitingReason"],
            is_guest=d["userId"] is None,
            audio_muted=d["audioMuted"],
            muted_by_host=d["mutedByHost"],
            video_on=d["videoOn"],
            sharing=d["sharing"],
            hand_raised_at=_ts(d["handRaisedAt"]),
            joined_at=_ts(d["joinedAt"]),
            breakout_room_id=d.get("breakoutRoomId"),
            local_recording_granted=d.get("localRecordingGranted", False),
            recording_locally=d.get("recordingLocally", False),
        )

    @classmethod
    def from_row(cls, p: ParticipantRow) -> Participant:
        return cls.from_snapshot(participant_snapshot(p))


@strawberry.type
class JoinToken:
    token: str = strawberry.field(description="Signed (EdDSA) join token the media edge accepts.")
    expires_at: datetime
    edge_url: str = strawberry.field(description="Signalling URL of the edge to connect to.")


@strawberry.type
class AttendanceEntry:
    participant_id: strawberry.ID
    display_name: str
    state: ParticipantState
    at: datetime


@strawberry.input
class EdgeRttInput:
    edge_id: strawberry.ID
    rtt_ms: float


@strawberry.type(description="A media edge a client may measure before joining.")
class MediaEdge:
    id: strawberry.ID
    region: str
    probe_url: str = strawberry.field(description="GET it and time the answer (no-cors is enough).")


@strawberry.input
class JoinMeetingInput:
    number: str = strawberry.field(description="Meeting number; spaces and dashes are ignored.")
    passcode: str | None = None
    display_name: str | None = strawberry.field(default=None, description="Required for guests.")
    client_token: str | None = strawberry.field(
        default=None,
        description="The clientToken an earlier join returned: keep it (e.g. in localStorage) and send it on every "
        "join, so the server knows this client again.",
    )
    invite_key: str | None = strawberry.field(
        default=None, description="The `k` of an invite link: lets its holder in without typing the passcode."
    )
    edge_rtts: list[EdgeRttInput] | None = strawberry.field(
        default=None,
        description="Round-trip times the client measured to the `mediaEdges` probe URLs: the join token then "
        "points at the nearest edge (weighed against load). At most 32.",
    )
    region: str | None = strawberry.field(
        default=None, description="A region hint (a `MediaEdge.region`) used when no round-trip time is given."
    )


@strawberry.input
class UpdateMyMediaInput:
    audio_muted: bool | None = None
    video_on: bool | None = None
    sharing: bool | None = None

"""The typed results the SDK returns: one frozen dataclass per API type, decoded from the JSON the operations in
operations.py select (field names are the schema's, in snake case)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def _opt_str(v: Any) -> str | None:
    return None if v is None else str(v)


@dataclass(frozen=True)
class User:
    id: str
    email: str
    display_name: str

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> User:
        return cls(d["id"], d["email"], d["displayName"])


@dataclass(frozen=True)
class Session:
    """Tokens of a signed-in user (``signUp``, ``logIn``, ``refreshTokens``)."""

    access_token: str
    refresh_token: str
    expires_in: int
    user: User

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Session:
        return cls(d["accessToken"], d["refreshToken"], d["expiresIn"], User.from_json(d["user"]))


@dataclass(frozen=True)
class Participant:
    id: str
    meeting_id: str
    display_name: str
    role: str
    """HOST, COHOST, PARTICIPANT or GUEST."""
    state: str
    """WAITING, ADMITTED, LEFT, DENIED or REMOVED."""
    waiting_reason: str | None
    is_guest: bool
    audio_muted: bool
    muted_by_host: bool
    video_on: bool
    sharing: bool
    hand_raised_at: str | None
    breakout_room_id: str | None

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Participant:
        return cls(
            d["id"],
            d["meetingId"],
            d["displayName"],
            d["role"],
            d["state"],
            d.get("waitingReason"),
            d["isGuest"],
            d["audioMuted"],
            d["mutedByHost"],
            d["videoOn"],
            d["sharing"],
            d.get("handRaisedAt"),
            d.get("breakoutRoomId"),
        )


@dataclass(frozen=True)
class Meeting:
    id: str
    number: str
    title: str
    description: str
    status: str
    starts_at: str
    duration_minutes: int
    timezone: str
    has_passcode: bool
    passcode: str | None
    """Only from ``create_meeting``/``update_meeting`` (hosts only may read it); None elsewhere."""
    locked: bool
    invite_link: str
    event_seq: int
    """The meeting's latest event sequence: subscribe with ``after_seq`` = this to miss nothing from now on."""
    my_role: str | None
    my_participant_id: str | None

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Meeting:
        return cls(
            d["id"],
            d["number"],
            d["title"],
            d["description"],
            d["status"],
            d["startsAt"],
            d["durationMinutes"],
            d["timezone"],
            d["hasPasscode"],
            d.get("passcode"),
            d["locked"],
            d["inviteLink"],
            d["eventSeq"],
            d.get("myRole"),
            d.get("myParticipantId"),
        )


@dataclass(frozen=True)
class MeetingPage:
    """One page of ``myMeetings`` (``AsyncClient.meetings``)."""

    items: list[Meeting]
    next_cursor: str | None
    """Pass as ``after`` for the next page; None on the last."""

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> MeetingPage:
        return cls([Meeting.from_json(m) for m in d["items"]], d.get("nextCursor"))


@dataclass(frozen=True)
class Invitees:
    """Who a meeting invited by e-mail (``inviteToMeeting``, ``uninviteFromMeeting``, ``meetingInvitees``). The
    server itself mails them iTIP invitations over iMIP (RFC 5546, RFC 6047): ``METHOD:REQUEST`` when invited and
    when the meeting changes, ``METHOD:CANCEL`` when uninvited or when the meeting is cancelled."""

    meeting_id: str
    emails: list[str]
    """Every address invited now: lower-cased, without duplicates, sorted."""


@dataclass(frozen=True)
class CalendarLinks:
    """A meeting as a calendar entry (``Meeting.calendarLinks``; the answer to ``setMeetingCalendarOptions``)."""

    ics: str
    """The .ics URL (GET with ``Authorization: Bearer``)."""
    google: str
    outlook: str
    office365: str
    sequence: int
    """RFC 5545 SEQUENCE: grows with every change invitees' calendars should apply."""
    includes_passcode: bool
    """Whether calendar entries and invitations carry the passcode (and the invite link)."""
    skipped_occurrences: list[str]

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> CalendarLinks:
        return cls(
            d["ics"],
            d["google"],
            d["outlook"],
            d["office365"],
            d["sequence"],
            d["includesPasscode"],
            list(d["skippedOccurrences"]),
        )


@dataclass(frozen=True)
class JoinToken:
    token: str
    expires_at: str
    edge_url: str


@dataclass(frozen=True)
class JoinResult:
    status: str
    """ADMITTED or WAITING."""
    meeting_id: str
    participant: Participant
    event_seq: int
    guest_token: str | None
    """For guests: the bearer token of this guest (the client that joined uses it from then on)."""
    client_token: str | None
    join_token: JoinToken | None
    """Credentials for the media edge (admitted participants only)."""

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> JoinResult:
        jt = d.get("joinToken")
        return cls(
            d["status"],
            d["meetingId"],
            Participant.from_json(d["participant"]),
            d["eventSeq"],
            d.get("guestToken"),
            d.get("clientToken"),
            JoinToken(jt["token"], jt["expiresAt"], jt["edgeUrl"]) if jt else None,
        )


@dataclass(frozen=True)
class ChatMessage:
    id: str
    meeting_id: str
    sender_id: str
    sender_name: str
    recipient_id: str | None
    is_private: bool
    text: str | None
    """None once deleted."""
    created_at: str
    edited_at: str | None
    deleted: bool

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ChatMessage:
        return cls(
            d["id"],
            d["meetingId"],
            d["senderId"],
            d["senderName"],
            d.get("recipientId"),
            d["isPrivate"],
            d.get("text"),
            d["createdAt"],
            d.get("editedAt"),
            d["deleted"],
        )


@dataclass(frozen=True)
class PollOption:
    id: str
    text: str


@dataclass(frozen=True)
class PollOptionResult:
    option_id: str
    votes: int
    percent: float


@dataclass(frozen=True)
class PollResults:
    voter_count: int
    options: list[PollOptionResult]


@dataclass(frozen=True)
class Poll:
    id: str
    meeting_id: str
    question: str
    kind: str
    anonymous: bool
    status: str
    results_shared: bool
    options: list[PollOption]
    results: PollResults | None
    """Hosts always; participants once shared."""

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Poll:
        r = d.get("results")
        results = (
            PollResults(
                r["voterCount"], [PollOptionResult(o["optionId"], o["votes"], o["percent"]) for o in r["options"]]
            )
            if r
            else None
        )
        return cls(
            d["id"],
            d["meetingId"],
            d["question"],
            d["kind"],
            d["anonymous"],
            d["status"],
            d["resultsShared"],
            [PollOption(o["id"], o["text"]) for o in d["options"]],
            results,
        )


@dataclass(frozen=True)
class RecordingMedia:
    name: str
    content_type: str
    size: int
    url: str
    """Signed, absolute; needs no token."""


@dataclass(frozen=True)
class TranscriptLine:
    start: float
    end: float
    speaker_id: str | None
    speaker_name: str
    text: str
    language: str | None


@dataclass(frozen=True)
class Recording:
    id: str
    meeting_id: str
    title: str
    status: str
    started_at: str
    stopped_at: str | None
    recorded_seconds: float
    progress: int
    error: str | None
    media: list[RecordingMedia]
    transcript: list[TranscriptLine]

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Recording:
        return cls(
            d["id"],
            d["meetingId"],
            d["title"],
            d["status"],
            d["startedAt"],
            d.get("stoppedAt"),
            d["recordedSeconds"],
            d["progress"],
            d.get("error"),
            [RecordingMedia(m["name"], m["contentType"], m["size"], m["url"]) for m in d["media"]],
            [
                TranscriptLine(t["start"], t["end"], t.get("speakerId"), t["speakerName"], t["text"], t.get("language"))
                for t in d["transcript"]
            ],
        )


@dataclass(frozen=True)
class MeetingEvent:
    """One event of ``meetingEvents``/``myEvents``. ``participant`` and ``message`` are decoded for participant
    and chat events; ``raw`` keeps the whole payload."""

    seq: int
    type: str
    typename: str
    meeting_id: str
    at: str
    actor_id: str | None
    room_id: str | None
    participant: Participant | None = None
    message: ChatMessage | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> MeetingEvent:
        return cls(
            d["seq"],
            d["type"],
            d["__typename"],
            d["meetingId"],
            d["at"],
            _opt_str(d.get("actorId")),
            _opt_str(d.get("roomId")),
            Participant.from_json(d["participant"]) if d.get("participant") else None,
            ChatMessage.from_json(d["message"]) if d.get("message") else None,
            d,
        )


@dataclass(frozen=True)
class WebhookEndpoint:
    id: str
    url: str
    enabled: bool
    verified: bool
    """False until the endpoint echoed the challenge; events are queued until then."""
    event_types: list[str]
    secret: str | None = None
    """``whsec_…``: only in the answer to creation (and rotation); verify deliveries with it."""

    @classmethod
    def from_json(cls, d: dict[str, Any], secret: str | None = None) -> WebhookEndpoint:
        return cls(d["id"], d["url"], d["enabled"], d["verified"], list(d["eventTypes"]), secret)

"""The control feed between the API and its media edges: JSON text frames on the API's WebSocket
``/internal/edge/feed``.

Host actions that affect media (mute, remove, end) must bind the media plane even when a client misbehaves,
and the edge must never read the API's database (ARCHITECTURE.md). So each edge keeps one authenticated
socket to an API process (any one: with ``REDIS_URL`` every API process sees every meeting's events) and
*watches* the meetings it hosts. The API answers a ``watch`` with the meeting's ``mediaState`` and then sends
what changes; the edge sends back what only it can observe (the dominant speaker).

Edge → API                                   API → edge
- ``watch {meetingId}``                      - ``mediaState {meetingId, ended, audioBlocked[], removed[],
                                               recordingId, participants}``
- ``unwatch {meetingId}``                      (after ``watch``, and again whenever the API may have missed
- ``dominantSpeaker {meetingId,                 events: the edge replaces its state with it)
  participantId|null}``                      - ``participantMedia {meetingId, participantId, audioBlocked,
                                               removed}`` (one participant's facts changed)
                                             - ``recording {meetingId, recordingId|null}`` (capture on/off)
                                             - ``meetingSize {meetingId, participants}`` (admitted
                                               participants, on every edge: the large-meeting audio rule)
                                             - ``meetingEnded {meetingId}``
                                             - ``error {code, message}`` (a frame was refused; feed goes on)

The edge authenticates the upgrade with ``Authorization: Bearer <secret>`` (``EDGE_CONTROL_SECRET`` on the
edge, ``API_EDGE_SECRET`` on the API); a wrong or missing secret closes the socket with 4401.

Standard library only: the API and the edge both import this.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, ClassVar

FEED_PATH = "/internal/edge/feed"
UNAUTHENTICATED_CLOSE = 4401
"""Close code for a bad secret (the same number the signalling socket uses for a bad token)."""


class ControlMessageError(ValueError):
    """A frame is not a valid control message; the text says why and is safe to send back."""


@dataclass(frozen=True, slots=True)
class Watch:
    """Edge → API: start sending this meeting's media state (the edge has participants in it)."""

    TYPE: ClassVar[str] = "watch"
    meeting_id: str


@dataclass(frozen=True, slots=True)
class Unwatch:
    """Edge → API: stop (the edge's last participant in the meeting left)."""

    TYPE: ClassVar[str] = "unwatch"
    meeting_id: str


@dataclass(frozen=True, slots=True)
class DominantSpeaker:
    """Edge → API: who is the dominant speaker now (None: nobody speaks). Sent on change only."""

    TYPE: ClassVar[str] = "dominantSpeaker"
    meeting_id: str
    participant_id: str | None


@dataclass(frozen=True, slots=True)
class Caption:
    """Edge → API: a line of live captions, what ``participant_id`` just said (at most ``MAX_CAPTION_CHARS``)."""

    TYPE: ClassVar[str] = "caption"
    meeting_id: str
    participant_id: str
    text: str
    language: str = ""
    """ISO 639-1 code the line was decoded in ("" from an edge that does not say: unknown)."""


MAX_CAPTION_CHARS = 500
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})?")


@dataclass(frozen=True, slots=True)
class MediaState:
    """API → edge: everything the edge must enforce for a meeting, as of now. Replaces earlier state."""

    TYPE: ClassVar[str] = "mediaState"
    meeting_id: str
    ended: bool
    audio_blocked: tuple[str, ...]
    """Participants muted by a host: their audio must not be forwarded."""
    removed: tuple[str, ...]
    """Participants removed from the meeting (or back in its waiting room): disconnect them and refuse their
    join tokens."""
    recording_id: str | None = None
    """The recording capturing now (None: not recording, or paused): the edge writes tracks under its id."""
    participants: int = 0
    """Admitted participants in the whole meeting (on every edge)."""


@dataclass(frozen=True, slots=True)
class MeetingSize:
    """API → edge: the number of admitted participants in the whole meeting changed. A meeting spread over
    several edges is "large" (only its loudest speakers' audio is forwarded) by this count, not by how many
    participants one edge holds."""

    TYPE: ClassVar[str] = "meetingSize"
    meeting_id: str
    participants: int


@dataclass(frozen=True, slots=True)
class RecordingChanged:
    """API → edge: capture started, paused, resumed or stopped (``recording_id`` None: do not capture)."""

    TYPE: ClassVar[str] = "recording"
    meeting_id: str
    recording_id: str | None


@dataclass(frozen=True, slots=True)
class ParticipantMedia:
    """API → edge: what the edge enforces for one participant changed."""

    TYPE: ClassVar[str] = "participantMedia"
    meeting_id: str
    participant_id: str
    audio_blocked: bool
    """A host muted the participant: drop its audio until this turns false (it unmuted, when allowed)."""
    removed: bool
    """A host removed the participant: close its session and refuse its join tokens until it is admitted
    again (``removed`` false) - a removed participant's still-valid token must not get it back in."""


@dataclass(frozen=True, slots=True)
class MeetingEnded:
    """API → edge: the meeting ended for all; close every session in it."""

    TYPE: ClassVar[str] = "meetingEnded"
    meeting_id: str


@dataclass(frozen=True, slots=True)
class FeedError:
    """API → edge: a frame was refused (``code`` is a ``protocol.errors.ErrorCode`` value)."""

    TYPE: ClassVar[str] = "error"
    code: str
    message: str


EdgeToApi = Watch | Unwatch | DominantSpeaker | Caption
ApiToEdge = MediaState | ParticipantMedia | RecordingChanged | MeetingSize | MeetingEnded | FeedError
ControlMessage = EdgeToApi | ApiToEdge


def encode(msg: ControlMessage) -> str:
    match msg:
        case Watch(meeting_id=m) | Unwatch(meeting_id=m) | MeetingEnded(meeting_id=m):
            d: dict[str, Any] = {"type": msg.TYPE, "meetingId": m}
        case DominantSpeaker():
            d = {"type": msg.TYPE, "meetingId": msg.meeting_id, "participantId": msg.participant_id}
        case Caption():
            d = {"type": msg.TYPE, "meetingId": msg.meeting_id, "participantId": msg.participant_id, "text": msg.text}
            if msg.language:
                d["language"] = msg.language
        case MediaState():
            d = {
                "type": msg.TYPE,
                "meetingId": msg.meeting_id,
                "ended": msg.ended,
                "audioBlocked": list(msg.audio_blocked),
                "removed": list(msg.removed),
                "recordingId": msg.recording_id,
                "participants": msg.participants,
            }
        case MeetingSize():
            d = {"type": msg.TYPE, "meetingId": msg.meeting_id, "participants": msg.participants}
        case RecordingChanged():
            d = {"type": msg.TYPE, "meetingId": msg.meeting_id, "recordingId": msg.recording_id}
        case ParticipantMedia():
            d = {
                "type": msg.TYPE,
                "meetingId": msg.meeting_id,
                "participantId": msg.participant_id,
                "audioBlocked": msg.audio_blocked,
                "removed": msg.removed,
            }
        case FeedError():
            d = {"type": msg.TYPE, "code": msg.code, "message": msg.message}
    return json.dumps(d, separators=(",", ":"))


def _load(text: str | bytes) -> dict[str, Any]:
    try:
        obj = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ControlMessageError(f"frame is not JSON: {exc}") from None
    except RecursionError:
        raise ControlMessageError("frame is nested too deeply") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
        raise ControlMessageError("frame must be a JSON object with a string 'type'")
    return obj


def _str(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise ControlMessageError(f"{obj['type']}.{key} must be a non-empty string")
    return value


def _opt_str(obj: dict[str, Any], key: str) -> str | None:
    return None if obj.get(key) is None else _str(obj, key)


def _bool(obj: dict[str, Any], key: str) -> bool:
    value = obj.get(key)
    if not isinstance(value, bool):
        raise ControlMessageError(f"{obj['type']}.{key} must be true or false")
    return value


def _count(obj: dict[str, Any], key: str) -> int:
    value = obj.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ControlMessageError(f"{obj['type']}.{key} must be an integer >= 0")
    return value


def _strs(obj: dict[str, Any], key: str) -> tuple[str, ...]:
    value = obj.get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ControlMessageError(f"{obj['type']}.{key} must be a list of strings")
    return tuple(value)


def parse_edge_to_api(text: str | bytes) -> EdgeToApi:
    """Decode a frame an edge sent (what the API reads)."""
    obj = _load(text)
    kind = obj["type"]
    if kind == Watch.TYPE:
        return Watch(_str(obj, "meetingId"))
    if kind == Unwatch.TYPE:
        return Unwatch(_str(obj, "meetingId"))
    if kind == DominantSpeaker.TYPE:
        return DominantSpeaker(_str(obj, "meetingId"), _opt_str(obj, "participantId"))
    if kind == Caption.TYPE:
        text = _str(obj, "text")
        if len(text) > MAX_CAPTION_CHARS:
            raise ControlMessageError(f"caption.text must be at most {MAX_CAPTION_CHARS} characters")
        language = obj.get("language", "")
        if not isinstance(language, str) or (language and not _LANGUAGE.fullmatch(language)):
            raise ControlMessageError("caption.language must be an ISO 639 code such as 'en' or 'pt-br'")
        return Caption(_str(obj, "meetingId"), _str(obj, "participantId"), text, language)
    raise ControlMessageError(f"unknown message type {kind!r}")


def parse_api_to_edge(text: str | bytes) -> ApiToEdge:
    """Decode a frame the API sent (what the edge reads)."""
    obj = _load(text)
    kind = obj["type"]
    if kind == MediaState.TYPE:
        return MediaState(
            _str(obj, "meetingId"),
            _bool(obj, "ended"),
            _strs(obj, "audioBlocked"),
            _strs(obj, "removed"),
            _opt_str(obj, "recordingId"),
            _count(obj, "participants") if "participants" in obj else 0,
        )
    if kind == MeetingSize.TYPE:
        return MeetingSize(_str(obj, "meetingId"), _count(obj, "participants"))
    if kind == RecordingChanged.TYPE:
        return RecordingChanged(_str(obj, "meetingId"), _opt_str(obj, "recordingId"))
    if kind == ParticipantMedia.TYPE:
        return ParticipantMedia(
            _str(obj, "meetingId"), _str(obj, "participantId"), _bool(obj, "audioBlocked"), _bool(obj, "removed")
        )
    if kind == MeetingEnded.TYPE:
        return MeetingEnded(_str(obj, "meetingId"))
    if kind == FeedError.TYPE:
        return FeedError(_str(obj, "code"), _str(obj, "message"))
    raise ControlMessageError(f"unknown message type {kind!r}")

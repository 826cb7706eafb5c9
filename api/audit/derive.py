"""Which audit entry an event stands for: a pure function of the event, the row changes behind it and whether
its actor was in charge. No I/O, so every rule is tested without a database (tests/unit/api/test_audit_derive.py).

One API call is one transaction, and it may emit many events (ending a meeting: polls end, everyone leaves,
the recording stops, the meeting ends). Each derived entry has a ``category`` and a ``priority``: the audit hook
keeps one row per category and transaction, the highest-priority action's, and folds further targets of that
same action into ``details.targetIds`` (admit all → one ``participant.admitted`` row listing everyone admitted).
Recording events are their own category, so "end meeting" logs both ``meeting.ended`` and ``recording.stopped``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from api.db import Changes
from protocol.events import EventType, MeetingEvent

HOST_ACTION = "host"
RECORDING = "recording"


@dataclass(frozen=True, slots=True)
class Derived:
    category: str
    priority: int
    action: str
    target_kind: str | None = None
    target_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


_RECORDING = {
    EventType.RECORDING_STARTED: "recording.started",
    EventType.RECORDING_PAUSED: "recording.paused",
    EventType.RECORDING_RESUMED: "recording.resumed",
    EventType.RECORDING_STOPPED: "recording.stopped",
    EventType.RECORDING_UPDATED: "recording.renamed",
    EventType.RECORDING_DELETED: "recording.deleted",
}
_LOCAL_RECORDING = {
    EventType.LOCAL_RECORDING_STARTED: "recording.local_started",
    EventType.LOCAL_RECORDING_STOPPED: "recording.local_stopped",
}
_BREAKOUTS = {
    EventType.BREAKOUT_ROOMS_UPDATED: "breakouts.updated",
    EventType.BREAKOUT_ROOMS_OPENED: "breakouts.opened",
    EventType.BREAKOUT_ROOMS_CLOSING: "breakouts.closing",
    EventType.BREAKOUT_ROOMS_CLOSED: "breakouts.closed",
    EventType.BREAKOUT_BROADCAST: "breakouts.broadcast",
}
_POLLS = {
    EventType.POLL_CREATED: "poll.created",
    EventType.POLL_UPDATED: "poll.updated",
    EventType.POLL_DELETED: "poll.deleted",
    EventType.POLL_LAUNCHED: "poll.launched",
    EventType.POLL_ENDED: "poll.ended",
    EventType.POLL_RESULTS_SHARED: "poll.results_shared",
}
# Meeting columns with a name of their own when they are the only thing an action changed: (when true, when false).
_MEETING_FLAGS = {
    "locked": ("meeting.locked", "meeting.unlocked"),
    "waiting_room": ("meeting.waiting_room_enabled", "meeting.waiting_room_disabled"),
    "allow_self_unmute": ("meeting.self_unmute_allowed", "meeting.self_unmute_forbidden"),
}
_CHAT_SETTINGS = frozenset({"chat_policy", "private_chat"})
_BOOKKEEPING = frozenset({"updated_at", "event_seq"})


def _new(changes: dict[str, tuple[Any, Any]], key: str) -> Any:
    return changes[key][1]


def _participant_update(diff: dict[str, tuple[Any, Any]]) -> tuple[int, str] | None:
    if "role" in diff:
        old, new = diff["role"]
        if new == "host":
            return 90, "host.transferred"
        if old == "host":
            return None  # the other half of a transfer: the new host's change names it
        if new == "cohost":
            return 50, "participant.cohost_granted"
        if old == "cohost":
            return 50, "participant.cohost_revoked"
    if diff.get("muted_by_host", (None, False))[1] is True:
        return 40, "participant.muted"
    if diff.get("video_stopped_by_host", (None, False))[1] is True:
        return 40, "participant.video_stopped"
    if "display_name" in diff:
        return 40, "participant.renamed"
    if "hand_raised_at" in diff and diff["hand_raised_at"][1] is None:
        return 40, "participant.hand_lowered"
    if "breakout_room_id" in diff:
        return 20, "participant.moved"
    if "local_recording_granted" in diff:
        granted = diff["local_recording_granted"][1]
        return 40, "participant.local_recording_allowed" if granted else "participant.local_recording_disallowed"
    return None


def _meeting_update(diff: dict[str, tuple[Any, Any]]) -> tuple[str, dict[str, Any]]:
    fields = sorted(set(diff) - _BOOKKEEPING)
    if len(fields) == 1 and fields[0] in _MEETING_FLAGS:
        on, off = _MEETING_FLAGS[fields[0]]
        return (on if _new(diff, fields[0]) else off), {}
    if fields == ["spotlight_participant_id"]:
        pid = _new(diff, "spotlight_participant_id")
        return ("meeting.spotlight_set", {"participantId": pid}) if pid else ("meeting.spotlight_cleared", {})
    if fields and set(fields) <= _CHAT_SETTINGS:
        policy = diff.get("chat_policy", (None, None))[1]
        private = diff.get("private_chat", (None, None))[1]
        return "meeting.chat_policy_changed", {
            k: v for k, v in (("chatPolicy", policy), ("privateChat", private)) if v is not None
        }
    return "meeting.settings_updated", {"fields": fields}


def derive(ev: MeetingEvent, changes: Changes, *, in_charge: bool) -> Derived | None:
    """The audit entry ``ev`` stands for, or None. ``in_charge``: its actor was the host, a co-host or the owner
    (acting from outside the call) when the transaction began. Recording events are logged whoever caused them
    (auto-recording has no actor); everything else only when someone in charge did it to someone else."""
    if ev.type in _RECORDING:
        rid = (ev.data.get("recording") or {}).get("id")
        details = {"reason": ev.data["reason"]} if "reason" in ev.data else {}
        return Derived(RECORDING, 10, _RECORDING[ev.type], "recording", rid, details)
    if ev.type in _LOCAL_RECORDING:
        # Whoever records on their own device (or is stopped by the host): logged like cloud recordings.
        return Derived(RECORDING, 10, _LOCAL_RECORDING[ev.type], "participant", ev.subject_id)
    if not in_charge:
        return None
    others = ev.subject_id is not None and ev.subject_id != ev.actor_id
    participant_diff = changes.get(("participants", ev.subject_id), {}) if ev.subject_id else {}
    meeting_diff = changes.get(("meetings", ev.meeting_id), {})
    t = ev.type
    if t is EventType.MEETING_ENDED:
        cancelled = (ev.meeting or {}).get("status") == "cancelled" or meeting_diff.get("status", (0, 0))[
            1
        ] == "cancelled"
        return Derived(
            HOST_ACTION, 100, "meeting.cancelled" if cancelled else "meeting.ended", "meeting", ev.meeting_id
        )
    if t in _BREAKOUTS:
        return Derived(HOST_ACTION, 80, _BREAKOUTS[t], "meeting", ev.meeting_id)
    if t in _POLLS:
        poll = ev.data.get("poll") or {}
        return Derived(HOST_ACTION, 45, _POLLS[t], "poll", poll.get("id"))
    if t is EventType.PARTICIPANT_REMOVED and others:
        blocked = participant_diff.get("blocked", (None, None))[1]
        return Derived(HOST_ACTION, 60, "participant.removed", "participant", ev.subject_id, {"blocked": bool(blocked)})
    if t is EventType.PARTICIPANT_ADMITTED and others:
        return Derived(HOST_ACTION, 10, "participant.admitted", "participant", ev.subject_id)
    if t is EventType.PARTICIPANT_DENIED and others:
        return Derived(HOST_ACTION, 10, "participant.denied", "participant", ev.subject_id)
    if t is EventType.UNMUTE_REQUESTED and others:
        return Derived(HOST_ACTION, 40, "participant.unmute_requested", "participant", ev.subject_id)
    if t is EventType.PARTICIPANT_UPDATED and others:
        named = _participant_update(participant_diff)
        if named is None:
            if "role" in participant_diff:
                return None  # the demoted old host in a transfer
            # Nothing changed (muting someone muted already): still the host's action, under a generic name.
            named = (5, "participant.updated")
        return Derived(HOST_ACTION, named[0], named[1], "participant", ev.subject_id)
    if t is EventType.ALL_MUTED:
        ids = ev.data.get("participantIds") or []
        return Derived(HOST_ACTION, 40, "participants.muted_all", "meeting", ev.meeting_id, {"count": len(ids)})
    if t is EventType.HANDS_LOWERED:
        ids = ev.data.get("participantIds") or []
        return Derived(HOST_ACTION, 40, "participants.hands_lowered", "meeting", ev.meeting_id, {"count": len(ids)})
    if t is EventType.MEETING_UPDATED and meeting_diff:
        action, details = _meeting_update(meeting_diff)
        return Derived(HOST_ACTION, 30, action, "meeting", ev.meeting_id, details)
    return None

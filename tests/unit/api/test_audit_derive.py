"""The pure rules that name audit entries after events (api/audit/derive.py), without a database."""

from __future__ import annotations

from typing import Any

import pytest

from api.audit.derive import HOST_ACTION, RECORDING, derive
from api.db import Changes
from protocol.events import Audience, EventType, MeetingEvent

M, HOST, P = "m1", "p-host", "p-target"


def ev(type: EventType, *, actor: str | None = HOST, subject: str | None = P, **kw: Any) -> MeetingEvent:
    return MeetingEvent(
        meeting_id=M, seq=1, type=type, audience=Audience.ALL, at=0.0, subject_id=subject, actor_id=actor, **kw
    )


def p_changes(**diff: tuple[Any, Any]) -> Changes:
    return {("participants", P): dict(diff)}


def m_changes(**diff: tuple[Any, Any]) -> Changes:
    return {("meetings", M): dict(diff)}


@pytest.mark.parametrize(
    ("diff", "action"),
    [
        ({"role": ("participant", "host")}, "host.transferred"),
        ({"role": ("participant", "cohost")}, "participant.cohost_granted"),
        ({"role": ("cohost", "participant")}, "participant.cohost_revoked"),
        ({"role": ("cohost", "guest")}, "participant.cohost_revoked"),
        ({"audio_muted": (False, True), "muted_by_host": (False, True)}, "participant.muted"),
        ({"video_on": (True, False), "video_stopped_by_host": (False, True)}, "participant.video_stopped"),
        ({"display_name": ("A", "B")}, "participant.renamed"),
        ({"hand_raised_at": ("t", None)}, "participant.hand_lowered"),
        ({"breakout_room_id": (None, "r1")}, "participant.moved"),
        ({"local_recording_granted": (False, True)}, "participant.local_recording_allowed"),
        (
            {"local_recording_granted": (True, False), "recording_locally": (True, False)},
            "participant.local_recording_disallowed",
        ),
        ({}, "participant.updated"),
    ],
)
def test_participant_updates_are_named_by_what_changed(diff: dict[str, Any], action: str) -> None:
    d = derive(ev(EventType.PARTICIPANT_UPDATED), p_changes(**diff), in_charge=True)
    assert d is not None and (d.category, d.action, d.target_kind, d.target_id) == (
        HOST_ACTION,
        action,
        "participant",
        P,
    )


def test_the_demoted_old_host_is_not_an_entry_of_its_own() -> None:
    assert derive(ev(EventType.PARTICIPANT_UPDATED), p_changes(role=("host", "participant")), in_charge=True) is None


@pytest.mark.parametrize(
    "type",
    [EventType.PARTICIPANT_UPDATED, EventType.PARTICIPANT_REMOVED, EventType.MEETING_UPDATED, EventType.ALL_MUTED],
)
def test_nothing_is_logged_for_people_not_in_charge(type: EventType) -> None:
    assert (
        derive(ev(type), {**p_changes(muted_by_host=(False, True)), **m_changes(locked=(False, True))}, in_charge=False)
        is None
    )


@pytest.mark.parametrize(
    "type", [EventType.PARTICIPANT_UPDATED, EventType.PARTICIPANT_ADMITTED, EventType.PARTICIPANT_REMOVED]
)
def test_acting_on_oneself_is_not_a_host_action(type: EventType) -> None:
    assert derive(ev(type, actor=P, subject=P), p_changes(display_name=("a", "b")), in_charge=True) is None


@pytest.mark.parametrize(
    ("diff", "action", "details"),
    [
        ({"locked": (False, True)}, "meeting.locked", {}),
        ({"locked": (True, False)}, "meeting.unlocked", {}),
        ({"waiting_room": (False, True)}, "meeting.waiting_room_enabled", {}),
        ({"waiting_room": (True, False)}, "meeting.waiting_room_disabled", {}),
        ({"allow_self_unmute": (True, False)}, "meeting.self_unmute_forbidden", {}),
        ({"allow_self_unmute": (False, True)}, "meeting.self_unmute_allowed", {}),
        ({"spotlight_participant_id": (None, P)}, "meeting.spotlight_set", {"participantId": P}),
        ({"spotlight_participant_id": (P, None)}, "meeting.spotlight_cleared", {}),
        ({"chat_policy": ("everyone", "no_one")}, "meeting.chat_policy_changed", {"chatPolicy": "no_one"}),
        ({"private_chat": (True, False)}, "meeting.chat_policy_changed", {"privateChat": False}),
        ({"title": ("a", "b"), "updated_at": (1, 2)}, "meeting.settings_updated", {"fields": ["title"]}),
        # Two flags at once (an updateMeeting): no single flag's name fits, the generic one lists them.
        (
            {"locked": (False, True), "waiting_room": (False, True)},
            "meeting.settings_updated",
            {"fields": ["locked", "waiting_room"]},
        ),
    ],
)
def test_meeting_updates(diff: dict[str, Any], action: str, details: dict[str, Any]) -> None:
    d = derive(ev(EventType.MEETING_UPDATED, subject=None), m_changes(**diff), in_charge=True)
    assert d is not None and (d.action, d.details) == (action, details)


def test_an_update_that_changed_nothing_of_the_meeting_is_not_logged() -> None:
    assert derive(ev(EventType.MEETING_UPDATED, subject=None), {}, in_charge=True) is None


def test_ending_outranks_everything_it_sets_off() -> None:
    end = derive(ev(EventType.MEETING_ENDED, subject=None, meeting={"status": "ended"}), {}, in_charge=True)
    cancel = derive(ev(EventType.MEETING_ENDED, subject=None, meeting={"status": "cancelled"}), {}, in_charge=True)
    poll = derive(ev(EventType.POLL_ENDED, subject=None, data={"poll": {"id": "q"}}), {}, in_charge=True)
    removed = derive(ev(EventType.PARTICIPANT_REMOVED), {}, in_charge=True)
    assert end is not None and cancel is not None and poll is not None and removed is not None
    assert (end.action, cancel.action, poll.action) == ("meeting.ended", "meeting.cancelled", "poll.ended")
    assert end.priority > removed.priority > poll.priority


@pytest.mark.parametrize("in_charge", [True, False])
def test_recording_events_are_logged_whoever_caused_them(in_charge: bool) -> None:
    d = derive(
        ev(EventType.RECORDING_STARTED, actor=None, subject=None, data={"recording": {"id": "r1"}}),
        {},
        in_charge=in_charge,
    )
    assert d is not None and (d.category, d.action, d.target_id) == (RECORDING, "recording.started", "r1")


@pytest.mark.parametrize("in_charge", [True, False])
@pytest.mark.parametrize(
    ("type", "action"),
    [
        (EventType.LOCAL_RECORDING_STARTED, "recording.local_started"),
        (EventType.LOCAL_RECORDING_STOPPED, "recording.local_stopped"),
    ],
)
def test_local_recordings_are_logged_whoever_records(in_charge: bool, type: EventType, action: str) -> None:
    d = derive(ev(type, actor=P, subject=P), p_changes(recording_locally=(False, True)), in_charge=in_charge)
    assert d is not None and (d.category, d.action, d.target_kind, d.target_id) == (RECORDING, action, "participant", P)


@pytest.mark.parametrize(
    "type",
    [
        EventType.RECORDING_PROCESSING,
        EventType.RECORDING_READY,
        EventType.CHAT_MESSAGE_SENT,
        EventType.REACTION_SENT,
        EventType.ACTIVE_SPEAKER_CHANGED,
        EventType.CAPTION,
        EventType.POLL_VOTES_UPDATED,
        EventType.MEETING_STARTED,
        EventType.PARTICIPANT_LEFT,
        EventType.BREAKOUT_HELP_REQUESTED,
    ],
)
def test_events_that_are_no_host_action(type: EventType) -> None:
    assert derive(ev(type, data={"recording": {"id": "r"}}), p_changes(state=("a", "b")), in_charge=True) is None

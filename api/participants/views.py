"""Snapshots carried in events (JSON-able dicts). GraphQL types are built from the same dicts, so what a
subscriber is sent and what a fresh query returns cannot drift apart."""

from __future__ import annotations

from typing import Any

from dbschema.models import Meeting, Participant


def participant_snapshot(p: Participant) -> dict[str, Any]:
    return {
        "id": p.id,
        "meetingId": p.meeting_id,
        "userId": p.user_id,
        "displayName": p.display_name,
        "role": p.role,
        "state": p.state,
        "waitingReason": p.waiting_reason,
        "audioMuted": p.audio_muted,
        "mutedByHost": p.muted_by_host,
        "videoOn": p.video_on,
        "sharing": p.sharing,
        "handRaisedAt": p.hand_raised_at.timestamp() if p.hand_raised_at else None,
        "joinedAt": p.joined_at.timestamp() if p.joined_at else None,
        "breakoutRoomId": p.breakout_room_id,
        "localRecordingGranted": p.local_recording_granted,
        "recordingLocally": p.recording_locally,
    }


def meeting_snapshot(m: Meeting) -> dict[str, Any]:
    return {
        "id": m.id,
        "status": m.status,
        "title": m.title,
        "locked": m.locked,
        "waitingRoom": m.waiting_room,
        "allowSelfUnmute": m.allow_self_unmute,
        "muteOnEntry": m.mute_on_entry,
        "hostOnlyScreenShare": m.host_only_screen_share,
        "spotlightParticipantId": m.spotlight_participant_id,
        "maxParticipants": m.max_participants,
        "chatPolicy": m.chat_policy,
        "privateChat": m.private_chat,
        "guestWaitingRoom": m.guest_waiting_room,
        "allowLocalRecording": m.allow_local_recording,
    }

"""GraphQL types of meeting analytics."""

from __future__ import annotations

from datetime import datetime

import strawberry

from api.analytics.service import MeetingStats


@strawberry.type(description="One participant's share of the meeting.")
class ParticipantAnalytics:
    participant_id: strawberry.ID
    display_name: str
    talk_seconds: float = strawberry.field(description="Time as the dominant speaker (the media edge's view).")
    chat_messages: int
    polls_voted: int
    present_seconds: float = strawberry.field(description="Time admitted, summed over every stay.")
    first_joined_at: datetime | None
    last_left_at: datetime | None


@strawberry.type(description="How many voted in a launched poll, of everyone ever admitted.")
class PollParticipation:
    poll_id: strawberry.ID
    question: str
    voters: int
    eligible: int


@strawberry.type(description="One join/leave transition.")
class TimelineEntry:
    participant_id: strawberry.ID
    display_name: str
    state: str = strawberry.field(description="admitted, waiting, left, denied or removed")
    at: datetime


@strawberry.type
class RecordingViews:
    recording_id: strawberry.ID
    title: str
    views: int


@strawberry.type(description="A meeting's analytics (host and co-hosts; after the meeting, its owner).")
class MeetingAnalytics:
    meeting_id: strawberry.ID
    duration_seconds: float
    speaker_count: int = strawberry.field(description="Participants who were ever the dominant speaker.")
    chat_messages: int = strawberry.field(description="Messages sent and not deleted (public and private).")
    reactions: int = strawberry.field(description="Emoji on chat messages plus in-meeting reactions.")
    participants: list[ParticipantAnalytics] = strawberry.field(description="Most talk time first.")
    polls: list[PollParticipation]
    timeline: list[TimelineEntry]
    recordings: list[RecordingViews]

    @classmethod
    def of(cls, s: MeetingStats) -> MeetingAnalytics:
        return cls(
            meeting_id=strawberry.ID(s.meeting_id),
            duration_seconds=round(s.duration_seconds, 3),
            speaker_count=s.speaker_count,
            chat_messages=s.chat_messages,
            reactions=s.reactions,
            participants=[
                ParticipantAnalytics(
                    participant_id=strawberry.ID(p.participant_id),
                    display_name=p.display_name,
                    talk_seconds=round(p.talk_seconds, 3),
                    chat_messages=p.chat_messages,
                    polls_voted=p.polls_voted,
                    present_seconds=round(p.present_seconds, 3),
                    first_joined_at=p.first_joined_at,
                    last_left_at=p.last_left_at,
                )
                for p in s.participants
            ],
            polls=[
                PollParticipation(
                    poll_id=strawberry.ID(p.poll_id), question=p.question, voters=p.voters, eligible=p.eligible
                )
                for p in s.polls
            ],
            timeline=[
                TimelineEntry(participant_id=strawberry.ID(pid), display_name=name, state=state, at=at)
                for pid, name, state, at in s.timeline
            ],
            recordings=[
                RecordingViews(recording_id=strawberry.ID(rid), title=title, views=views)
                for rid, title, views in s.recordings
            ],
        )

"""GraphQL entry points of api/recordings (merged into the schema by `api.graphql.schema`)."""

from __future__ import annotations

import strawberry

from api.chat.types import HighlightSegment
from api.graphql.context import ctx
from api.recordings import service, transcripts
from api.recordings.types import Recording, RecordingShareLink, TranscriptLine, TranscriptSearchHit


@strawberry.type
class RecordingQuery:
    @strawberry.field(
        description="The meeting's recordings, oldest first: the main room's and each breakout room's "
        "(`breakoutRoom`), for anyone who may read the meeting."
    )
    async def recordings(self, info: strawberry.Info, meeting_id: strawberry.ID) -> list[Recording]:
        c = ctx(info)
        return [Recording.of(r) for r in await service.list_for(c.services, c.principal, meeting_id)]

    @strawberry.field(description="One recording.")
    async def recording(self, info: strawberry.Info, id: strawberry.ID) -> Recording:
        c = ctx(info)
        return Recording.of(await service.get(c.services, c.principal, id))

    @strawberry.field(
        description="The recording behind a share link (no sign-in needed). BAD_PASSCODE when the link needs a "
        "passcode and it is missing or wrong; RATE_LIMITED after 5 wrong ones in 5 minutes; FORBIDDEN once expired."
    )
    async def shared_recording(
        self, info: strawberry.Info, share_id: strawberry.ID, passcode: str | None = None
    ) -> Recording:
        shared = Recording.of(await service.open_share(ctx(info).services, share_id, passcode, ctx(info).client_key))
        shared.via_share = True
        return shared

    @strawberry.field(
        description="Full-text search over recording transcripts: one meeting's, or every meeting you may read. "
        "Words must all match; `word*` matches a prefix."
    )
    async def search_transcripts(
        self, info: strawberry.Info, query: str, meeting_id: strawberry.ID | None = None, first: int = 20
    ) -> list[TranscriptSearchHit]:
        c = ctx(info)
        hits = await transcripts.search_transcripts(c.services, c.principal, query, meeting_id=meeting_id, first=first)
        return [
            TranscriptSearchHit(
                recording_id=strawberry.ID(h.segment.recording_id),
                meeting_id=strawberry.ID(h.segment.meeting_id),
                meeting_title=h.meeting_title,
                line=TranscriptLine.of(h.segment),
                rank=h.rank,
                highlight=[HighlightSegment.from_segment(x) for x in h.highlight],
            )
            for h in hits
        ]


@strawberry.type
class RecordingMutation:
    @strawberry.mutation(description="Start cloud recording (host and co-hosts; the meeting must be live).")
    async def start_recording(self, info: strawberry.Info, meeting_id: strawberry.ID) -> Recording:
        c = ctx(info)
        return Recording.of(await service.start(c.services, c.principal, meeting_id))

    @strawberry.mutation(description="Pause the meeting's recording (host and co-hosts).")
    async def pause_recording(self, info: strawberry.Info, meeting_id: strawberry.ID) -> Recording:
        c = ctx(info)
        return Recording.of(await service.pause(c.services, c.principal, meeting_id))

    @strawberry.mutation(description="Resume a paused recording (host and co-hosts).")
    async def resume_recording(self, info: strawberry.Info, meeting_id: strawberry.ID) -> Recording:
        c = ctx(info)
        return Recording.of(await service.resume(c.services, c.principal, meeting_id))

    @strawberry.mutation(description="Stop the meeting's recording (host and co-hosts). Ending the meeting does too.")
    async def stop_recording(self, info: strawberry.Info, meeting_id: strawberry.ID) -> Recording:
        c = ctx(info)
        return Recording.of(await service.stop(c.services, c.principal, meeting_id))

    @strawberry.mutation(description="Rename a recording (host and co-hosts; after the meeting, its owner).")
    async def rename_recording(self, info: strawberry.Info, id: strawberry.ID, title: str) -> Recording:
        c = ctx(info)
        return Recording.of(await service.rename(c.services, c.principal, id, title))

    @strawberry.mutation(description="Delete a stopped recording and its files; returns its id.")
    async def delete_recording(self, info: strawberry.Info, id: strawberry.ID) -> strawberry.ID:
        c = ctx(info)
        return strawberry.ID(await service.delete(c.services, c.principal, id))

    @strawberry.mutation(
        description="Make a share link (host and co-hosts): valid for `expiresInHours` (1..8760), optionally "
        "behind a passcode."
    )
    async def share_recording(
        self, info: strawberry.Info, id: strawberry.ID, expires_in_hours: int = 168, passcode: str | None = None
    ) -> RecordingShareLink:
        c = ctx(info)
        link = await service.share(c.services, c.principal, id, expires_in_hours=expires_in_hours, passcode=passcode)
        return RecordingShareLink(
            id=strawberry.ID(link.id),
            recording_id=strawberry.ID(link.recording_id),
            url=link.url,
            expires_at=link.expires_at,
            passcode_protected=link.passcode_protected,
        )


QUERIES = [RecordingQuery]
MUTATIONS = [RecordingMutation]
SUBSCRIPTIONS: list[type] = []

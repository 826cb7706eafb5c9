"""/api/v1 recordings and transcripts: thin over api/recordings (the rules live there).

VTT and SRT are the files the transcription job wrote beside the recording (workers/captions.py): served as they
are, after the same access check as the JSON transcript."""

from __future__ import annotations

from typing import Any

import anyio
from litestar import Controller, Request, Response, delete, get, post
from litestar.params import Parameter

from api.errors import NotFoundError
from api.recordings import service, transcripts
from api.recordings.media import MEDIA
from api.rest import idempotency
from api.rest.auth import caller, owner, services
from api.rest.errors import BODY, COMMON, CONFLICT
from api.rest.meetings import IDEMPOTENCY_KEY
from api.rest.models import (
    DownloadLink,
    DownloadLinks,
    RecordingOut,
    RecordingPage,
    ShareCreate,
    ShareOut,
    Transcript,
    TranscriptLineOut,
    page,
)


class MeetingRecordingsController(Controller):
    path = "/meetings/{meeting_id:str}/recordings"
    tags = ["recordings"]

    @get("/", summary="A meeting's recordings, oldest first", responses=COMMON, operation_id="listRecordings")
    async def list_recordings(
        self,
        request: Request[Any, Any, Any],
        meeting_id: str,
        first: int = Parameter(default=50, ge=1, le=500),
        after: str | None = Parameter(default=None, max_length=200),
    ) -> RecordingPage:
        principal = await caller(request, "recordings:read")
        rows = await service.list_for(services(request), principal, meeting_id)
        chunk, cursor = page(rows, lambda r: r.id, first, after)
        return RecordingPage(items=[RecordingOut.of(r) for r in chunk], next_cursor=cursor)


class RecordingsController(Controller):
    path = "/recordings/{recording_id:str}"
    tags = ["recordings"]

    @get("/", summary="One recording", responses=COMMON, operation_id="getRecording")
    async def get_recording(self, request: Request[Any, Any, Any], recording_id: str) -> RecordingOut:
        principal = await caller(request, "recordings:read")
        return RecordingOut.of(await service.get(services(request), principal, recording_id))

    @get(
        "/downloads",
        summary="Signed, short-lived links to the recording's files",
        responses=COMMON,
        operation_id="getRecordingDownloads",
    )
    async def downloads(self, request: Request[Any, Any, Any], recording_id: str) -> DownloadLinks:
        principal = await caller(request, "recordings:read")
        svc = services(request)
        await service.get(svc, principal, recording_id)  # NOT_FOUND / FORBIDDEN
        return DownloadLinks(items=[DownloadLink.of(link) for link in service.media_links(svc, recording_id)])

    @delete(
        "/",
        summary="Delete a recording and its files (host and co-hosts)",
        responses={**COMMON, **CONFLICT},
        status_code=204,
        operation_id="deleteRecording",
    )
    async def delete_recording(self, request: Request[Any, Any, Any], recording_id: str) -> None:
        principal = await caller(request, "recordings:write")
        await service.delete(services(request), principal, recording_id)

    @post(
        "/shares",
        summary="A link that lets anyone holding it watch until it expires",
        responses={**COMMON, **CONFLICT, **BODY},
        status_code=201,
        operation_id="shareRecording",
    )
    async def share(
        self,
        request: Request[Any, Any, Any],
        recording_id: str,
        data: ShareCreate,
        idempotency_key: str | None = IDEMPOTENCY_KEY,
    ) -> Response[ShareOut]:
        principal = await caller(request, "recordings:write")
        svc = services(request)

        async def create() -> tuple[int, ShareOut]:
            link = await service.share(
                svc, principal, recording_id, expires_in_hours=data.expires_in_hours, passcode=data.passcode
            )
            return 201, ShareOut.of(link)

        body = {"recording": recording_id, "body": await request.json()}
        return await idempotency.once(svc, owner(principal), idempotency_key, body, create)

    @get(
        "/transcript",
        summary="The transcript, in time order (empty until transcription ran)",
        responses=COMMON,
        operation_id="getTranscript",
    )
    async def transcript(self, request: Request[Any, Any, Any], recording_id: str) -> Transcript:
        principal = await caller(request, "recordings:read")
        rows = await transcripts.read(services(request), principal, recording_id)
        return Transcript(recording_id=recording_id, lines=[TranscriptLineOut.of(s) for s in rows])

    async def _file(self, request: Request[Any, Any, Any], recording_id: str, name: str) -> Response[bytes]:
        principal = await caller(request, "recordings:read")
        svc = services(request)
        await service.get(svc, principal, recording_id)  # NOT_FOUND / FORBIDDEN
        try:
            content = await anyio.Path(service.recording_dir(svc, recording_id) / name).read_bytes()
        except OSError:
            raise NotFoundError(f"recording {recording_id} has no transcript yet") from None
        return Response(content, media_type=MEDIA[name])

    @get(
        "/transcript/vtt",
        summary="The transcript as WebVTT captions",
        media_type=MEDIA["captions.vtt"],
        responses=COMMON,
        operation_id="getTranscriptVtt",
    )
    async def transcript_vtt(self, request: Request[Any, Any, Any], recording_id: str) -> Response[bytes]:
        return await self._file(request, recording_id, "captions.vtt")

    @get(
        "/transcript/srt",
        summary="The transcript as SubRip",
        media_type=MEDIA["transcript.srt"],
        responses=COMMON,
        operation_id="getTranscriptSrt",
    )
    async def transcript_srt(self, request: Request[Any, Any, Any], recording_id: str) -> Response[bytes]:
        return await self._file(request, recording_id, "transcript.srt")

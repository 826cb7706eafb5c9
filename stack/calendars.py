"""The API's calendar providers (``protocol.calendars.CalendarProvider``), named by ``API_CALENDAR_PROVIDER``:

- :class:`EmbeddedCalDAV` (the default): the ``sync_calendar`` job function in the API's own process (async httpx:
  the event loop is never blocked; the API's sync loop runs it in the background, never in a request except the
  one PROPFIND that checks a new connection);
- :class:`ArqCalDAV`: each request is an arq job on the queue ``python -m workers`` serves, its result awaited.
  The job's arguments hold the calendar password while the job is queued and while arq keeps its result
  (``keep_result``, an hour by default): use it only where Redis is as trusted as the database's key.
"""

from __future__ import annotations

import uuid

from arq import ArqRedis, create_pool
from arq.connections import RedisSettings

from protocol.calendars import CalendarProblem, CalendarRequest, CalendarResult
from protocol.jobs import SYNC_CALENDAR
from workers.caldav import run
from workers.config import WorkerConfig
from workers.webhooks import new_client


class EmbeddedCalDAV:
    def __init__(self) -> None:
        self._client = new_client()

    async def call(self, req: CalendarRequest) -> CalendarResult:
        return await run(req, self._client)

    async def aclose(self) -> None:
        await self._client.aclose()


class ArqCalDAV:
    def __init__(self, config: WorkerConfig | None = None) -> None:
        self.config = config or WorkerConfig.from_env()
        self._pool: ArqRedis | None = None

    async def call(self, req: CalendarRequest) -> CalendarResult:
        if self._pool is None:
            self._pool = await create_pool(
                RedisSettings.from_dsn(self.config.redis_url), default_queue_name=self.config.queue_name
            )
        job_id = f"{self.config.queue_name}:calendar:{uuid.uuid4().hex}"
        job = await self._pool.enqueue_job(SYNC_CALENDAR, req.to_dict(), _job_id=job_id)
        if job is None:
            return CalendarResult(CalendarProblem.UNREACHABLE, "the job queue refused the request")
        wait_s = 2 * req.timeout_s + 30.0
        try:
            result = await job.result(timeout=wait_s, poll_delay=0.05)
        except TimeoutError:
            return CalendarResult(CalendarProblem.UNREACHABLE, "no worker ran the calendar request in time")
        except Exception as exc:  # the job crashed (sync_calendar reports server failures as results)
            return CalendarResult(CalendarProblem.SERVER, f"the calendar job failed: {type(exc).__name__}"[:300])
        return CalendarResult.from_dict(result)

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None

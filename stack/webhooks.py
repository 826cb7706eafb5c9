"""The API's webhook senders (``api.webhooks.dispatch.Sender``), named by ``API_WEBHOOK_SENDER``:

- :class:`EmbeddedSender` (the default): the ``deliver_webhook`` job function in the API's own process (async
  httpx: no thread, no blocking of the event loop);
- :class:`ArqSender`: each attempt is an arq job on the queue ``python -m workers`` serves (``REDIS_URL``,
  ``WORKER_QUEUE``), its result awaited. The outbox stays in the API's database either way: a worker that dies
  mid-attempt costs one attempt, retried after the claim's lease runs out.

Here because this is where the parts are put together: ``api`` names a sender only by its import path.
"""

from __future__ import annotations

import uuid

from arq import ArqRedis, create_pool
from arq.connections import RedisSettings

from protocol.jobs import DELIVER_WEBHOOK
from protocol.webhooks import SendRequest, SendResult
from workers.config import WorkerConfig
from workers.webhooks import new_client, send


class EmbeddedSender:
    def __init__(self) -> None:
        self._client = new_client()

    async def send(self, req: SendRequest) -> SendResult:
        return await send(req, self._client)

    async def aclose(self) -> None:
        await self._client.aclose()


class ArqSender:
    def __init__(self, config: WorkerConfig | None = None) -> None:
        self.config = config or WorkerConfig.from_env()
        self._pool: ArqRedis | None = None

    async def _redis(self) -> ArqRedis:
        if self._pool is None:
            self._pool = await create_pool(
                RedisSettings.from_dsn(self.config.redis_url), default_queue_name=self.config.queue_name
            )
        return self._pool

    async def send(self, req: SendRequest) -> SendResult:
        redis = await self._redis()
        # Named after the queue, so one deployment's (or test's) job keys can be found and removed together.
        job_id = f"{self.config.queue_name}:webhook:{uuid.uuid4().hex}"
        job = await redis.enqueue_job(DELIVER_WEBHOOK, req.to_dict(), _job_id=job_id)
        if job is None:  # cannot happen without a _job_id; treat as a failed attempt rather than hang
            return SendResult(None, 0.0, error="the job queue refused the attempt")
        # The job bounds itself (connect + read timeouts); a worker that never picks it up is an attempt failed.
        wait_s = req.connect_timeout_s + req.read_timeout_s + 30.0
        try:
            result = await job.result(timeout=wait_s, poll_delay=0.05)
        except TimeoutError:
            return SendResult(None, wait_s * 1000, error="no worker ran the attempt in time")
        except Exception as exc:  # the job itself crashed (deliver_webhook reports HTTP failures as results)
            return SendResult(None, 0.0, error=f"the attempt's job failed: {type(exc).__name__}: {exc}"[:300])
        return SendResult.from_dict(result)

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None

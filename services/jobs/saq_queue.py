"""The production job queue: saq on Redis. The API process enqueues; ``worker.py`` runs them.

Verified on saq 0.26 (saq/job.py, saq/worker.py, saq/queue/redis.py):
- ``Job.retries`` counts attempts, not re-tries: the worker increments ``attempts`` before
  running and retries while ``retries > attempts``. ``retries=3`` means three attempts; the
  default of 1 means no retry at all.
- ``retry_backoff=True`` waits ``random() * retry_delay * 2 ** (attempts - 1)``: exponential
  with full jitter, so any single wait may be shorter than ``retry_delay``.
- A retry with a delay is parked in a sorted set and moved back to the queue by the worker's
  ``schedule`` poll (every ``timers["schedule"]`` seconds, an integer, default 1), so delays
  have about one second of granularity.
- ``Queue.enqueue(name, **kwargs)`` treats any kwarg named like a Job field (``key``,
  ``timeout``, ``ttl``, ``meta``, ...) as a job option: we enqueue a ``Job`` object instead.
- The worker logs a failing job with ``logger.exception("Error processing job %s", job)``,
  whose repr includes the full kwargs (message bodies with tokens): ``RedactJobArguments``
  rewrites those records. It logs one (with its stack) for every failed attempt, so they go
  through the repeat throttle too (core/faults.py), as our own lines do.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError
from saq import Job
from saq.queue.redis import RedisQueue

from core import tracing
from core.faults import LibraryRepeats, dependency_failed
from services.jobs.base import DEFAULT_QUEUE_NAME, TRACE_META_KEY, JobQueue, JobRegistry

logger = logging.getLogger("agora.jobs")


class RedactJobArguments(logging.Filter):
    """On saq's loggers: a ``Job`` passed as a log argument is shown without its kwargs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, Job) for a in record.args):
            record.args = tuple(
                a.info(full=False) if isinstance(a, Job) else a for a in record.args
            )
        return True


SAQ_JOB_ERROR = "Error processing job %s"


def install_saq_log_filters() -> None:
    saq_logger = logging.getLogger("saq")  # saq's worker and queues all log here
    if not any(isinstance(f, RedactJobArguments) for f in saq_logger.filters):
        saq_logger.addFilter(RedactJobArguments())
    if not any(isinstance(f, LibraryRepeats) for f in saq_logger.filters):
        saq_logger.addFilter(LibraryRepeats("jobs", message=SAQ_JOB_ERROR, up_to=logging.ERROR))


class SaqJobQueue:
    """Enqueues saq jobs with the attempts, backoff and timeout from the settings.

    When Redis cannot take a job and a ``fallback`` queue is given (``build_job_queue``
    passes the in-process one), the job runs there instead and a warning is logged: a Redis
    outage must not fail the request that queued an email, nor lose the email.
    """

    def __init__(
        self,
        redis_url: str,
        *,
        registry: JobRegistry,
        queue_name: str = DEFAULT_QUEUE_NAME,
        max_attempts: int = 3,
        retry_delay: float = 5.0,
        timeout_seconds: int = 60,
        fallback: JobQueue | None = None,
        connect_timeout: float = 2.0,
    ) -> None:
        self.registry = registry
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay
        self.timeout_seconds = timeout_seconds
        self.fallback = fallback
        # Our own client rather than Queue.from_url, which cannot pass timeouts: a request
        # must not hang on an unreachable Redis. This client never blocks on BLMOVE (only
        # the worker dequeues), so a socket timeout is safe here.
        client = Redis.from_url(
            redis_url, socket_connect_timeout=connect_timeout, socket_timeout=connect_timeout
        )
        self.queue = RedisQueue(client, name=queue_name)
        install_saq_log_filters()

    async def start(self) -> None:
        await self.queue.connect()
        if self.fallback is not None:
            await self.fallback.start()
        try:
            await self.queue.version()  # one INFO round trip, typed (ping is not)
        except (RedisError, OSError) as exc:
            logger.warning(
                "job queue: Redis is not reachable yet (%s); jobs run in-process until it is",
                exc,
                extra={"queue": self.queue.name},
            )

    async def close(self) -> None:
        try:
            if self.fallback is not None:
                await self.fallback.close()
        finally:
            try:
                await self.queue.disconnect()
            except (RedisError, OSError) as exc:
                # saq's disconnect() first PUNSUBSCRIBEs its pub/sub, which needs a live
                # connection: with Redis down, only close our client.
                logger.warning("job queue: Redis unreachable at close (%s)", exc)
                await self.queue.redis.aclose()

    async def enqueue(self, name: str, **kwargs: Any) -> str:
        definition = self.registry.get(name)
        job = Job(
            function=name,
            kwargs=kwargs,
            key=uuid.uuid4().hex,
            retries=self.max_attempts,
            retry_delay=self.retry_delay,
            retry_backoff=True,
            timeout=self.timeout_seconds,
            meta={TRACE_META_KEY: trace_headers} if (trace_headers := tracing.carrier()) else {},
        )
        try:
            await self.queue.enqueue(job)
        except (RedisError, OSError) as exc:
            if self.fallback is None:
                raise
            dependency_failed(
                logger,
                "redis",
                "enqueue",
                "job %s: Redis unavailable (%s), running it in-process",
                name,
                exc,
                extra={"jobName": name, "jobArgs": definition.safe_kwargs(kwargs)},
            )
            return await self.fallback.enqueue(name, **kwargs)
        return job.key

    async def job(self, job_id: str) -> Job | None:
        """The stored saq job (status, attempts, error) while Redis keeps it (ttl 600 s)."""
        return await self.queue.job(job_id)

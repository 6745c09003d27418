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
  through the repeat throttle too (core/faults.py), as our own lines do. So do its upkeep
  tasks' failures ("Upkeep task failed unexpectedly", every second while Redis is down).
- ``Worker.process`` swallows an exception raised by ``dequeue`` without a log line and
  starts the next dequeue at once: with Redis down, ``concurrency`` tasks failing in a
  tight loop. ``WorkerQueue.dequeue`` logs the fault and waits before the next attempt.
- ``Worker(dequeue_timeout=0)`` (the default) dequeues with ``BLMOVE … 0``, which blocks
  until a job comes: no socket timeout can bound that. The worker dequeues with a timeout
  of ``DEQUEUE_WAIT_SECONDS``, its client's socket timeout a little longer.
- SWEEP_RACE: the sweep (at the worker's start, then every ``timers["sweep"]`` = 60 s)
  retries every job in the active list whose status is not ACTIVE, and a job is in that
  list from its BLMOVE until ``process`` saved it as ACTIVE two round trips later: a job
  dequeued while the sweep runs is run twice (seen at start, with a job already queued).
  ``run_worker`` sweeps once before the worker dequeues anything.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from redis.exceptions import RedisError
from saq import Job
from saq.queue.redis import RedisQueue

from core import tracing
from core.faults import LibraryRepeats, dependency_failed, fault_text
from core.settings import Settings
from services.jobs.base import DEFAULT_QUEUE_NAME, TRACE_META_KEY, JobQueue, JobRegistry
from services.redis_pools import (
    SOCKET_TIMEOUT_SECONDS,
    PoolBounds,
    RedisUnreachable,
    bounded_client,
    redacted_url,
)

logger = logging.getLogger("agora.jobs")

PRODUCER_CLIENT_NAME = "agora-jobs"
WORKER_CLIENT_NAME = "agora-worker"
# A producer built without the settings' bounds (tests, scripts).
DEFAULT_PRODUCER_BOUNDS = PoolBounds(max_connections=8, wait_seconds=SOCKET_TIMEOUT_SECONDS)
# How long one dequeue waits for a job in Redis (BLMOVE's timeout), then asks again.
DEQUEUE_WAIT_SECONDS = 1.0
# After a failed dequeue, before the next attempt (each of the worker's dequeue tasks).
DEQUEUE_RETRY_SECONDS = 1.0
# Connections the worker's queue needs besides one per concurrent dequeue: saq's four upkeep
# tasks (abort, schedule, sweep, worker_info) and its pub/sub.
UPKEEP_CONNECTIONS = 5


class RedactJobArguments(logging.Filter):
    """On saq's loggers: a ``Job`` passed as a log argument is shown without its kwargs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, Job) for a in record.args):
            record.args = tuple(
                a.info(full=False) if isinstance(a, Job) else a for a in record.args
            )
        return True


SAQ_JOB_ERROR = "Error processing job %s"
SAQ_UPKEEP_ERROR = "Upkeep task failed unexpectedly"


def install_saq_log_filters() -> None:
    saq_logger = logging.getLogger("saq")  # saq's worker and queues all log here
    if not any(isinstance(f, RedactJobArguments) for f in saq_logger.filters):
        saq_logger.addFilter(RedactJobArguments())
    throttled = {f.message for f in saq_logger.filters if isinstance(f, LibraryRepeats)}
    for dependency, message in (("jobs", SAQ_JOB_ERROR), ("redis", SAQ_UPKEEP_ERROR)):
        if message not in throttled:
            saq_logger.addFilter(LibraryRepeats(dependency, message=message, up_to=logging.ERROR))


class WorkerQueue(RedisQueue):
    """The worker's queue: a dequeue that fails (Redis down) is counted, logged and waited
    out instead of retried at once (see the module's docstring)."""

    async def dequeue(
        self,
        timeout: float = 0.0,  # noqa: ASYNC109 - saq's signature
        poll_interval: float = 0.0,
    ) -> Job | None:
        try:
            return await super().dequeue(timeout, poll_interval)
        except (RedisError, OSError) as exc:
            dependency_failed(
                logger,
                "redis",
                "dequeue",
                "job worker: Redis unavailable (%s), next dequeue in %g s",
                fault_text(exc),
                DEQUEUE_RETRY_SECONDS,
                extra={"queue": self.name},
            )
            await asyncio.sleep(DEQUEUE_RETRY_SECONDS)
            return None


def worker_queue(settings: Settings, url: str, name: str, concurrency: int) -> WorkerQueue:
    """saq's queue for a worker of ``concurrency`` jobs, on a bounded client: each dequeue
    holds a connection while it waits, so the pool has one per dequeue task beside those of
    the upkeep; no call outlasts ``DEQUEUE_WAIT_SECONDS`` plus the usual socket timeout."""
    bounds = PoolBounds(concurrency + UPKEEP_CONNECTIONS, settings.redis_pool_wait_seconds)
    client = bounded_client(
        url,
        bounds,
        socket_timeout=DEQUEUE_WAIT_SECONDS + SOCKET_TIMEOUT_SECONDS,
        client_name=WORKER_CLIENT_NAME,
    )
    return WorkerQueue(client, name=name)


async def require_queue_reachable(queue: RedisQueue, url: str) -> None:
    """One INFO round trip (saq's first question to Redis); ``RedisUnreachable`` saying
    where and why when it fails."""
    try:
        await queue.version()
    except (RedisError, OSError) as exc:
        message = f"Redis at {redacted_url(url)} is unreachable: {fault_text(exc)}"
        raise RedisUnreachable(message) from exc


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
        bounds: PoolBounds = DEFAULT_PRODUCER_BOUNDS,
    ) -> None:
        self.registry = registry
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay
        self.timeout_seconds = timeout_seconds
        self.fallback = fallback
        # Our own client rather than Queue.from_url, which cannot pass timeouts: a request
        # must not hang on an unreachable Redis. This client never blocks on BLMOVE (only
        # the worker dequeues), so the usual socket timeout is safe here.
        client = bounded_client(redis_url, bounds, client_name=PRODUCER_CLIENT_NAME)
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

"""The saq worker process (``python -m server worker``): runs queued jobs and cron jobs.

saq calls a function as ``function(saq_ctx, **kwargs)``; our handlers take a ``JobContext``
instead, so each one is registered under its job name through a small adapter that also
counts and logs failures the way the in-process queue does (services/jobs/reporting.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError
from saq import CronJob, Queue, Worker
from saq.types import Context, SettingsDict

from core import tracing
from core.faults import count_fault, fault_text
from core.settings import Settings
from core.shortcuts import use_library_shortcuts
from services.entity_changes import DEFAULT_KEY_PREFIX, EntityChanges, build_entity_changes
from services.jobs.base import (
    DEFAULT_QUEUE_NAME,
    TRACE_META_KEY,
    FollowUpQueue,
    JobContext,
    JobDefinition,
    JobRegistry,
    describe_error,
    job_span,
)
from services.jobs.handlers import JOBS
from services.jobs.reporting import attempt_failed, job_completed, job_failed
from services.jobs.saq_queue import (
    DEQUEUE_WAIT_SECONDS,
    SaqJobQueue,
    WorkerQueue,
    install_saq_log_filters,
    require_queue_reachable,
    worker_queue,
)
from services.mail.factory import build_mailer
from services.push import PushProvider, build_push_provider
from services.redis_pools import PoolBounds, RedisUnreachable, bounded_client
from services.storage import Storage, build_storage

logger = logging.getLogger("agora.jobs")

SaqFunction = Callable[..., Awaitable[Any]]

WORKER_CONCURRENCY = 10  # jobs run at once by one worker process
# The worker's client for the API's caches, named as the API's shared one (CLIENT LIST).
CHANGES_CLIENT_NAME = "agora"


@dataclass(frozen=True, slots=True)
class CronSchedule:
    """A registered job run on a cron schedule (croniter syntax, UTC), e.g.
    ``CronSchedule("purge_expired_tokens", "0 * * * *")``. saq enqueues it with a fixed key
    (``cron:<job>``), so one run is queued at a time however many workers there are.
    saq's CronJob has no retry_delay: a cron job retries immediately, ``retries`` attempts."""

    job: str
    cron: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    timeout: int | None = None
    retries: int | None = None


# Periodic jobs: add a CronSchedule here (its job must be registered in handlers.JOBS).
# They run inside the worker with REDIS_URL, else in the API process (jobs/scheduler.py).
CRON_JOBS: list[CronSchedule] = []


def cron_schedules(settings: Settings) -> list[CronSchedule]:
    """``CRON_JOBS`` and the schedules that come from the settings."""
    return [
        *CRON_JOBS,
        CronSchedule("daily_cleanup", settings.cron_cleanup),
        CronSchedule("weekly_report", settings.cron_weekly_report),
    ]


def saq_function(definition: JobDefinition, context: JobContext) -> SaqFunction:
    async def run(ctx: Context, **kwargs: Any) -> Any:
        job = ctx.get("job")
        trace_headers = job.meta.get(TRACE_META_KEY) if job else None
        try:
            with job_span(
                definition, trace_headers, job.key if job else "?", job.attempts if job else 0
            ):
                result = await definition.handler(context, **kwargs)
        except Exception as exc:
            attempt = job.attempts if job else 0
            attempts = job.retries if job else 0
            name, job_id = definition.name, job.key if job else "?"
            error, safe = describe_error(exc), definition.safe_kwargs(kwargs)
            # No stack here: saq logs its own with every failure ("Error processing job").
            if attempt >= attempts:
                job_failed(name, job_id, attempt, attempts, error, job_args=safe)
            else:
                attempt_failed(name, job_id, attempt, attempts, error, job_args=safe)
            raise
        job_completed(definition.name)
        return result

    # saq names bare functions (cron jobs) by __qualname__: make that the job name.
    run.__qualname__ = run.__name__ = definition.name
    return run


def build_worker_settings(
    settings: Settings,
    context: JobContext,
    *,
    registry: JobRegistry = JOBS,
    queue: Queue | None = None,
    queue_name: str = DEFAULT_QUEUE_NAME,
    concurrency: int = WORKER_CONCURRENCY,
    cron_jobs: list[CronSchedule] | None = None,
) -> SettingsDict[Context]:
    """Keyword arguments for ``saq.Worker``: the queue (from ``REDIS_URL`` unless given, on
    a bounded client), every registered job and the cron jobs (``cron_schedules(settings)``
    unless given). A dequeue waits at most ``DEQUEUE_WAIT_SECONDS`` for a job."""
    if queue is None:
        if not settings.redis_url:
            raise ValueError("the job worker needs REDIS_URL")
        queue = worker_queue(settings, settings.redis_url, queue_name, concurrency)
    functions = {definition.name: saq_function(definition, context) for definition in registry}
    crons = [
        CronJob(
            function=functions[registry.get(schedule.job).name],
            cron=schedule.cron,
            kwargs=schedule.kwargs or None,
            timeout=schedule.timeout or settings.job_timeout_seconds,
            retries=schedule.retries or settings.job_max_attempts,
        )
        for schedule in (cron_schedules(settings) if cron_jobs is None else cron_jobs)
    ]
    return {
        "queue": queue,
        "functions": list(functions.items()),
        "concurrency": concurrency,
        "cron_jobs": crons,
        "dequeue_timeout": DEQUEUE_WAIT_SECONDS,
    }


async def run_worker(settings: Settings, *, queue_name: str = DEFAULT_QUEUE_NAME) -> None:
    """Run the worker until SIGINT/SIGTERM (saq installs the handlers) or cancellation.

    Raises ``RedisUnreachable`` (and logs it) at once when Redis does not answer at startup,
    so that the supervisor restarts the worker; once it runs, a Redis outage is logged and
    waited out (``WorkerQueue``).

    On shutdown saq cancels running jobs at once (no grace period by default) and puts them
    back in the queue with ``retry("cancelled")``: an email may be sent twice, never lost.
    """
    install_saq_log_filters()
    use_library_shortcuts(settings.library_shortcuts)
    tracing.configure_tracing(settings)
    assert settings.redis_url, "the job worker needs REDIS_URL"
    clients = WorkerClients.build(settings, queue_name)
    try:
        worker_settings = build_worker_settings(
            settings, clients.context, queue=clients.queue, queue_name=queue_name
        )
        await _require_redis(clients.queue, settings.redis_url)
        worker: Worker[Context] = Worker(**worker_settings)
        logger.info(
            "job worker starting",
            extra={
                "queue": clients.queue.name,
                "jobs": [d.name for d in JOBS],
                "cron": [f"{s.job} {s.cron}" for s in cron_schedules(settings)],
            },
        )
        await clients.start()
        # Before any dequeue (see SWEEP_RACE in saq_queue.py): saq's own sweep at start then
        # finds the sweep lock taken.
        await clients.queue.sweep(worker.timers["sweep"])
        # saq's start() returns when stopped; it swallows the CancelledError of a cancel.
        await worker.start()
    finally:
        tracing.flush()
        await clients.close()


@dataclass(slots=True)
class WorkerClients:
    """What the worker holds open: saq's queue and its jobs' context: the mailer, push,
    storage, a queue for follow-up jobs (on Redis too: the weekly report's emails) and the
    hook that drops what the API cached in Redis of what a job changed. Every Redis client
    is bounded (services/redis_pools.py)."""

    queue: WorkerQueue
    followups: SaqJobQueue
    redis: Redis
    push: PushProvider
    storage: Storage
    changes: EntityChanges
    context: JobContext
    started: bool = False

    @classmethod
    def build(cls, settings: Settings, queue_name: str) -> WorkerClients:
        assert settings.redis_url
        followups = SaqJobQueue(
            settings.redis_url,
            registry=JOBS,
            queue_name=queue_name,
            max_attempts=settings.job_max_attempts,
            retry_delay=settings.job_retry_delay_seconds,
            timeout_seconds=settings.job_timeout_seconds,
            bounds=PoolBounds.shared(settings),
        )
        redis = bounded_client(
            settings.redis_url, PoolBounds.shared(settings), client_name=CHANGES_CLIENT_NAME
        )
        push, storage = build_push_provider(settings), build_storage(settings)
        changes = build_entity_changes(settings, redis, DEFAULT_KEY_PREFIX)
        context = JobContext(
            mailer=build_mailer(settings),
            push=push,
            jobs=FollowUpQueue(followups),
            storage=storage,
            changes=changes,
        )
        queue = worker_queue(settings, settings.redis_url, queue_name, WORKER_CONCURRENCY)
        return cls(queue, followups, redis, push, storage, changes, context)

    async def start(self) -> None:
        self.started = True
        await self.queue.connect()
        await self.followups.start()
        await self.storage.start()

    async def close(self) -> None:
        if self.started:
            await self.storage.close()
            await self.followups.close()
            await _disconnect(self.queue)
        else:  # Redis did not answer: the queues' disconnect() would say so once more each
            await self.followups.queue.redis.aclose()
            await self.queue.redis.aclose()
        await self.push.close()
        await self.changes.cache.close()
        await self.redis.aclose()


async def _require_redis(queue: WorkerQueue, url: str) -> None:
    try:
        await require_queue_reachable(queue, url)
    except RedisUnreachable as exc:
        count_fault("redis", "connect")
        logger.error("job worker cannot start: %s", exc)
        raise


async def _disconnect(queue: WorkerQueue) -> None:
    try:
        await queue.disconnect()
    except (RedisError, OSError) as exc:
        # saq's disconnect() first PUNSUBSCRIBEs its pub/sub, which needs a live connection.
        logger.warning("job worker: Redis unreachable at close (%s)", fault_text(exc))
        await queue.redis.aclose()

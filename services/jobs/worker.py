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
from saq import CronJob, Queue, Worker
from saq.types import Context, SettingsDict

from core import tracing
from core.settings import Settings
from core.shortcuts import use_library_shortcuts
from services.entity_changes import DEFAULT_KEY_PREFIX, build_entity_changes
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
from services.jobs.saq_queue import SaqJobQueue, install_saq_log_filters
from services.mail.factory import build_mailer
from services.push import build_push_provider
from services.storage import build_storage

logger = logging.getLogger("agora.jobs")

SaqFunction = Callable[..., Awaitable[Any]]


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
    concurrency: int = 10,
    cron_jobs: list[CronSchedule] | None = None,
) -> SettingsDict[Context]:
    """Keyword arguments for ``saq.Worker``: the queue (from ``REDIS_URL`` unless given),
    every registered job and the cron jobs (``cron_schedules(settings)`` unless given)."""
    if queue is None:
        if not settings.redis_url:
            raise ValueError("the job worker needs REDIS_URL")
        queue = Queue.from_url(settings.redis_url, name=queue_name)
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
    }


async def run_worker(settings: Settings, *, queue_name: str = DEFAULT_QUEUE_NAME) -> None:
    """Run the worker until SIGINT/SIGTERM (saq installs the handlers) or cancellation.

    On shutdown saq cancels running jobs at once (no grace period by default) and puts them
    back in the queue with ``retry("cancelled")``: an email may be sent twice, never lost.
    """
    install_saq_log_filters()
    use_library_shortcuts(settings.library_shortcuts)
    tracing.configure_tracing(settings)
    assert settings.redis_url, "the job worker needs REDIS_URL"
    # Jobs that queue more jobs (the weekly report's emails) queue them on Redis too.
    followups = SaqJobQueue(
        settings.redis_url,
        registry=JOBS,
        queue_name=queue_name,
        max_attempts=settings.job_max_attempts,
        retry_delay=settings.job_retry_delay_seconds,
        timeout_seconds=settings.job_timeout_seconds,
    )
    push = build_push_provider(settings)
    storage = build_storage(settings)
    # Jobs that change what the API shows drop it from the API's caches in Redis.
    redis = Redis.from_url(settings.redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
    changes = build_entity_changes(settings, redis, DEFAULT_KEY_PREFIX)
    context = JobContext(
        mailer=build_mailer(settings),
        push=push,
        jobs=FollowUpQueue(followups),
        storage=storage,
        changes=changes,
    )
    worker_settings = build_worker_settings(settings, context, queue_name=queue_name)
    queue = worker_settings["queue"]
    worker: Worker[Context] = Worker(**worker_settings)
    logger.info(
        "job worker starting",
        extra={
            "queue": queue.name,
            "jobs": [d.name for d in JOBS],
            "cron": [f"{s.job} {s.cron}" for s in cron_schedules(settings)],
        },
    )
    await queue.connect()
    await followups.start()
    await storage.start()
    try:
        # saq's start() returns when stopped; it swallows the CancelledError of a cancel.
        await worker.start()
    finally:
        await storage.close()
        await followups.close()
        await push.close()
        tracing.flush()
        await queue.disconnect()
        await changes.cache.close()
        await redis.aclose()

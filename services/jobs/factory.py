"""Choose the job queue from the settings."""

from __future__ import annotations

from core.settings import Settings
from services.jobs.base import DEFAULT_QUEUE_NAME, JobContext, JobQueue, JobRegistry
from services.jobs.handlers import JOBS
from services.jobs.inprocess import InProcessJobQueue
from services.jobs.saq_queue import SaqJobQueue
from services.redis_pools import PoolBounds


def build_job_queue(
    settings: Settings,
    context: JobContext,
    *,
    registry: JobRegistry = JOBS,
    queue_name: str = DEFAULT_QUEUE_NAME,
) -> JobQueue:
    """saq on Redis when ``REDIS_URL`` is set (falling back to in-process while Redis is
    down), else the in-process queue. Call ``start()`` at startup and ``close()`` at
    shutdown."""
    in_process = InProcessJobQueue(
        context,
        registry,
        max_attempts=settings.job_max_attempts,
        retry_delay=settings.job_retry_delay_seconds,
        timeout=settings.job_timeout_seconds,
    )
    if settings.job_backend == "inprocess" or (
        settings.job_backend == "auto" and not settings.redis_url
    ):
        return in_process
    if not settings.redis_url:
        raise ValueError("JOB_BACKEND=saq needs REDIS_URL")
    return SaqJobQueue(
        settings.redis_url,
        registry=registry,
        queue_name=queue_name,
        max_attempts=settings.job_max_attempts,
        retry_delay=settings.job_retry_delay_seconds,
        timeout_seconds=settings.job_timeout_seconds,
        fallback=in_process,
        bounds=PoolBounds.shared(settings),
    )

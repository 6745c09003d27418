"""How many jobs are waiting, for ``jobs_in_process_pending`` and ``job_queue_depth``."""

from __future__ import annotations

from core.metrics import JOB_QUEUE_DEPTH, JOBS_IN_PROCESS
from services.jobs.base import JobQueue
from services.jobs.inprocess import InProcessJobQueue
from services.jobs.saq_queue import SaqJobQueue


async def sample_queue_depth(queue: JobQueue) -> None:
    """Set the gauges from the queue: the in-process one (also saq's fallback) counts its
    own tasks; saq's list on Redis is read with one ``LLEN`` (a Redis fault raises, and the
    sampler logs it)."""
    if isinstance(queue, SaqJobQueue):
        if isinstance(queue.fallback, InProcessJobQueue):
            JOBS_IN_PROCESS.set(queue.fallback.pending)
        JOB_QUEUE_DEPTH.labels(queue.queue.name).set(await queue.queue.count("queued"))
    elif isinstance(queue, InProcessJobQueue):
        JOBS_IN_PROCESS.set(queue.pending)

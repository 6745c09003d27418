"""Background jobs: one registry of handlers, two backends with the same retry semantics
(in-process by default, saq on Redis with ``REDIS_URL``), and the saq worker."""

from services.jobs.base import (
    DEFAULT_QUEUE_NAME,
    FailedJob,
    JobContext,
    JobDefinition,
    JobHandler,
    JobQueue,
    JobRegistry,
    UnknownJobError,
)
from services.jobs.factory import build_job_queue
from services.jobs.handlers import JOBS, enqueue_email, send_email
from services.jobs.inprocess import InProcessJobQueue
from services.jobs.saq_queue import SaqJobQueue

__all__ = [
    "DEFAULT_QUEUE_NAME",
    "JOBS",
    "FailedJob",
    "InProcessJobQueue",
    "JobContext",
    "JobDefinition",
    "JobHandler",
    "JobQueue",
    "JobRegistry",
    "SaqJobQueue",
    "UnknownJobError",
    "build_job_queue",
    "enqueue_email",
    "send_email",
]

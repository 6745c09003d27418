"""How a failing job shows up, on either backend: each failed attempt is counted
(``job_retries_total``, then ``jobs_failed_total`` for the job given up) and logged through
the repeat throttle (core/faults.py). While SMTP or FCM is down every job of a kind fails
the same way: the log gets the first line of each kind, then one per interval saying how
many more there were, instead of a line (and a stack) per attempt. The failed jobs themselves
are kept by the backend (in-process: ``failed``; saq: its failed job records)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from core.faults import warn_repeated
from core.metrics import JOB_RETRIES, JOBS_COMPLETED, JOBS_FAILED

logger = logging.getLogger("agora.jobs")

# The throttle's "dependency" for job lines: runs are per job name and message.
JOBS = "jobs"


def job_completed(name: str) -> None:
    JOBS_COMPLETED.labels(name).inc()


def attempt_failed(
    name: str,
    job_id: str,
    attempt: int,
    max_attempts: int,
    error: str,
    *,
    retry_in: float | None = None,
    job_args: Mapping[str, object] | None = None,
) -> None:
    """An attempt failed and the job will be retried (``retry_in`` seconds, when known)."""
    JOB_RETRIES.labels(name).inc()
    extra = _fields(name, job_id, attempt, max_attempts, error, job_args)
    if retry_in is not None:
        extra["retryInSeconds"] = retry_in
    warn_repeated(
        logger,
        JOBS,
        name,
        "job %s %s failed on attempt %d/%d and will be retried: %s",
        name,
        job_id,
        attempt,
        max_attempts,
        error,
        extra=extra,
    )


def job_failed(
    name: str,
    job_id: str,
    attempts: int,
    max_attempts: int,
    error: str,
    *,
    exc: BaseException | None = None,
    job_args: Mapping[str, object] | None = None,
) -> None:
    """The job is given up: its last attempt failed (or it was cancelled, or never ran)."""
    JOBS_FAILED.labels(name).inc()
    warn_repeated(
        logger,
        JOBS,
        name,
        "job %s %s failed after %d attempt(s): %s",
        name,
        job_id,
        attempts,
        error,
        exc_info=exc or False,
        extra=_fields(name, job_id, attempts, max_attempts, error, job_args),
        level=logging.ERROR,
    )


def _fields(
    name: str,
    job_id: str,
    attempt: int,
    max_attempts: int,
    error: str,
    job_args: Mapping[str, object] | None,
) -> dict[str, object]:
    fields: dict[str, object] = {
        "jobId": job_id,
        "jobName": name,
        "attempt": attempt,
        "maxAttempts": max_attempts,
        "error": error,
    }
    if job_args is not None:
        fields["jobArgs"] = dict(job_args)
    return fields

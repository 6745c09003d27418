"""The embedded job queue: each job is an asyncio task in this process, retried like saq."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any

from core import tracing
from services.jobs.base import (
    FailedJob,
    JobContext,
    JobDefinition,
    JobRegistry,
    describe_error,
    job_span,
)
from services.jobs.reporting import attempt_failed, job_completed, job_failed

logger = logging.getLogger("agora.jobs")


class InProcessJobQueue:
    """Runs jobs in the event loop of the process that queued them.

    The semantics follow saq's: a job gets at most ``max_attempts`` attempts (saq's
    ``retries``), each limited to ``timeout`` seconds, and waits ``retry_delay *
    2 ** (attempt - 1)`` before the next one. Unlike saq, which draws the delay at random
    between 0 and that value ("full jitter"), the wait here is exactly that value: one
    process has no herd to spread out. At most ``concurrency`` attempts run at once; waiting
    for a retry holds no slot.

    Arguments go through a JSON round trip as they would through Redis, so a job that works
    here works on saq. A job that uses up its attempts lands in ``failed``; jobs queued after
    ``close()`` are recorded there too, never run. Failed attempts and jobs are counted and
    logged through the repeat throttle (services/jobs/reporting.py, logger ``agora.jobs``).
    Jobs are lost if the process dies: that is what the saq backend is for.
    """

    def __init__(
        self,
        context: JobContext,
        handlers: JobRegistry,
        *,
        max_attempts: int = 3,
        retry_delay: float = 5.0,
        timeout: float | None = 60.0,
        concurrency: int = 10,
        keep_failed: int = 100,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.context = context
        self.handlers = handlers
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay
        self.timeout = timeout
        self.keep_failed = keep_failed
        self.failed: list[FailedJob] = []
        self.completed = 0
        self.retried = 0
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    async def start(self) -> None:
        self._closed = False

    async def enqueue(self, name: str, **kwargs: Any) -> str:
        definition = self.handlers.get(name)
        # Same contract as saq, which stores the arguments as JSON: fail here, in development,
        # not in production. The copy also keeps the caller from mutating a queued job.
        arguments: dict[str, Any] = json.loads(json.dumps(kwargs))
        job_id = uuid.uuid4().hex
        if self._closed:
            self._record_failure(job_id, definition, arguments, 0, "queue closed: job not run")
            return job_id
        # The task copies the caller's contextvars, so job logs keep the request id.
        run = self._run(job_id, definition, arguments, tracing.carrier())
        task = asyncio.create_task(run, name=f"job:{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job_id

    @property
    def pending(self) -> int:
        """Jobs running or waiting for a retry."""
        return len(self._tasks)

    async def drain(self) -> None:
        """Wait until every queued job (and any job those queue) has finished. Bound it with
        ``async with asyncio.timeout(...)``: being cancelled leaves the jobs running."""
        while self._tasks:
            # asyncio.wait, unlike wait_for/gather, never cancels what it waits for.
            await asyncio.wait(set(self._tasks))

    async def close(self, grace: float = 5.0) -> None:
        """Stop taking jobs, give running ones ``grace`` seconds, cancel the rest (they are
        recorded in ``failed`` as cancelled)."""
        self._closed = True
        if not self._tasks:
            return
        tasks = set(self._tasks)
        _, pending = await asyncio.wait(tasks, timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)

    async def _run(
        self,
        job_id: str,
        definition: JobDefinition,
        kwargs: dict[str, Any],
        trace_headers: dict[str, str],
    ) -> None:
        attempt = 0
        try:
            while True:
                attempt += 1
                try:
                    with job_span(definition, trace_headers, job_id, attempt):
                        async with self._slots, asyncio.timeout(self.timeout):
                            await definition.handler(self.context, **kwargs)
                except Exception as exc:  # noqa: BLE001 - any job failure is retried, then logged
                    if attempt >= self.max_attempts:
                        self._record_failure(
                            job_id, definition, kwargs, attempt, describe_error(exc), exc
                        )
                        return
                    delay = self.retry_delay * 2 ** (attempt - 1)
                    self.retried += 1
                    attempt_failed(
                        definition.name,
                        job_id,
                        attempt,
                        self.max_attempts,
                        describe_error(exc),
                        retry_in=delay,
                    )
                    await asyncio.sleep(delay)
                else:
                    self.completed += 1
                    job_completed(definition.name)
                    logger.debug(
                        "job %s %s completed on attempt %d",
                        definition.name,
                        job_id,
                        attempt,
                        extra={"jobId": job_id, "jobName": definition.name, "attempt": attempt},
                    )
                    return
        except asyncio.CancelledError:
            self._record_failure(
                job_id, definition, kwargs, attempt, "cancelled: the queue was closed"
            )
            raise

    def _record_failure(
        self,
        job_id: str,
        definition: JobDefinition,
        kwargs: dict[str, Any],
        attempts: int,
        error: str,
        exc: BaseException | None = None,
    ) -> None:
        safe = definition.safe_kwargs(kwargs)
        self.failed.append(FailedJob(job_id, definition.name, safe, attempts, error))
        del self.failed[: -self.keep_failed]
        job_failed(
            definition.name, job_id, attempts, self.max_attempts, error, exc=exc, job_args=safe
        )

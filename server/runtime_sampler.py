"""One task per process, from start-up to shutdown, that samples what no request counts:
event-loop lag, the database pool, the job queue's depth and (several workers) the
process's own figures."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from core.faults import warn_repeated
from core.metrics import DB_POOL_CONNECTIONS, DB_POOL_MAX, DB_POOL_WAITING, EVENT_LOOP_LAG
from core.process_metrics import drain_gc_pauses, process_mirror
from server.database import pool_usage
from services.jobs import JobQueue
from services.jobs.depth import sample_queue_depth

logger = logging.getLogger(__name__)


def sample_pool() -> None:
    usage = pool_usage()
    if usage is None:
        return
    DB_POOL_CONNECTIONS.labels("in_use").set(usage.in_use)
    DB_POOL_CONNECTIONS.labels("idle").set(usage.idle)
    DB_POOL_MAX.set(usage.max_size)
    DB_POOL_WAITING.set(usage.waiting)


class RuntimeSampler:
    def __init__(self, interval: float, jobs: JobQueue) -> None:
        self.interval = interval
        self.jobs = jobs
        self.mirror = process_mirror()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="runtime-sampler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def sample(self) -> None:
        drain_gc_pauses()
        sample_pool()
        await sample_queue_depth(self.jobs)
        if self.mirror is not None:
            self.mirror.sample()

    async def _run(self) -> None:
        while True:
            # The lag: how much later than asked the loop came back to this task, which is
            # how long every other callback that was ready waited too.
            asked = time.perf_counter()
            await asyncio.sleep(self.interval)
            EVENT_LOOP_LAG.observe(max(0.0, time.perf_counter() - asked - self.interval))
            try:
                await self.sample()
            except Exception as exc:  # noqa: BLE001 - a metric must never stop the server
                warn_repeated(logger, "metrics", "sample", "metrics sampling failed: %s", exc)

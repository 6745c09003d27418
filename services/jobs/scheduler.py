"""The in-process cron scheduler: the embedded counterpart of saq's cron jobs.

Without Redis there is no worker, so the API process runs the schedules itself: one task per
``CronSchedule`` sleeps until the next run time (croniter, UTC), then queues the job on the
in-process queue, which gives it the same attempts and backoff as any job. Sleeps are cut
into slices of at most ``max_sleep`` seconds so a changed wall clock is noticed. Runs missed
while the process was down or suspended are not caught up: the next one is computed from
the current time, as saq does.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from croniter import croniter

from services.jobs.base import JobQueue, describe_error
from services.jobs.worker import CronSchedule

logger = logging.getLogger("agora.jobs")

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]


def utc_now() -> datetime:
    return datetime.now(UTC)


def next_run(cron: str, after: datetime) -> datetime:
    """The first time strictly after ``after`` that matches ``cron`` (five fields, UTC)."""
    if after.tzinfo is None:
        raise ValueError("next_run needs a timezone-aware datetime")
    following: datetime = croniter(cron, after.astimezone(UTC)).get_next(datetime)
    return following.astimezone(UTC)


def check_cron(cron: str, name: str) -> None:
    if not croniter.is_valid(cron) or len(cron.split()) != 5:
        raise ValueError(f"{name}: {cron!r} is not a five-field cron expression")


class CronScheduler:
    """Queues each schedule's job on ``queue`` at its cron times until ``close()``."""

    def __init__(
        self,
        schedules: Sequence[CronSchedule],
        queue: JobQueue,
        *,
        clock: Clock = utc_now,
        sleep: Sleep = asyncio.sleep,
        max_sleep: float = 60.0,
    ) -> None:
        for schedule in schedules:
            check_cron(schedule.cron, f"the schedule of {schedule.job}")
        self.schedules = list(schedules)
        self.queue = queue
        self._clock = clock
        self._sleep = sleep
        self._max_sleep = max_sleep
        self._tasks: list[asyncio.Task[None]] = []
        self.runs: list[tuple[str, datetime]] = []  # (job, scheduled time), last 100

    def next_runs(self) -> dict[str, datetime]:
        now = self._clock()
        return {schedule.job: next_run(schedule.cron, now) for schedule in self.schedules}

    async def start(self) -> None:
        if self._tasks:
            return
        for schedule in self.schedules:
            self._tasks.append(
                asyncio.create_task(self._run(schedule), name=f"cron:{schedule.job}")
            )
        if self.schedules:
            logger.info(
                "in-process scheduler started",
                extra={"cron": {job: at.isoformat() for job, at in self.next_runs().items()}},
            )

    async def close(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)

    async def _run(self, schedule: CronSchedule) -> None:
        due = next_run(schedule.cron, self._clock())
        while True:
            remaining = (due - self._clock()).total_seconds()
            if remaining > 0:
                await self._sleep(min(remaining, self._max_sleep))
                continue
            await self._fire(schedule, due)
            # From now, not from `due`: after a long stall, missed runs are skipped.
            due = next_run(schedule.cron, max(due, self._clock()))

    async def _fire(self, schedule: CronSchedule, due: datetime) -> None:
        self.runs.append((schedule.job, due))
        del self.runs[:-100]
        try:
            job_id = await self.queue.enqueue(schedule.job, **schedule.kwargs)
        except Exception as exc:
            logger.error(
                "cron job %s due at %s could not be queued: %s",
                schedule.job,
                due.isoformat(),
                describe_error(exc),
                exc_info=exc,
            )
            return
        logger.info(
            "cron job %s queued (due %s)",
            schedule.job,
            due.isoformat(),
            extra={"jobId": job_id, "jobName": schedule.job, "due": due.isoformat()},
        )

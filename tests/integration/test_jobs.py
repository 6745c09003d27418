"""Jobs: the in-process queue and saq (with REDIS_URL), sending real mail to aiosmtpd."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from saq import Worker
from saq.job import Job, Status

from core.settings import Settings
from services.jobs import (
    JOBS,
    InProcessJobQueue,
    JobContext,
    JobRegistry,
    SaqJobQueue,
    UnknownJobError,
    build_job_queue,
    enqueue_email,
)
from services.jobs.worker import build_worker_settings, run_worker
from services.mail import EmailMessage, OutboxMailer, SmtpMailer, build_link, render_email
from tests.conftest import REDIS_URL, make_settings, requires_redis
from tests.smtp_server import (
    HOST,
    TEMPORARY_FAILURE,
    SmtpTestServer,
    free_port,
    running_smtp_server,
)

TOKEN = "secret-token-4242"
RETRY_DELAY = 0.05


@pytest.fixture
def smtp_server() -> Iterator[SmtpTestServer]:
    with running_smtp_server() as server:
        yield server


@pytest.fixture
def failing_smtp_server() -> Iterator[SmtpTestServer]:
    with running_smtp_server(reply=TEMPORARY_FAILURE) as server:
        yield server


def smtp_settings(server: SmtpTestServer, **overrides: Any) -> Settings:
    return make_settings(
        smtp_host=HOST,
        smtp_port=server.port,
        smtp_starttls=False,
        smtp_timeout_seconds=5,
        **overrides,
    )


def smtp_context(server: SmtpTestServer) -> JobContext:
    return JobContext(mailer=SmtpMailer(smtp_settings(server)))


def mail(to: str = "ada@example.com") -> EmailMessage:
    link = build_link("https://agora.test", "/verify-email", token=TOKEN)
    return render_email("verify_email", to, name="Ada", link=link)


@contextlib.asynccontextmanager
async def in_process_queue(context: JobContext, **options: Any) -> AsyncIterator[InProcessJobQueue]:
    queue = InProcessJobQueue(context, JOBS, **{"retry_delay": RETRY_DELAY, **options})
    await queue.start()
    try:
        yield queue
    finally:
        await queue.close(grace=0.5)


async def drained(queue: InProcessJobQueue, within: float = 5.0) -> None:
    async with asyncio.timeout(within):
        await queue.drain()


# --- in-process ---------------------------------------------------------------------------


async def test_in_process_queue_delivers_send_email(smtp_server: SmtpTestServer) -> None:
    async with in_process_queue(smtp_context(smtp_server)) as queue:
        job_id = await enqueue_email(queue, mail())
        await drained(queue)

        assert job_id
        [received] = smtp_server.messages
        assert received.rcpt_tos == ["ada@example.com"]
        assert received.message["Subject"] == mail().subject
        assert TOKEN in received.part("text/plain")
        assert queue.completed == 1
        assert queue.failed == []


async def test_a_failing_job_is_retried_with_exponential_backoff_then_kept_in_failed(
    failing_smtp_server: SmtpTestServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="agora.jobs")
    async with in_process_queue(smtp_context(failing_smtp_server), max_attempts=3) as queue:
        job_id = await enqueue_email(queue, mail())
        await drained(queue)

        attempts = failing_smtp_server.attempts
        assert len(attempts) == 3
        gaps = [later - earlier for earlier, later in itertools.pairwise(attempts)]
        # retry_delay * 2 ** (attempt - 1): at least 0.05 s, then at least 0.10 s.
        assert gaps[0] >= RETRY_DELAY
        assert gaps[1] >= RETRY_DELAY * 2

        [failed] = queue.failed
        assert failed.job_id == job_id
        assert failed.name == "send_email"
        assert failed.attempts == 3
        assert "MailDeliveryError" in failed.error
        assert "451" in failed.error
        assert failed.kwargs["to"] == "a***@example.com"
        assert failed.kwargs["text"] == failed.kwargs["html"] == "[redacted]"
        assert failed.kwargs["subject"] == mail().subject
        assert queue.retried == 2
        assert queue.completed == 0

    records = [r for r in caplog.records if r.name == "agora.jobs"]
    # Identical failures are logged once per run (core/faults.py): the second retry of the
    # same kind is held back.
    [retry] = [r for r in records if r.levelno == logging.WARNING]
    assert (retry.attempt, retry.retryInSeconds) == (1, RETRY_DELAY)  # type: ignore[attr-defined]
    [final] = [r for r in records if r.levelno == logging.ERROR]
    assert final.jobId == job_id  # type: ignore[attr-defined]
    assert final.jobName == "send_email"  # type: ignore[attr-defined]
    assert final.attempt == 3  # type: ignore[attr-defined]
    assert "451" in final.error  # type: ignore[attr-defined]
    assert all(r.jobId == job_id for r in records)  # type: ignore[attr-defined]
    assert TOKEN not in caplog.text
    assert "ada@example.com" not in caplog.text


async def test_enqueue_returns_at_once_and_never_raises_for_a_failing_job(
    failing_smtp_server: SmtpTestServer,
) -> None:
    async with in_process_queue(smtp_context(failing_smtp_server), max_attempts=2) as queue:
        job_id = await enqueue_email(queue, mail())  # the job fails: enqueue does not care

        assert isinstance(job_id, str)
        assert failing_smtp_server.attempts == []  # nothing ran inside enqueue
        assert queue.pending == 1
        await drained(queue)
        assert queue.pending == 0
        assert [f.job_id for f in queue.failed] == [job_id]


async def test_close_cancels_jobs_waiting_for_a_retry_and_refuses_new_ones(
    failing_smtp_server: SmtpTestServer,
) -> None:
    queue = InProcessJobQueue(smtp_context(failing_smtp_server), JOBS, retry_delay=60)
    await queue.start()
    first = await enqueue_email(queue, mail())
    await failing_smtp_server.wait_for_attempts(1)

    started = time.monotonic()
    await queue.close(grace=0.1)
    assert time.monotonic() - started < 5  # did not wait out the 60 s backoff
    assert queue.pending == 0
    [cancelled] = queue.failed
    assert (cancelled.job_id, cancelled.attempts) == (first, 1)
    assert "cancelled" in cancelled.error

    late = await enqueue_email(queue, mail())  # after close: recorded, not run, not raised
    assert queue.failed[-1].job_id == late
    assert queue.failed[-1].attempts == 0
    assert len(failing_smtp_server.attempts) == 1


async def test_a_job_over_its_timeout_is_a_failed_attempt(tmp_path: Path) -> None:
    registry = JobRegistry()
    runs: list[float] = []

    @registry.job("sleepy")
    async def sleepy(ctx: JobContext) -> None:
        runs.append(time.monotonic())
        await asyncio.sleep(10)

    context = JobContext(mailer=OutboxMailer(tmp_path))
    queue = InProcessJobQueue(context, registry, max_attempts=2, retry_delay=0, timeout=0.05)
    await queue.enqueue("sleepy")
    await drained(queue)
    assert len(runs) == 2
    [failed] = queue.failed
    assert failed.error == "TimeoutError"
    await queue.close()


async def test_enqueue_rejects_unknown_jobs_and_arguments_json_cannot_carry(
    tmp_path: Path,
) -> None:
    async with in_process_queue(JobContext(mailer=OutboxMailer(tmp_path))) as queue:
        with pytest.raises(UnknownJobError, match="no job named 'nope'"):
            await queue.enqueue("nope")
        with pytest.raises(TypeError):
            await queue.enqueue("send_email", to="a@example.com", subject=object(), text="x")
        assert queue.pending == 0


async def test_build_job_queue_follows_job_backend_and_redis_url(tmp_path: Path) -> None:
    context = JobContext(mailer=OutboxMailer(tmp_path))
    redis_url = "redis://127.0.0.1:1/0"

    in_process = build_job_queue(make_settings(job_backend="auto", redis_url=None), context)
    assert isinstance(in_process, InProcessJobQueue)
    assert (in_process.max_attempts, in_process.retry_delay) == (3, 5.0)
    forced = build_job_queue(make_settings(job_backend="inprocess", redis_url=redis_url), context)
    assert isinstance(forced, InProcessJobQueue)
    for backend in ("auto", "saq"):
        saq_queue = build_job_queue(
            make_settings(job_backend=backend, redis_url=redis_url), context
        )
        assert isinstance(saq_queue, SaqJobQueue)
        assert isinstance(saq_queue.fallback, InProcessJobQueue)
        await saq_queue.close()
    with pytest.raises(ValueError, match="REDIS_URL"):
        build_job_queue(make_settings(job_backend="saq", redis_url=None), context)


async def test_saq_queue_runs_jobs_in_process_while_redis_is_down(
    smtp_server: SmtpTestServer,
) -> None:
    fallback = InProcessJobQueue(smtp_context(smtp_server), JOBS, retry_delay=RETRY_DELAY)
    queue = SaqJobQueue(
        f"redis://{HOST}:{free_port()}/0",  # nothing listens there
        registry=JOBS,
        queue_name=f"test-{uuid.uuid4().hex[:12]}",
        fallback=fallback,
    )
    await queue.start()
    try:
        job_id = await enqueue_email(queue, mail())
        await drained(fallback)
        assert job_id
        assert len(smtp_server.messages) == 1
    finally:
        await queue.close()


# --- saq on Redis (second CI pass) -----------------------------------------------------------


@pytest.fixture
async def saq_queue_name() -> AsyncIterator[str]:
    """A queue of its own for each test; its Redis keys are deleted afterwards."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    yield name
    assert REDIS_URL is not None
    redis = Redis.from_url(REDIS_URL)
    try:
        for pattern in (f"saq:{name}:*", f"saq:job:{name}:*"):
            keys = [key async for key in redis.scan_iter(match=pattern)]
            if keys:
                await redis.delete(*keys)
    finally:
        await redis.aclose()


@contextlib.asynccontextmanager
async def saq_producer(queue_name: str, **options: Any) -> AsyncIterator[SaqJobQueue]:
    assert REDIS_URL is not None
    queue = SaqJobQueue(
        REDIS_URL,
        registry=JOBS,
        queue_name=queue_name,
        **{"max_attempts": 3, "retry_delay": RETRY_DELAY, "timeout_seconds": 5, **options},
    )
    await queue.start()
    try:
        yield queue
    finally:
        await queue.close()


@contextlib.asynccontextmanager
async def saq_worker(
    settings: Settings, context: JobContext, queue_name: str
) -> AsyncIterator[Worker[Any]]:
    worker_settings = build_worker_settings(settings, context, queue_name=queue_name)
    queue = worker_settings["queue"]
    worker: Worker[Any] = Worker(**worker_settings)
    await queue.connect()
    task = asyncio.create_task(worker.start())
    try:
        yield worker
    finally:
        await worker.stop()
        await asyncio.wait_for(task, 5)
        await queue.disconnect()


async def wait_for_status(queue: SaqJobQueue, job_id: str, status: Status) -> Job:
    async with asyncio.timeout(10):
        while True:
            job = await queue.job(job_id)
            if job is not None and job.status == status:
                return job
            await asyncio.sleep(0.05)


@requires_redis
async def test_saq_worker_delivers_send_email(
    smtp_server: SmtpTestServer, saq_queue_name: str
) -> None:
    settings = smtp_settings(smtp_server, redis_url=REDIS_URL)
    async with (
        saq_producer(saq_queue_name) as producer,
        saq_worker(settings, smtp_context(smtp_server), saq_queue_name),
    ):
        job_id = await enqueue_email(producer, mail())
        [received] = await smtp_server.wait_for_messages(1)
        job = await wait_for_status(producer, job_id, Status.COMPLETE)

    assert job.attempts == 1
    assert job.retries == 3  # saq's `retries` is the number of attempts
    assert job.retry_backoff is True
    assert received.rcpt_tos == ["ada@example.com"]
    assert TOKEN in received.part("text/html")


@requires_redis
async def test_saq_retries_a_failing_job_then_marks_it_failed(
    failing_smtp_server: SmtpTestServer,
    saq_queue_name: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    settings = smtp_settings(failing_smtp_server, redis_url=REDIS_URL)
    async with (
        saq_producer(saq_queue_name) as producer,
        saq_worker(settings, smtp_context(failing_smtp_server), saq_queue_name),
    ):
        job_id = await enqueue_email(producer, mail())
        job = await wait_for_status(producer, job_id, Status.FAILED)

    assert job.attempts == 3
    assert len(failing_smtp_server.attempts) == 3
    # saq draws each wait at random in [0, retry_delay * 2 ** (attempt - 1)] and picks
    # retries up on its 1 s schedule poll: order is all we can assert about the timing.
    assert failing_smtp_server.attempts == sorted(failing_smtp_server.attempts)
    assert job.error is not None
    assert "MailDeliveryError" in job.error
    ours = [r for r in caplog.records if r.name == "agora.jobs" and r.jobName == "send_email"]  # type: ignore[attr-defined]
    # One line per run of identical failures: the second retry is held back.
    assert [r.attempt for r in ours] == [1, 3]  # type: ignore[attr-defined]
    assert [r.levelno for r in ours] == [logging.WARNING, logging.ERROR]
    assert any(r.name == "saq" and r.levelno == logging.ERROR for r in caplog.records)
    # saq's own "Error processing job %s" line shows the job without its kwargs. (The test
    # SMTP server's "mail.log" records do show the address: they are not our logs.)
    logged = "\n".join(
        caplog.handler.format(r) for r in caplog.records if r.name.startswith(("saq", "agora"))
    )
    assert "Error processing job Job<function: send_email" in logged
    assert TOKEN not in logged
    assert "ada@example.com" not in logged


@requires_redis
async def test_run_worker_processes_jobs_queued_by_build_job_queue(
    smtp_server: SmtpTestServer, saq_queue_name: str
) -> None:
    settings = smtp_settings(smtp_server, redis_url=REDIS_URL, job_backend="auto")
    queue = build_job_queue(settings, smtp_context(smtp_server), queue_name=saq_queue_name)
    assert isinstance(queue, SaqJobQueue)
    await queue.start()
    worker = asyncio.create_task(run_worker(settings, queue_name=saq_queue_name))
    try:
        job_id = await enqueue_email(queue, mail())
        await smtp_server.wait_for_messages(1, within=10)
        job = await wait_for_status(queue, job_id, Status.COMPLETE)
        assert job.attempts == 1
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(worker, 5)
        await queue.close()

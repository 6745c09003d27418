"""The metrics beyond HTTP, each present after its subsystem ran: login failures and
throttles, cost refusals, error codes, readiness, jobs (completed, failed, queue depth on
both backends), the database pool, event-loop lag, GC pauses and the process.

The registry is process-global and shared by every test, so each test compares a value
before and after what it does."""

from __future__ import annotations

import asyncio
import gc
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from tortoise import connections

from core.metrics import REGISTRY
from core.process_metrics import drain_gc_pauses, observe_gc_pauses, process_mirror
from server.database import PoolUsage, pool_usage
from server.runtime_sampler import RuntimeSampler, sample_pool
from services.jobs import InProcessJobQueue, JobContext, JobRegistry, SaqJobQueue
from services.jobs.depth import sample_queue_depth
from services.mail import OutboxMailer
from tests.conftest import (
    ON_POSTGRES,
    REDIS_URL,
    AppFactory,
    graphql,
    requires_postgres,
    requires_redis,
)

LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }"
ME = "{ me { id } }"
POSTS = "{ posts(first: 20) { nodes { id title } } }"


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def waiting(usage: PoolUsage | None) -> int:
    return usage.waiting if usage is not None else 0


async def eventually(condition: Callable[[], bool], seconds: float = 10) -> None:
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 - polls another task's state
            await asyncio.sleep(0.01)


# --- accounts and cost ------------------------------------------------------------------


async def test_a_wrong_password_counts_a_login_failure(client: httpx.AsyncClient) -> None:
    before = value("login_failures_total")

    response = await graphql(client, LOGIN, {"e": "nobody@example.com", "p": "wrong password"})

    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert value("login_failures_total") == before + 1


async def test_a_login_over_the_attempt_limit_counts_a_throttle(
    client_factory: AppFactory,
) -> None:
    client = client_factory(login_max_failures=1)
    before = value("attempts_throttled_total", kind="login")
    await graphql(client, LOGIN, {"e": "nobody@example.com", "p": "wrong password"})

    response = await graphql(client, LOGIN, {"e": "nobody@example.com", "p": "wrong password"})

    assert response.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert value("attempts_throttled_total", kind="login") == before + 1


async def test_an_empty_cost_bucket_counts_a_budget_refusal(client_factory: AppFactory) -> None:
    client = client_factory(rate_limit_capacity=1, rate_limit_restore_rate=0.001)
    before = value("cost_refusals_total", reason="budget")
    await graphql(client, ME)

    response = await graphql(client, ME)

    assert response.status_code == 429
    assert value("cost_refusals_total", reason="budget") == before + 1


async def test_an_operation_over_the_maximum_cost_counts_a_too_complex_refusal(
    client_factory: AppFactory,
) -> None:
    client = client_factory(query_max_cost=2)
    before = value("cost_refusals_total", reason="too_complex")

    response = await graphql(client, POSTS)

    assert response.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert value("cost_refusals_total", reason="too_complex") == before + 1


# --- errors and readiness ---------------------------------------------------------------


async def test_every_error_answered_is_counted_by_its_code(client: httpx.AsyncClient) -> None:
    parse_failures = value("graphql_errors_total", code="GRAPHQL_PARSE_FAILED")
    validation_failures = value("graphql_errors_total", code="GRAPHQL_VALIDATION_FAILED")

    await graphql(client, "{ me { id ")
    await graphql(client, "{ nope }")

    assert value("graphql_errors_total", code="GRAPHQL_PARSE_FAILED") == parse_failures + 1
    assert (
        value("graphql_errors_total", code="GRAPHQL_VALIDATION_FAILED") == validation_failures + 1
    )


async def test_a_refusal_before_execution_is_counted_by_its_code(
    client: httpx.AsyncClient,
) -> None:
    before = value("graphql_errors_total", code="BAD_USER_INPUT")

    # A text/plain POST without a preflight header: the CSRF guard refuses it unparsed.
    response = await client.post("/graphql", content=b"{}", headers={"Content-Type": "text/plain"})

    assert response.json()["errors"][0]["extensions"]["reason"] == "CSRF"
    assert value("graphql_errors_total", code="BAD_USER_INPUT") == before + 1


async def test_a_readiness_probe_counts_each_check_and_sets_it_up(
    client: httpx.AsyncClient,
) -> None:
    before = value("readiness_checks_total", check="database", status="ok")

    await client.get("/health/ready")

    assert value("readiness_checks_total", check="database", status="ok") == before + 1
    assert value("readiness_check_up", check="database") == 1


async def test_a_failed_readiness_probe_sets_its_check_down(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse(*args: object, **kwargs: object) -> object:
        raise ConnectionRefusedError("database is down")

    monkeypatch.setattr(connections.get("default"), "execute_query", refuse)
    before = value("readiness_checks_total", check="database", status="unavailable")

    await client.get("/health/ready")

    assert value("readiness_checks_total", check="database", status="unavailable") == before + 1
    assert value("readiness_check_up", check="database") == 0


# --- jobs -------------------------------------------------------------------------------


@pytest.fixture
async def gated_queue(tmp_path: Path) -> AsyncIterator[tuple[InProcessJobQueue, asyncio.Event]]:
    """An in-process queue whose ``gated`` job waits for the event; ``boom`` always fails."""
    registry = JobRegistry()
    gate = asyncio.Event()

    @registry.job("metrics_gated")
    async def gated(ctx: JobContext) -> None:
        await gate.wait()

    @registry.job("metrics_boom")
    async def boom(ctx: JobContext) -> None:
        raise RuntimeError("boom")

    queue = InProcessJobQueue(
        JobContext(mailer=OutboxMailer(tmp_path)), registry, max_attempts=2, retry_delay=0
    )
    await queue.start()
    yield queue, gate
    gate.set()
    await queue.close()


async def test_in_process_jobs_waiting_are_sampled_as_pending(gated_queue) -> None:
    queue, gate = gated_queue
    await queue.enqueue("metrics_gated")
    await queue.enqueue("metrics_gated")

    await sample_queue_depth(queue)
    assert value("jobs_in_process_pending") == 2

    gate.set()
    await queue.drain()
    await sample_queue_depth(queue)
    assert value("jobs_in_process_pending") == 0


async def test_a_job_that_succeeds_is_counted_completed(gated_queue) -> None:
    queue, gate = gated_queue
    before = value("jobs_completed_total", job_name="metrics_gated")
    gate.set()

    await queue.enqueue("metrics_gated")
    await queue.drain()

    assert value("jobs_completed_total", job_name="metrics_gated") == before + 1


async def test_a_failing_job_counts_its_retries_then_its_failure(gated_queue) -> None:
    queue, _ = gated_queue
    retries = value("job_retries_total", job_name="metrics_boom")
    failures = value("jobs_failed_total", job_name="metrics_boom")

    await queue.enqueue("metrics_boom")
    await queue.drain()

    assert value("job_retries_total", job_name="metrics_boom") == retries + 1
    assert value("jobs_failed_total", job_name="metrics_boom") == failures + 1


@requires_redis
async def test_jobs_waiting_in_the_saq_queue_are_sampled_as_its_depth(tmp_path: Path) -> None:
    registry = JobRegistry()

    @registry.job("metrics_noop")
    async def noop(ctx: JobContext) -> None:
        pass

    assert REDIS_URL is not None
    name = f"metrics-{uuid.uuid4().hex[:12]}"
    queue = SaqJobQueue(REDIS_URL, registry=registry, queue_name=name)
    await queue.start()
    try:
        for _ in range(3):  # no worker runs them
            await queue.enqueue("metrics_noop")

        await sample_queue_depth(queue)

        assert value("job_queue_depth", queue=name) == 3
    finally:
        await queue.queue.redis.delete(*await queue.queue.redis.keys(f"saq:{name}*"))
        await queue.close()


# --- the database pool ------------------------------------------------------------------


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite only")
async def test_sqlite_has_no_pool_to_sample(db: None) -> None:
    assert pool_usage() is None


@requires_postgres
async def test_the_pool_counts_connections_in_use_idle_and_waiting(db: None) -> None:
    pool = connections.get("default")._pool
    size = pool.get_max_size()
    held = [await pool.acquire() for _ in range(size)]

    async def acquire() -> object:
        return await pool.acquire()

    waiter = asyncio.create_task(acquire())
    try:
        await eventually(lambda: waiting(pool_usage()) == 1)  # the waiter is in the queue
        usage = pool_usage()
        assert usage is not None
        assert (usage.in_use, usage.idle, usage.max_size, usage.waiting) == (size, 0, size, 1)

        sample_pool()

        assert value("db_pool_connections", state="in_use") == size
        assert value("db_pool_waiting") == 1
        assert value("db_pool_max_connections") == size
    finally:
        for connection in held:
            await pool.release(connection)
        await pool.release(await waiter)
    released = pool_usage()
    assert released is not None
    assert (released.in_use, released.waiting) == (0, 0)


# --- the runtime ------------------------------------------------------------------------


async def test_a_blocked_event_loop_is_observed_as_lag(tmp_path: Path) -> None:
    queue = InProcessJobQueue(JobContext(mailer=OutboxMailer(tmp_path)), JobRegistry())
    sampler = RuntimeSampler(0.01, queue)
    count = value("event_loop_lag_seconds_count")
    total = value("event_loop_lag_seconds_sum")
    sampler.start()
    try:
        await asyncio.sleep(0)  # the sampler's timer is armed
        time.sleep(0.2)  # noqa: ASYNC251 - the point: nothing else runs meanwhile
        await eventually(lambda: value("event_loop_lag_seconds_count") > count)
    finally:
        await sampler.stop()

    # The timer due 10 ms after it was armed ran no earlier than the 200 ms block ended.
    assert value("event_loop_lag_seconds_sum") - total >= 0.15


async def test_a_garbage_collection_is_observed_as_a_pause() -> None:
    observe_gc_pauses()
    before = value("python_gc_pause_seconds_count", generation="2")

    gc.collect()
    drain_gc_pauses()

    assert value("python_gc_pause_seconds_count", generation="2") == before + 1


def test_the_process_figures_come_from_the_process_collector() -> None:
    assert value("process_resident_memory_bytes") > 0
    assert value("process_open_fds") > 0
    assert value("process_cpu_seconds_total") > 0
    assert process_mirror() is None  # one process: read at scrape time, nothing to copy


async def test_the_exposition_declares_every_family_of_the_registry(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/metrics")

    exposed = {family.name for family in text_string_to_metric_families(response.text)}
    declared = {family.name for family in REGISTRY.collect()}
    assert declared <= exposed, declared - exposed

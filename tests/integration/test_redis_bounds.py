"""The job worker's and the CLI's Redis clients are bounded: against a Redis that refuses
connections (a closed local port) or accepts them and never answers (a black hole), every
call fails within the bounds of services/redis_pools.py and says where and why."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from server.cli import CACHED_RESPONSES_KEPT, forget_cached_responses
from services.jobs.saq_queue import WorkerQueue, worker_queue
from services.jobs.worker import run_worker
from services.redis_pools import RedisUnreachable
from tests.blackhole import blackhole
from tests.conftest import REDIS_URL, make_settings, requires_redis
from tests.e2e.conftest import free_port
from tests.redis_server import RedisServer
from tests.unit.test_cli import run_cli

# A guard against a hang (the raw clients waited forever on a black hole), not a timing.
HANG_GUARD_SECONDS = 30


def closed_port_url() -> str:
    return f"redis://127.0.0.1:{free_port()}/14"  # nothing listens there


async def test_forget_cached_responses_says_a_closed_port_is_unreachable() -> None:
    url = closed_port_url()
    with pytest.raises(RedisUnreachable, match=f"Redis at {url} is unreachable: ConnectionError"):
        await forget_cached_responses(make_settings(redis_url=url))


async def test_forget_cached_responses_gives_up_on_a_redis_that_never_answers() -> None:
    with blackhole() as port:
        settings = make_settings(redis_url=f"redis://127.0.0.1:{port}/14")
        async with asyncio.timeout(HANG_GUARD_SECONDS):
            with pytest.raises(RedisUnreachable, match="TimeoutError"):
                await forget_cached_responses(settings)


async def test_the_worker_refuses_to_start_saying_redis_is_unreachable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = closed_port_url()
    with pytest.raises(RedisUnreachable):
        await run_worker(make_settings(redis_url=url))
    [record] = [r for r in caplog.records if r.name == "agora.jobs"]
    assert record.levelno == logging.ERROR
    assert record.getMessage().startswith(f"job worker cannot start: Redis at {url} is")


async def test_the_worker_gives_up_on_a_redis_that_never_answers() -> None:
    with blackhole() as port:
        settings = make_settings(redis_url=f"redis://127.0.0.1:{port}/14")
        async with asyncio.timeout(HANG_GUARD_SECONDS):
            with pytest.raises(RedisUnreachable, match="TimeoutError"):
                await run_worker(settings)


async def test_a_failed_dequeue_is_logged_and_answered_as_no_job(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """saq itself would swallow the error without a line and dequeue again at once."""
    url = closed_port_url()
    queue = worker_queue(make_settings(redis_url=url), url, "test-dequeue", concurrency=1)
    assert isinstance(queue, WorkerQueue)
    try:
        assert await queue.dequeue(timeout=1.0) is None
    finally:
        await queue.redis.aclose()
    assert "job worker: Redis unavailable (ConnectionError:" in caplog.text


def test_the_worker_command_exits_1_when_redis_does_not_answer(tmp_path: Path) -> None:
    url = closed_port_url()
    result = run_cli(
        "worker",
        cwd=tmp_path,
        env={"REDIS_URL": url, "DATABASE_URL": f"sqlite://{tmp_path / 'worker.sqlite3'}"},
    )
    assert result.returncode == 1
    assert f"job worker cannot start: Redis at {url} is unreachable" in result.stdout  # its log


def seed_with(tmp_path: Path, redis_url: str) -> tuple[int, str, str]:
    result = run_cli(
        "seed",
        "--scale",
        "10",
        cwd=tmp_path,
        env={
            "REDIS_URL": redis_url,
            "DATABASE_URL": f"sqlite://{tmp_path / 'seed.sqlite3'}",
            "ARGON2_TIME_COST": "1",
            "ARGON2_MEMORY_COST_KIB": "8192",
            "ARGON2_PARALLELISM": "1",
            "LOG_LEVEL": "WARNING",
        },
    )
    return result.returncode, result.stdout, result.stderr


def test_the_seed_command_exits_1_when_the_cached_responses_could_not_be_dropped(
    tmp_path: Path,
) -> None:
    url = closed_port_url()
    code, out, err = seed_with(tmp_path, url)
    assert code == 1
    assert "seeded " in out
    assert f"{CACHED_RESPONSES_KEPT}: Redis at {url} is unreachable" in err


@requires_redis
def test_the_seed_command_drops_the_cached_responses_in_a_real_redis(tmp_path: Path) -> None:
    assert REDIS_URL is not None
    code, out, err = seed_with(tmp_path, REDIS_URL)
    assert code == 0, err
    assert "seeded " in out
    assert err == ""


async def test_the_worker_queue_dequeues_again_once_redis_is_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = RedisServer()
    await server.start()
    queue = worker_queue(make_settings(redis_url=server.url), server.url, "test-back", 1)
    try:
        await server.kill()
        assert await queue.dequeue(timeout=1.0) is None
        assert "job worker: Redis unavailable" in caplog.text
        await server.start()  # empty, on the same port
        await queue.enqueue("noop")
        job = await queue.dequeue(timeout=1.0)
        assert job is not None
        assert job.function == "noop"
    finally:
        await queue.redis.aclose()
        await server.kill()

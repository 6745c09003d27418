"""PasswordPool: hashes run in worker threads, at most ``concurrency`` at once and ``queue``
waiting; more are refused at once; a slot is freed when its thread is done, not before."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from services.errors import RateLimited
from services.password_pool import PasswordPool
from services.passwords import PasswordHasher


class GatedHasher(PasswordHasher):
    """The real hasher with cheap parameters, held until the gate opens."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost_kib=8192, parallelism=1)
        self.gate = threading.Event()
        self.threads: set[str] = set()

    def hash(self, password: str) -> str:
        self.threads.add(threading.current_thread().name)
        self.gate.wait(10)
        return super().hash(password)


@pytest.fixture
def hasher() -> Iterator[GatedHasher]:
    hasher = GatedHasher()
    yield hasher
    hasher.gate.set()


async def until_admitted(pool: PasswordPool, count: int) -> None:
    async with asyncio.timeout(10):
        while pool.admitted != count:  # noqa: ASYNC110 - waits for worker threads
            await asyncio.sleep(0.001)


async def test_hashes_run_in_worker_threads_and_verify(hasher: GatedHasher):
    hasher.gate.set()
    pool = PasswordPool(hasher, concurrency=2, queue=0)
    try:
        password_hash = await pool.hash("Sup3r-secret!")
        assert await pool.verify(password_hash, "Sup3r-secret!")
        assert not await pool.verify(password_hash, "wrong")
        assert not await pool.verify(None, "Sup3r-secret!")  # no account: never valid
    finally:
        pool.close()
    assert hasher.threads
    assert threading.main_thread().name not in hasher.threads


async def test_beyond_the_threads_and_the_queue_a_hash_is_refused_at_once(hasher: GatedHasher):
    pool = PasswordPool(hasher, concurrency=1, queue=2)
    admitted = [asyncio.create_task(pool.hash("p")) for _ in range(3)]
    await until_admitted(pool, 3)

    with pytest.raises(RateLimited) as refused:
        await pool.hash("p")

    assert refused.value.retry_after >= 1
    hasher.gate.set()
    assert len(await asyncio.gather(*admitted)) == 3
    assert pool.admitted == 0
    pool.close()


async def test_a_cancelled_caller_keeps_its_slot_until_its_thread_is_done(hasher: GatedHasher):
    pool = PasswordPool(hasher, concurrency=1, queue=0)
    caller = asyncio.create_task(pool.hash("p"))
    await until_admitted(pool, 1)

    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    with pytest.raises(RateLimited):  # the thread still hashes: no second one gets in
        await pool.hash("p")

    hasher.gate.set()
    await until_admitted(pool, 0)
    assert await pool.hash("p")
    pool.close()

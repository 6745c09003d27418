"""MemoryBucketStore: all-or-nothing takes, refill at the restore rate, refunds capped at
capacity, and a bounded number of buckets. The store against Redis is tested in
tests/integration/test_guard_rails.py."""

from __future__ import annotations

import asyncio

import pytest

from services import rate_limit
from services.rate_limit import BucketPolicy, BucketState, MemoryBucketStore
from tests.clock import FakeClock

POLICY = BucketPolicy(capacity=10, restore_rate=1.0)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(rate_limit, "time", fake)
    return fake


async def test_a_new_bucket_is_full():
    state = await MemoryBucketStore().peek("k", POLICY)
    assert state.allowed
    assert state.available == POLICY.capacity


async def test_take_removes_the_amount(clock: FakeClock):
    store = MemoryBucketStore()
    state = await store.take("k", 4, POLICY)
    assert state.allowed
    assert state.available == 6
    assert state.requested == 4


async def test_take_is_never_partial(clock: FakeClock):
    store = MemoryBucketStore()
    await store.take("k", 7, POLICY)
    refused = await store.take("k", 4, POLICY)
    assert not refused.allowed
    assert refused.available == 3  # nothing was taken
    assert (await store.take("k", 3, POLICY)).allowed
    assert (await store.peek("k", POLICY)).available == 0


async def test_take_of_exactly_what_is_left_is_allowed(clock: FakeClock):
    store = MemoryBucketStore()
    state = await store.take("k", POLICY.capacity, POLICY)
    assert state.allowed
    assert state.available == 0


async def test_take_more_than_capacity_is_refused(clock: FakeClock):
    store = MemoryBucketStore()
    state = await store.take("k", POLICY.capacity + 1, POLICY)
    assert not state.allowed
    assert state.available == POLICY.capacity


async def test_refill_at_the_restore_rate(clock: FakeClock):
    store = MemoryBucketStore()
    policy = BucketPolicy(capacity=10, restore_rate=2.0)
    await store.take("k", 10, policy)
    clock.now += 1.5
    assert (await store.peek("k", policy)).available == pytest.approx(3.0)
    assert not (await store.take("k", 4, policy)).allowed
    clock.now += 0.5
    assert (await store.take("k", 4, policy)).allowed


async def test_refill_stops_at_capacity(clock: FakeClock):
    store = MemoryBucketStore()
    await store.take("k", 5, POLICY)
    clock.now += 3600
    assert (await store.peek("k", POLICY)).available == POLICY.capacity


async def test_refill_over_real_time():
    store = MemoryBucketStore()
    policy = BucketPolicy(capacity=5, restore_rate=100.0)
    assert (await store.take("k", 5, policy)).allowed
    before = await store.peek("k", policy)
    await asyncio.sleep(0.06)
    after = await store.peek("k", policy)
    assert after.available > before.available
    await asyncio.sleep(0.02)
    assert (await store.take("k", 5, policy)).allowed


async def test_retry_after_is_the_time_to_refill_the_missing_amount(clock: FakeClock):
    store = MemoryBucketStore()
    policy = BucketPolicy(capacity=10, restore_rate=0.5)
    await store.take("k", 9, policy)
    refused = await store.take("k", 4, policy)
    assert not refused.allowed
    assert refused.retry_after == pytest.approx((4 - 1) / 0.5)
    clock.now += refused.retry_after
    assert (await store.take("k", 4, policy)).allowed


def test_retry_after_is_zero_when_allowed():
    assert BucketState(True, 3, POLICY, 2).retry_after == 0.0


async def test_give_back_returns_tokens(clock: FakeClock):
    store = MemoryBucketStore()
    await store.take("k", 8, POLICY)
    state = await store.give_back("k", 5, POLICY)
    assert state.allowed
    assert state.available == 7
    assert state.requested == 0


async def test_give_back_is_capped_at_capacity(clock: FakeClock):
    store = MemoryBucketStore()
    await store.take("k", 2, POLICY)
    state = await store.give_back("k", 50, POLICY)
    assert state.available == POLICY.capacity
    assert (await store.peek("k", POLICY)).available == POLICY.capacity


async def test_peek_changes_nothing(clock: FakeClock):
    store = MemoryBucketStore()
    await store.take("k", 3, POLICY)
    for _ in range(3):
        assert (await store.peek("k", POLICY)).available == 7


async def test_buckets_are_per_key(clock: FakeClock):
    store = MemoryBucketStore()
    await store.take("a", 10, POLICY)
    assert not (await store.take("a", 1, POLICY)).allowed
    assert (await store.take("b", 1, POLICY)).allowed


async def test_least_recently_used_bucket_is_dropped_past_max_keys(clock: FakeClock):
    store = MemoryBucketStore(max_keys=2)
    policy = BucketPolicy(capacity=1, restore_rate=0.001)
    await store.take("a", 1, policy)
    await store.take("b", 1, policy)
    await store.peek("a", policy)  # "a" is now more recent than "b"
    await store.take("c", 1, policy)  # a third key drops the least recently used: "b"
    assert not (await store.take("a", 1, policy)).allowed  # "a" is still remembered empty
    assert (await store.take("b", 1, policy)).allowed  # "b" came back full


async def test_store_never_holds_more_than_max_keys(clock: FakeClock):
    store = MemoryBucketStore(max_keys=3)
    policy = BucketPolicy(capacity=1, restore_rate=0.001)
    for index in range(10):
        await store.take(f"k{index}", 1, policy)
    # the three most recent are still empty, every older one came back full
    for index in (7, 8, 9):
        assert not (await store.take(f"k{index}", 1, policy)).allowed
    for index in range(7):
        assert (await store.peek(f"k{index}", policy)).available == 1

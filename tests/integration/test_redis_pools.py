"""Bounded Redis pools: a burst of calls shares a few connections and waits for them, and a
timed-out cache call says what timed out."""

from __future__ import annotations

import asyncio
import logging
import uuid

import pytest
from redis.asyncio import Redis

from models.user import User
from services.cache import ModelCache
from services.rate_limit import BucketPolicy, RedisBucketStore
from services.redis_pools import PoolBounds, bounded_client
from tests.blackhole import blackhole
from tests.conftest import REDIS_URL, make_settings, requires_redis

BURST = 300


async def connections_named(name: str) -> int:
    """Connections Redis has open right now under the client name ``name``."""
    assert REDIS_URL is not None
    observer = Redis.from_url(REDIS_URL)
    try:
        clients = await observer.client_list()
    finally:
        await observer.aclose()
    return sum(client["name"] == name for client in clients)


@requires_redis
async def test_a_burst_of_cache_lookups_shares_the_bounded_pool():
    name = f"test-cache-{uuid.uuid4().hex[:8]}"
    settings = make_settings(redis_cache_pool_max_connections=4)
    cache = ModelCache.from_settings(settings, namespace=f"{name}:", client_name=name)
    try:
        found = await asyncio.gather(
            *(cache.get_models("users", User, [number]) for number in range(BURST))
        )
        assert found == [{}] * BURST  # every lookup answered (misses), none failed
        assert 1 <= await connections_named(name) <= 4
    finally:
        await cache.close()


@requires_redis
async def test_a_burst_of_bucket_takes_shares_the_bounded_shared_pool():
    assert REDIS_URL is not None
    name = f"test-shared-{uuid.uuid4().hex[:8]}"
    redis = bounded_client(
        REDIS_URL, PoolBounds(max_connections=4, wait_seconds=2), client_name=name
    )
    buckets = RedisBucketStore(redis, prefix=f"{name}:")
    policy = BucketPolicy(capacity=10 * BURST, restore_rate=1)
    try:
        states = await asyncio.gather(
            *(buckets.take(f"client-{number % 10}", 1, policy) for number in range(BURST))
        )
        assert all(state.allowed for state in states)
        assert 1 <= await connections_named(name) <= 4
    finally:
        await redis.aclose()


async def test_a_cache_call_that_times_out_says_what_timed_out(caplog: pytest.LogCaptureFixture):
    with blackhole() as port:
        settings = make_settings(redis_url=f"redis://127.0.0.1:{port}/0")
        cache = ModelCache.from_settings(settings, namespace="timeouts:")
        with caplog.at_level(logging.WARNING, logger="services.cache"):
            assert await cache.get_models("users", User, [1, 2]) == {}
        await cache.close()
    messages = [record.getMessage() for record in caplog.records]
    assert "cache get of users:1, users:2 failed: timed out after 0.5 s" in messages

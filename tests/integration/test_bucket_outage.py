"""The cost bucket while Redis is down. Every replica falls back to a bucket of its own, so a
client's bucket there starts conservative: RATE_LIMIT_OUTAGE_FRACTION of the capacity,
refilled at the usual rate (a client that had emptied its shared bucket must not get a full
one on every replica). RATE_LIMIT_FAIL_CLOSED refuses instead: 503 SERVICE_UNAVAILABLE.
Attempt limits (logins) keep a full bucket, so an outage does not lock everyone out."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from redis.asyncio import Redis

from services import rate_limit
from services.errors import ServiceUnavailable
from services.rate_limit import BucketPolicy, OutagePolicy, RedisBucketStore
from services.throttle import AttemptLimiter
from tests.clock import FakeClock
from tests.conftest import AppFactory, graphql, requires_redis
from tests.redis_server import RedisServer

UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"
CONSERVATIVE = BucketPolicy(capacity=100, restore_rate=5.0, outage=OutagePolicy(0.1))
CLOSED = BucketPolicy(capacity=100, restore_rate=5.0, outage=OutagePolicy(fail_closed=True))


@pytest.fixture
async def down() -> AsyncIterator[RedisBucketStore]:
    """A bucket store whose Redis is unreachable."""
    redis = Redis.from_url(UNREACHABLE_REDIS, socket_connect_timeout=0.2)
    yield RedisBucketStore(redis, prefix=f"test:{uuid.uuid4().hex}:bucket:")
    await redis.aclose()


async def test_a_bucket_starts_with_the_outage_fraction_of_its_capacity(
    down: RedisBucketStore,
):
    assert (await down.peek("cost:ip:a", CONSERVATIVE)).available == pytest.approx(10, abs=0.1)
    assert not (await down.take("cost:ip:a", 11, CONSERVATIVE)).allowed
    assert (await down.take("cost:ip:a", 10, CONSERVATIVE)).allowed


async def test_an_outage_bucket_refills_at_the_usual_rate(
    down: RedisBucketStore, monkeypatch: pytest.MonkeyPatch
):
    clock = FakeClock()
    monkeypatch.setattr(rate_limit, "time", clock)
    await down.take("cost:ip:b", 10, CONSERVATIVE)
    clock.now += 2

    assert (await down.peek("cost:ip:b", CONSERVATIVE)).available == pytest.approx(10)
    clock.now += 60
    assert (await down.peek("cost:ip:b", CONSERVATIVE)).available == 100


async def test_fail_closed_refuses_to_take_with_service_unavailable(down: RedisBucketStore):
    with pytest.raises(ServiceUnavailable) as refused:
        await down.take("cost:ip:c", 1, CLOSED)

    assert refused.value.headers["Retry-After"] == str(refused.value.retry_after)
    # A refund or a look lets nothing through: they answer, with the budget unknown (0).
    assert (await down.give_back("cost:ip:c", 1, CLOSED)).available == 0
    assert (await down.peek("cost:ip:c", CLOSED)).available == 0


async def test_attempt_limits_keep_a_full_bucket_during_an_outage(down: RedisBucketStore):
    logins = AttemptLimiter(down, "login", max_attempts=5, window_seconds=900)
    for _ in range(5):
        await logins.check_and_count("ada@example.com", "198.51.100.1")


async def test_the_app_answers_from_a_conservative_bucket_while_redis_is_down(
    client_factory: AppFactory,
):
    client = client_factory(
        redis_url=UNREACHABLE_REDIS, rate_limit_capacity=2000, rate_limit_outage_fraction=0.1
    )
    response = await graphql(client, "{ __typename }")

    assert response.status_code == 200
    assert response.json()["data"] == {"__typename": "Query"}
    throttle = response.json()["extensions"]["cost"]["throttleStatus"]
    assert throttle["currentlyAvailable"] == 199  # 10% of 2000, less this query's 1


async def test_the_app_fails_closed_with_503_when_so_configured(client_factory: AppFactory):
    client: httpx.AsyncClient = client_factory(
        redis_url=UNREACHABLE_REDIS, rate_limit_fail_closed=True
    )
    response = await graphql(client, "{ __typename }")

    assert response.status_code == 503
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert response.headers["retry-after"] == str(error["extensions"]["retryAfter"])
    assert "requestId" in response.json()["extensions"]


@requires_redis
async def test_each_outage_starts_conservative_even_after_redis_came_back():
    """The in-process buckets are forgotten once Redis answers again: a bucket from an earlier
    outage would have refilled meanwhile, which is the full bucket this rule is against."""
    server = RedisServer()
    await server.start()
    redis = Redis.from_url(server.url, socket_connect_timeout=0.2, socket_timeout=0.2)
    store = RedisBucketStore(redis)
    policy = BucketPolicy(capacity=100, restore_rate=0.001, outage=OutagePolicy(0.1))
    try:
        await store.take("cost:ip:d", 100, policy)  # emptied in Redis
        await server.kill()
        assert (await store.take("cost:ip:d", 5, policy)).allowed  # 10 to start with
        await server.start()  # empty: Redis forgot the bucket, as after a failover
        assert (await store.take("cost:ip:d", 1, policy)).allowed
        await server.kill()

        assert (await store.peek("cost:ip:d", policy)).available == pytest.approx(10, abs=0.1)
    finally:
        await redis.aclose()
        await server.kill()

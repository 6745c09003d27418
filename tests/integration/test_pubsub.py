"""Both pub/sub backends: delivery, shared event objects, slow subscribers, draining on
close; with Redis also every replica receiving, reconnecting, and publish faults."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from core.metrics import DEPENDENCY_FAILURES
from services.pubsub import InProcessPubSub, RedisPubSub, build_pubsub
from tests.conftest import REDIS_URL, make_settings, requires_redis


class Inbox:
    """Reads a subscription in a task, so a test can wait with a timeout without
    cancelling the subscription's iterator (which would end it)."""

    def __init__(self, messages: AsyncIterator[dict[str, Any]]) -> None:
        self.received: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._task = asyncio.create_task(self._read(messages))

    async def _read(self, messages: AsyncIterator[dict[str, Any]]) -> None:
        async for message in messages:
            self.received.put_nowait(message)

    async def next(self, seconds: float = 5.0) -> dict[str, Any]:
        async with asyncio.timeout(seconds):
            return await self.received.get()

    async def nothing(self, seconds: float = 0.2) -> bool:
        try:
            message = await self.next(seconds)
        except TimeoutError:
            return True
        raise AssertionError(f"unexpected {message}")

    async def all_until_end(self) -> list[dict[str, Any]]:
        async with asyncio.timeout(5):
            await self._task
        return [self.received.get_nowait() for _ in range(self.received.qsize())]

    def stop(self) -> None:
        self._task.cancel()


def failures(operation: str) -> float:
    return DEPENDENCY_FAILURES.labels("redis", operation)._value.get()  # type: ignore[no-any-return]


# --- in-process --------------------------------------------------------------------------


async def test_in_process_delivers_to_every_subscriber_of_the_topic_only():
    pubsub = InProcessPubSub()
    async with (
        pubsub.subscribe("a") as first,
        pubsub.subscribe("a") as second,
        pubsub.subscribe("b") as other,
    ):
        inboxes = Inbox(first), Inbox(second), Inbox(other)
        assert pubsub.subscriber_count("a") == 2
        await pubsub.publish("a", {"id": 1})

        one, two = await inboxes[0].next(), await inboxes[1].next()
        assert one == two == {"id": 1}
        assert one is two  # one object per event: subscribers share the work it names
        assert await inboxes[2].nothing()
        for inbox in inboxes:
            inbox.stop()
    assert pubsub.subscriber_count("a") == 0


async def test_in_process_makes_one_object_per_publish():
    pubsub = InProcessPubSub()
    message = {"id": 1}
    async with pubsub.subscribe("a") as messages:
        await pubsub.publish("a", message)
        message["id"] = 2
        await pubsub.publish("a", message)

        first, second = await anext(messages), await anext(messages)
    assert (first, second) == ({"id": 1}, {"id": 2})
    assert first is not second


async def test_a_slow_subscriber_loses_its_oldest_events_and_blocks_nobody():
    pubsub = InProcessPubSub(queue_size=3)
    async with pubsub.subscribe("a") as messages:
        for number in range(5):
            await pubsub.publish("a", {"n": number})

        received = [await anext(messages) for _ in range(3)]
    assert [message["n"] for message in received] == [2, 3, 4]


async def test_close_lets_subscribers_drain_what_is_queued_then_ends_them():
    pubsub = InProcessPubSub()
    async with pubsub.subscribe("a") as messages:
        await pubsub.publish("a", {"n": 1})
        await pubsub.publish("a", {"n": 2})
        await pubsub.close()
        await pubsub.publish("a", {"n": 3})  # after close: dropped

        received = [message["n"] async for message in messages]
    assert received == [1, 2]
    async with pubsub.subscribe("a") as late:
        assert [message async for message in late] == []


async def test_build_pubsub_follows_redis_url():
    assert isinstance(build_pubsub(make_settings(redis_url=None), None), InProcessPubSub)
    redis = Redis.from_url("redis://127.0.0.1:6379/15")
    settings = make_settings(redis_url="redis://127.0.0.1:6379/15")
    assert isinstance(build_pubsub(settings, redis), RedisPubSub)
    await redis.aclose()


# --- Redis -------------------------------------------------------------------------------


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    assert REDIS_URL is not None
    client = Redis.from_url(REDIS_URL, socket_timeout=0.5)
    yield client
    await client.aclose()


@pytest.fixture
async def replicas(redis: Redis) -> AsyncIterator[Any]:
    """Build RedisPubSub instances on one prefix, as the replicas of the API have."""
    prefix = f"test:{uuid.uuid4().hex}:events:"
    built: list[RedisPubSub] = []

    def build(**options: Any) -> RedisPubSub:
        assert REDIS_URL is not None
        pubsub = RedisPubSub(redis, REDIS_URL, prefix=prefix, **options)
        built.append(pubsub)
        return pubsub

    yield build
    for pubsub in built:
        await pubsub.close()


@requires_redis
async def test_redis_delivers_an_event_to_subscribers_on_every_replica(replicas):
    first, second = replicas(), replicas()
    async with (
        first.subscribe("post.published") as on_first,
        first.subscribe("post.published") as also_on_first,
        second.subscribe("post.published") as on_second,
        second.subscribe("other") as unrelated,
    ):
        inboxes = [Inbox(on_first), Inbox(also_on_first), Inbox(on_second)]
        others = Inbox(unrelated)
        await first.publish("post.published", {"id": 7, "title": "Zürich ✓"})

        received = [await inbox.next() for inbox in inboxes]
        assert received == [{"id": 7, "title": "Zürich ✓"}] * 3
        assert received[0] is received[1]  # decoded once per replica
        assert await others.nothing()
        for inbox in [*inboxes, others]:
            inbox.stop()


@requires_redis
async def test_redis_unsubscribes_when_the_last_local_subscriber_leaves(replicas, redis):
    pubsub = replicas()
    channel = f"{pubsub._prefix}solo"
    async with pubsub.subscribe("solo"):
        assert (await redis.pubsub_numsub(channel))[0][1] == 1
    async with asyncio.timeout(5):
        while (await redis.pubsub_numsub(channel))[0][1] != 0:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    async with pubsub.subscribe("solo") as messages:  # and subscribes again
        await pubsub.publish("solo", {"n": 1})
        assert await anext(messages) == {"n": 1}


@requires_redis
async def test_redis_subscriber_reconnects_and_subscribes_again(replicas, redis):
    name = f"agora-test-{uuid.uuid4().hex[:8]}"
    subscriber, publisher = replicas(client_name=name), replicas()
    async with subscriber.subscribe("t") as messages:
        inbox = Inbox(messages)
        await publisher.publish("t", {"n": 1})
        assert await inbox.next() == {"n": 1}
        faults_before = failures("subscribe")

        ours = [client["id"] for client in await redis.client_list() if client["name"] == name]
        assert len(ours) == 1
        await redis.execute_command("CLIENT", "KILL", "ID", ours[0])

        async with asyncio.timeout(10):  # the reader notices, reconnects, resubscribes
            while True:
                await publisher.publish("t", {"n": 2})
                try:
                    if await inbox.next(0.3) == {"n": 2}:
                        break
                except TimeoutError:
                    continue
        assert failures("subscribe") > faults_before
        inbox.stop()


@requires_redis
async def test_a_failing_publish_is_counted_and_still_reaches_this_process():
    assert REDIS_URL is not None
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2, socket_timeout=0.2)
    pubsub = RedisPubSub(dead, REDIS_URL, prefix=f"test:{uuid.uuid4().hex}:")
    try:
        async with pubsub.subscribe("t") as messages:
            before = failures("publish")

            await pubsub.publish("t", {"n": 1})  # does not raise

            assert failures("publish") == before + 1
            assert await anext(messages) == {"n": 1}
    finally:
        await pubsub.close()
        await dead.aclose()


@requires_redis
async def test_redis_close_drains_then_ends_subscribers(replicas):
    first, second = replicas(), replicas()
    async with first.subscribe("t") as unread, first.subscribe("t") as watched:
        inbox = Inbox(watched)
        await second.publish("t", {"n": 1})
        await second.publish("t", {"n": 2})
        assert [await inbox.next(), await inbox.next()] == [{"n": 1}, {"n": 2}]
        # Both are queued for `unread` too (one delivery per replica and event).

        await first.close()

        assert [message async for message in unread] == [{"n": 1}, {"n": 2}]


@requires_redis
async def test_a_closed_replica_still_publishes_to_the_others(replicas):
    """Draining at shutdown stops local delivery, not the replica's last mutations' events."""
    draining, other = replicas(), replicas()
    async with other.subscribe("t") as messages:
        await draining.close()

        await draining.publish("t", {"n": 1})

        async with asyncio.timeout(5):
            assert await anext(messages) == {"n": 1}

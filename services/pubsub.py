"""Publish/subscribe for real-time events: in-process by default; Redis pub/sub with
``REDIS_URL`` so an event published by any replica reaches subscribers on every replica.

Messages are JSON-serialisable dicts; topics are strings such as ``post.published`` or
``notifications:42``. Publish only after the transaction that caused the event commits.

Delivery is at most once: a subscriber too slow to keep up loses its oldest events, and an
event published while Redis is unreachable reaches only the publishing process.

Each published event is delivered to all of this process's subscribers of its topic as ONE
dict object: treat it as read-only (subscription resolvers use its identity to load what the
event names once per process, however many subscribers receive it).

``close()`` stops delivery to this process without dropping what is queued: each
subscriber's iterator first yields the events already in its queue, then ends (clean
shutdown flushes them to clients). Publishing to Redis goes on until the client closes.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import TYPE_CHECKING, Any, Protocol

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from core import tracing
from core.faults import dependency_failed, fault_text
from services.queues import DropOldestQueue
from services.redis_pools import SOCKET_TIMEOUT_SECONDS, PoolBounds, bounded_client

if TYPE_CHECKING:
    from redis.asyncio.client import PubSub as RedisPubSubConnection

    from core.settings import Settings

logger = logging.getLogger(__name__)

Message = dict[str, Any]

DEFAULT_QUEUE_SIZE = 256
PUBLISH_TIMEOUT_SECONDS = 1.0
SUBSCRIBE_CONFIRM_TIMEOUT_SECONDS = 2.0
READ_TIMEOUT_SECONDS = 5.0
RECONNECT_DELAYS_SECONDS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0)
# The subscriber's client: its one connection (no request waits on it: a longer connect).
SUBSCRIBER_CONNECT_TIMEOUT_SECONDS = 2.0
SUBSCRIBER_BOUNDS = PoolBounds(max_connections=1, wait_seconds=SOCKET_TIMEOUT_SECONDS)


TRACE_KEY = "trace"
"""A message's field carrying the publisher's trace context (tracing on only)."""


def with_trace(message: Message) -> Message:
    """A copy of ``message`` with the publishing request's trace context (``TRACE_KEY``),
    from which each delivery's span is linked (resolvers/subscriptions.py)."""
    if tracing.enabled and (headers := tracing.carrier()):
        return {**message, TRACE_KEY: headers}
    return dict(message)


class PubSub(Protocol):
    async def publish(self, topic: str, message: Message) -> None:
        """Deliver ``message`` to every current subscriber of ``topic`` (fire and forget).
        Never raises: a broker fault is logged and counted."""

    def subscribe(self, topic: str) -> Any:
        """``async with pubsub.subscribe(topic) as messages: async for m in messages``."""

    async def close(self) -> None:
        """Stop delivering; subscribers drain what is queued, then their iterators end."""


class _LocalFanOut:
    """The subscribers of this process by topic; what both backends share."""

    def __init__(self, queue_size: int) -> None:
        self._queue_size = queue_size
        # One queue per subscription, bounded by dropping the oldest event.
        self._subscribers: dict[str, set[DropOldestQueue[Message]]] = defaultdict(set)
        self._closed = False

    def _deliver(self, topic: str, message: Message) -> None:
        if self._closed:
            return
        for subscriber in list(self._subscribers.get(topic, ())):
            if subscriber.put(message):
                logger.warning("subscriber queue full on %s: dropped the oldest event", topic)

    async def _first_subscriber(self, topic: str) -> None:
        """A topic gained its first local subscriber."""

    async def _last_unsubscribed(self, topic: str) -> None:
        """A topic lost its last local subscriber."""

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[AsyncIterator[Message]]:
        subscriber: DropOldestQueue[Message] = DropOldestQueue(self._queue_size)
        if self._closed:
            subscriber.end()
            yield subscriber.items()
            return
        first = not self._subscribers.get(topic)
        self._subscribers[topic].add(subscriber)
        try:
            if first:
                await self._first_subscriber(topic)
            yield subscriber.items()
        finally:
            subscribers = self._subscribers.get(topic)
            if subscribers is not None:
                subscribers.discard(subscriber)
                if not subscribers:
                    del self._subscribers[topic]
                    if not self._closed:
                        await self._last_unsubscribed(topic)

    def subscriber_count(self, topic: str) -> int:
        """Subscribers of ``topic`` in this process."""
        return len(self._subscribers.get(topic, ()))

    def _end_all(self) -> None:
        self._closed = True
        for subscribers in self._subscribers.values():
            for subscriber in subscribers:
                subscriber.end()


class InProcessPubSub(_LocalFanOut):
    """Subscribers of this process only (the embedded default)."""

    def __init__(self, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        super().__init__(queue_size)

    async def publish(self, topic: str, message: Message) -> None:
        # A copy per publish: one object per event, whatever the caller does with its dict.
        self._deliver(topic, with_trace(message))

    async def close(self) -> None:
        self._end_all()


class RedisPubSub(_LocalFanOut):
    """Redis pub/sub: every replica receives every event of the topics it has subscribers
    for. Publishing uses the process's shared Redis client; receiving uses one dedicated
    connection (SUBSCRIBE per topic with local subscribers), read by one task that
    reconnects with backoff and subscribes again to every topic still wanted. Each event
    is decoded once and handed to the local subscribers of its topic."""

    def __init__(
        self,
        publisher: Redis,
        url: str,
        prefix: str = "agora:events:",
        queue_size: int = DEFAULT_QUEUE_SIZE,
        client_name: str = "agora-events",
    ) -> None:
        super().__init__(queue_size)
        self._publisher = publisher
        self._url = url
        self._prefix = prefix
        self._client_name = client_name
        self._control = f"{prefix}__control__"  # keeps the connection subscribed when idle
        self._client: Redis | None = None
        self._connection: RedisPubSubConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()  # orders SUBSCRIBE/UNSUBSCRIBE on the connection
        self._subscribed: set[str] = set()  # channels subscribed on the current connection
        self._confirmed: dict[str, asyncio.Event] = {}  # set when Redis confirmed them
        self._connected = asyncio.Event()

    def _channel(self, topic: str) -> str:
        return self._prefix + topic

    async def publish(self, topic: str, message: Message) -> None:
        # Still published after close(): a draining replica's last mutations must reach the
        # other replicas (the shared client closes with the container).
        data = orjson.dumps(with_trace(message))
        try:
            async with asyncio.timeout(PUBLISH_TIMEOUT_SECONDS):
                await self._publisher.publish(self._channel(topic), data)
        except (RedisError, OSError, TimeoutError) as exc:
            dependency_failed(
                logger,
                "redis",
                "publish",
                "redis publish on %s failed (%s): delivered to this process only",
                topic,
                fault_text(exc, PUBLISH_TIMEOUT_SECONDS),
            )
            # The other replicas miss it; this one's subscribers still get it.
            self._deliver(topic, orjson.loads(data))

    async def _first_subscriber(self, topic: str) -> None:
        await self._wanted_changed(topic)

    async def _last_unsubscribed(self, topic: str) -> None:
        await self._wanted_changed(topic)

    async def _wanted_changed(self, topic: str) -> None:
        """SUBSCRIBE or UNSUBSCRIBE so that Redis matches the local subscribers, and return
        once a wanted channel is confirmed: an event published after that is not missed.
        Decided under the lock from the current state, so racing calls cannot leave a
        channel unsubscribed while it has local subscribers."""
        self._ensure_reader()
        channel = self._channel(topic)
        if self._subscribers.get(topic) and not self._connected.is_set():
            with suppress(TimeoutError):  # Redis down: the reader subscribes when it is back
                async with asyncio.timeout(SUBSCRIBE_CONFIRM_TIMEOUT_SECONDS):
                    await self._connected.wait()
        async with self._lock:
            wanted = bool(self._subscribers.get(topic)) and not self._closed
            connection = self._connection
            if connection is None or not self._connected.is_set():
                return  # the reader subscribes to every wanted topic when it connects
            try:
                if wanted and channel not in self._subscribed:
                    self._subscribed.add(channel)
                    self._confirmed[channel] = asyncio.Event()
                    await connection.subscribe(channel)
                elif not wanted and channel in self._subscribed:
                    self._subscribed.discard(channel)
                    self._confirmed.pop(channel, None)
                    await connection.unsubscribe(channel)
            except (RedisError, OSError) as exc:
                dependency_failed(
                    logger,
                    "redis",
                    "subscribe",
                    "redis (un)subscribe on %s failed (%s)",
                    topic,
                    exc,
                )
                return
            confirmed = self._confirmed.get(channel) if wanted else None
        if confirmed is not None:
            with suppress(TimeoutError):
                async with asyncio.timeout(SUBSCRIBE_CONFIRM_TIMEOUT_SECONDS):
                    await confirmed.wait()

    def _ensure_reader(self) -> None:
        if self._reader is None and not self._closed:
            self._reader = asyncio.create_task(self._read_forever(), name="redis-pubsub-reader")

    async def _read_forever(self) -> None:
        failures = 0
        delay = RECONNECT_DELAYS_SECONDS[0]
        while not self._closed:
            try:
                await self._connect()
                failures = 0
                await self._read()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the reader must outlive any fault
                delay = RECONNECT_DELAYS_SECONDS[min(failures, len(RECONNECT_DELAYS_SECONDS) - 1)]
                failures += 1
                dependency_failed(
                    logger,
                    "redis",
                    "subscribe",
                    "redis pub/sub connection lost (%s): retrying in %ss",
                    exc,
                    delay,
                )
            await self._disconnect()
            if not self._closed:
                await asyncio.sleep(delay)

    async def _connect(self) -> None:
        async with self._lock:
            # One connection, held by the subscription; every read of it passes its own
            # timeout (get_message), the socket timeout bounds the writes.
            self._client = bounded_client(
                self._url,
                SUBSCRIBER_BOUNDS,
                socket_connect_timeout=SUBSCRIBER_CONNECT_TIMEOUT_SECONDS,
                socket_keepalive=True,
                health_check_interval=15,
                client_name=self._client_name,
            )
            self._connection = self._client.pubsub()
            channels = [self._channel(topic) for topic in self._subscribers]
            self._subscribed = set(channels)
            self._confirmed = {channel: asyncio.Event() for channel in channels}
            await self._connection.subscribe(self._control, *channels)
            self._connected.set()
        logger.info("redis pub/sub connected (%d topics)", len(channels))

    async def _read(self) -> None:
        connection = self._connection
        assert connection is not None
        prefix_length = len(self._prefix)
        while True:
            message = await connection.get_message(timeout=READ_TIMEOUT_SECONDS)
            if message is None:
                continue
            channel = message["channel"].decode()
            if message["type"] == "subscribe":
                if (confirmed := self._confirmed.get(channel)) is not None:
                    confirmed.set()
                continue
            if message["type"] != "message" or channel == self._control:
                continue
            try:
                event = orjson.loads(message["data"])
            except orjson.JSONDecodeError:
                logger.warning("dropped a malformed event on %s", channel)
                continue
            self._deliver(channel[prefix_length:], event)

    async def _disconnect(self) -> None:
        self._connected.clear()
        self._subscribed.clear()
        self._confirmed.clear()
        connection, client = self._connection, self._client
        self._connection = self._client = None
        with suppress(Exception):
            if connection is not None:
                await connection.aclose()  # type: ignore[no-untyped-call]
        with suppress(Exception):
            if client is not None:
                await client.aclose()

    async def close(self) -> None:
        if self._closed:
            return
        self._end_all()
        if self._reader is not None:
            self._reader.cancel()
            with suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        await self._disconnect()


def build_pubsub(settings: Settings, redis: Redis | None, prefix: str = "agora:events:") -> PubSub:
    """Redis pub/sub when ``REDIS_URL`` is set (``redis`` is the process's shared client,
    used for publishing), else the in-process broadcaster."""
    if settings.redis_url and redis is not None:
        return RedisPubSub(redis, settings.redis_url, prefix=prefix)
    return InProcessPubSub()

"""Publish/subscribe for real-time events: in-process by default; Redis pub/sub with
``REDIS_URL`` so an event published by any replica reaches subscribers on every replica.

Messages are JSON-serialisable dicts; topics are strings such as ``post.published`` or
``notifications:42``. Publish only after the transaction that caused the event commits.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

logger = logging.getLogger(__name__)

Message = dict[str, Any]


class PubSub(Protocol):
    async def publish(self, topic: str, message: Message) -> None:
        """Deliver ``message`` to every current subscriber of ``topic`` (fire and forget)."""

    def subscribe(self, topic: str) -> Any:
        """``async with pubsub.subscribe(topic) as messages: async for m in messages``."""

    async def close(self) -> None: ...


class InProcessPubSub:
    """Subscribers of this process only. Each subscriber has its own bounded queue; a
    subscriber too slow to keep up loses the oldest messages, never blocks publishers."""

    def __init__(self, queue_size: int = 256) -> None:
        self._queue_size = queue_size
        self._subscribers: dict[str, set[asyncio.Queue[Message]]] = defaultdict(set)

    async def publish(self, topic: str, message: Message) -> None:
        for queue in list(self._subscribers.get(topic, ())):
            if queue.full():
                queue.get_nowait()
                logger.warning("subscriber queue full on %s: dropped the oldest event", topic)
            queue.put_nowait(message)

    @asynccontextmanager
    async def subscribe(self, topic: str) -> AsyncIterator[AsyncIterator[Message]]:
        queue: asyncio.Queue[Message] = asyncio.Queue(self._queue_size)
        self._subscribers[topic].add(queue)

        async def messages() -> AsyncIterator[Message]:
            while True:
                yield await queue.get()

        try:
            yield messages()
        finally:
            self._subscribers[topic].discard(queue)
            if not self._subscribers[topic]:
                del self._subscribers[topic]

    def subscriber_count(self, topic: str) -> int:
        return len(self._subscribers.get(topic, ()))

    async def close(self) -> None:
        self._subscribers.clear()

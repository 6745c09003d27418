"""A queue between one fast producer and one consumer that may be slow (a subscriber)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")

_END: Any = object()  # queued after the last item


class DropOldestQueue(Generic[T]):
    """Bounded by dropping the oldest item, so that a slow consumer never blocks the
    producer; the underlying queue is unbounded so that the end marker always fits."""

    __slots__ = ("_ended", "_limit", "_on_drop", "_queue", "dropped")

    def __init__(self, limit: int, on_drop: Callable[[], object] | None = None) -> None:
        self._limit = limit
        # Called at each drop, as it happens: a consumer stuck on a slow socket takes
        # nothing, so a count kept by the consumer would show nothing until it left.
        self._on_drop = on_drop
        self._queue: asyncio.Queue[T] = asyncio.Queue()
        self.dropped = 0  # items dropped to make room, so far
        self._ended = False

    def put(self, item: T) -> bool:
        """Queue ``item``; True when the oldest item was dropped to make room for it."""
        full = self._queue.qsize() >= self._limit
        if full:
            self._queue.get_nowait()
            self.dropped += 1
            if self._on_drop is not None:
                self._on_drop()
        self._queue.put_nowait(item)
        return full

    def pending(self) -> int:
        """Items queued and not yet taken."""
        queued = self._queue.qsize()
        return queued - 1 if self._ended and queued else queued  # the end marker is last

    def end(self) -> None:
        """The consumer gets what is queued, then its iterator ends."""
        self._ended = True
        self._queue.put_nowait(_END)

    async def items(self) -> AsyncIterator[T]:
        while (item := await self._queue.get()) is not _END:
            yield item

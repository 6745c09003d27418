"""DropOldestQueue: the queue of every subscriber (pub/sub topics and shared websocket
subscriptions), bounded by dropping the oldest item."""

from __future__ import annotations

from services.queues import DropOldestQueue


async def drained(queue: DropOldestQueue[int]) -> list[int]:
    queue.end()
    return [item async for item in queue.items()]


async def test_a_full_queue_drops_its_oldest_item_and_says_so() -> None:
    queue: DropOldestQueue[int] = DropOldestQueue(2)
    assert [queue.put(1), queue.put(2), queue.put(3)] == [False, False, True]
    assert await drained(queue) == [2, 3]


async def test_the_end_marker_fits_in_a_full_queue_after_what_is_queued() -> None:
    queue: DropOldestQueue[int] = DropOldestQueue(1)
    queue.put(1)
    assert await drained(queue) == [1]


async def test_each_drop_is_reported_as_it_happens() -> None:
    drops: list[None] = []
    queue: DropOldestQueue[int] = DropOldestQueue(1, on_drop=lambda: drops.append(None))
    queue.put(1)
    assert drops == []
    queue.put(2)
    queue.put(3)
    assert len(drops) == queue.dropped == 2

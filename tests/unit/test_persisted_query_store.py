"""The in-process store of automatic persisted queries: bounded in entries (least recently
used dropped first) and in time (each document kept APQ_TTL_SECONDS)."""

from __future__ import annotations

from services.persisted_queries import MemoryPersistedQueries
from tests.clock import FakeClock


async def test_a_document_is_found_until_its_ttl_has_passed():
    clock = FakeClock()
    store = MemoryPersistedQueries(
        max_entries=10, ttl_seconds=60, max_document_bytes=1024, clock=clock
    )
    await store.put("a", "{ a }")

    clock.now += 59
    assert await store.get("a") == "{ a }"
    clock.now += 1
    assert await store.get("a") is None
    assert len(store) == 0


async def test_a_hit_does_not_extend_the_ttl():
    clock = FakeClock()
    store = MemoryPersistedQueries(
        max_entries=10, ttl_seconds=60, max_document_bytes=1024, clock=clock
    )
    await store.put("a", "{ a }")
    clock.now += 30
    await store.get("a")

    clock.now += 30

    assert await store.get("a") is None


async def test_the_least_recently_used_document_is_dropped_beyond_max_entries():
    store = MemoryPersistedQueries(max_entries=2, ttl_seconds=60, max_document_bytes=1024)
    await store.put("a", "{ a }")
    await store.put("b", "{ b }")
    await store.get("a")  # b is now the least recently used

    await store.put("c", "{ c }")

    assert len(store) == 2
    assert await store.get("b") is None
    assert await store.get("a") == "{ a }"
    assert await store.get("c") == "{ c }"


async def test_storing_a_document_again_renews_it():
    clock = FakeClock()
    store = MemoryPersistedQueries(
        max_entries=10, ttl_seconds=60, max_document_bytes=1024, clock=clock
    )
    await store.put("a", "{ a }")
    clock.now += 50
    await store.put("a", "{ a }")

    clock.now += 50

    assert await store.get("a") == "{ a }"

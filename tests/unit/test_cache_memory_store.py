"""The in-process cache's direct read of aiocache's memory store (services/cache.py,
``_memory_namespace``) gives what ``multi_get`` gives: these tests pin the aiocache version's
behaviour it relies on."""

from __future__ import annotations

import asyncio

from aiocache import Cache as AioCache
from aiocache.serializers import PickleSerializer

from services.cache import ModelCache
from tests.conftest import make_settings

NAMESPACE = "agora:cache:"


def memory_cache() -> ModelCache:
    return ModelCache.from_settings(make_settings(redis_url=None), namespace=NAMESPACE)


async def test_the_memory_store_read_gives_what_multi_get_gives():
    cache = memory_cache()
    await cache.backend.multi_set([("users:1", {"id": 1}), ("users:3", {"id": 3})], ttl=60)
    await cache.backend.set("products:2", {"id": 2})
    ids = [1, 2, 3, 4]

    direct = cache._memory_rows(NAMESPACE, "users", ids)

    assert direct == await cache.backend.multi_get([f"users:{pk}" for pk in ids])
    assert direct == [{"id": 1}, None, {"id": 3}, None]


async def test_the_memory_store_read_returns_the_stored_object_as_multi_get_does():
    cache = memory_cache()
    row = {"id": 1}
    await cache.backend.set("users:1", row)

    (direct,) = cache._memory_rows(NAMESPACE, "users", [1])

    assert direct is row
    assert (await cache.backend.multi_get(["users:1"]))[0] is row


async def test_an_expired_entry_is_gone_from_the_memory_store():
    cache = memory_cache()
    await cache.backend.set("users:1", {"id": 1}, ttl=0.01)
    # The loop runs timers in deadline order: the entry's expiry before this sleep's end.
    await asyncio.sleep(0.02)

    assert cache._memory_rows(NAMESPACE, "users", [1]) == [None]
    assert await cache.backend.multi_get(["users:1"]) == [None]


async def test_a_cleared_memory_store_is_read_afresh():
    cache = memory_cache()
    await cache.backend.set("users:1", {"id": 1})
    await cache.backend.clear()

    assert cache._memory_rows(NAMESPACE, "users", [1]) == [None]


def test_the_default_memory_backend_is_read_directly():
    assert memory_cache().memory_namespace == NAMESPACE


def test_a_redis_backend_is_never_read_directly():
    settings = make_settings(redis_url="redis://127.0.0.1:1/0")

    assert ModelCache.from_settings(settings).memory_namespace is None


def test_a_memory_backend_with_a_key_builder_is_never_read_directly():
    backend = AioCache(AioCache.MEMORY, key_builder=lambda key, namespace=None: f"x{key}")

    assert ModelCache(backend, make_settings()).memory_namespace is None


def test_a_memory_backend_with_a_serializer_is_never_read_directly():
    backend = AioCache(AioCache.MEMORY, namespace=NAMESPACE, serializer=PickleSerializer())

    assert ModelCache(backend, make_settings()).memory_namespace is None


def test_a_memory_backend_without_a_namespace_is_never_read_directly():
    backend = AioCache(AioCache.MEMORY)

    assert ModelCache(backend, make_settings()).memory_namespace is None

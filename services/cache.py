"""Cache-aside for hot reads: users and products by id, and the first pages of the
anonymous product list. aiocache's memory backend by default, Redis with ``REDIS_URL``.

A cache fault never fails a request: every call is guarded, logged, counted in
``dependency_failures_total`` and answered as a miss. Entries are plain dicts of a model's
column values (rebuilt into fresh model instances on every hit, so no request can mutate
another's object); list pages are keyed by a version number that any product change bumps.
Writers invalidate after their transaction commits; a read racing a commit can still put an
old row back, which the short TTLs bound.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit

import orjson
from aiocache import Cache as AioCache
from aiocache.backends.memory import SimpleMemoryCache
from aiocache.base import BaseCache
from aiocache.serializers import NullSerializer, PickleSerializer
from redis.asyncio import BlockingConnectionPool
from tortoise.models import Model

from core import shortcuts
from core.faults import dependency_failed, fault_text
from core.metrics import CACHE_LOOKUPS
from core.settings import Settings
from models.hydration import loaded_instance
from models.rows import models_by_ids
from services.redis_pools import PoolBounds

logger = logging.getLogger(__name__)


M = TypeVar("M", bound=Model)

# aiocache wraps every Redis call in ``asyncio.wait_for`` with this timeout (the wait for a
# pooled connection included).
CALL_TIMEOUT_SECONDS = 0.5


def _raw(value: Any) -> Any:
    return value


def _keys_text(keys: Sequence[str]) -> str:
    """The keys of a call, for its fault's log line (the first few)."""
    shown = ", ".join(keys[:3])
    return shown if len(keys) <= 3 else f"{shown} and {len(keys) - 3} more"


def _memory_namespace(backend: BaseCache) -> str | None:
    """The key prefix of an in-process backend whose ``multi_get`` is a plain read of its
    dict (``SimpleMemoryCache._cache``), None for any other backend.

    Fenced library internals (aiocache 0.12, tests/unit/test_cache_memory_store.py): its
    ``multi_get`` builds each key as ``namespace + key`` (the default key builder), runs no
    plugin, loads with the serializer (``NullSerializer``: the stored value itself) and reads
    ``_cache.get(key)``; an expired entry is deleted from ``_cache`` by its TTL timer. No public
    API reads many keys without those per-key steps."""
    if (
        type(backend) is SimpleMemoryCache
        and isinstance(backend.namespace, str)
        and getattr(backend.build_key, "__func__", None) is BaseCache._build_key
        and type(backend.serializer) is NullSerializer
        and not backend.plugins
    ):
        return backend.namespace
    return None


def model_row(model: Model) -> dict[str, Any]:
    return {column: getattr(model, column) for column in model._meta.fields_db_projection}


def rebuild_model(model_class: type[M], row: dict[str, Any]) -> M:
    """The instance a database read would give, from a cached row of values that are
    already Python values (``model_row``): no second conversion of every datetime and enum.
    tests/integration/test_cache.py pins it to the database-loaded instance."""
    return loaded_instance(model_class, row)


class ModelCache:
    def __init__(self, backend: BaseCache, settings: Settings) -> None:
        self.backend = backend
        self.memory_namespace = _memory_namespace(backend)
        self.ttls = {
            "users": settings.cache_ttl_users_seconds,
            "products": settings.cache_ttl_products_seconds,
            "product_pages": settings.cache_ttl_pages_seconds,
        }

    @classmethod
    def from_settings(
        cls, settings: Settings, namespace: str = "agora:cache:", client_name: str = "agora-cache"
    ) -> ModelCache:
        if settings.redis_url:
            url = urlsplit(settings.redis_url)
            bounds = PoolBounds.cache(settings)
            backend = AioCache(
                AioCache.REDIS,
                endpoint=url.hostname or "127.0.0.1",
                port=url.port or 6379,
                db=int(url.path.lstrip("/") or 0),
                password=url.password,
                namespace=namespace,
                # Pickle keeps datetimes and enums; the cache is as trusted as the database.
                serializer=PickleSerializer(),
                timeout=CALL_TIMEOUT_SECONDS,
                create_connection_timeout=CALL_TIMEOUT_SECONDS,
                # Bounded: a burst of lookups waits for a connection (within the call's
                # timeout) instead of opening one each (services/redis_pools.py).
                pool_max_size=bounds.max_connections,
                connection_pool_class=BlockingConnectionPool,
                connection_pool_kwargs={"timeout": bounds.wait_seconds, "client_name": client_name},
            )
        else:
            # In-process: nothing can hang. A timeout would wrap every call in
            # asyncio.wait_for, i.e. a task per cache call.
            backend = AioCache(AioCache.MEMORY, namespace=namespace, timeout=None)
        return cls(backend, settings)

    async def _guard(self, operation: str, call: Any, default: Any, what: str) -> Any:
        try:
            return await call
        except Exception as exc:  # noqa: BLE001 - a cache fault is a miss, never an error
            dependency_failed(
                logger,
                "cache",
                operation,
                "cache %s of %s failed: %s",
                operation,
                what,
                fault_text(exc, CALL_TIMEOUT_SECONDS),
            )
            return default

    # --- models by id -------------------------------------------------------------------

    async def get_models(self, kind: str, model_class: type[M], ids: Sequence[int]) -> dict[int, M]:
        if not ids:
            return {}
        if (
            shortcuts.enabled
            and self.memory_namespace is not None
            and os.environ.get("AIOCACHE_DISABLE") != "1"
        ):
            rows = self._memory_rows(self.memory_namespace, kind, ids)
        else:
            keys = [f"{kind}:{pk}" for pk in ids]
            rows = await self._guard(
                "get", self.backend.multi_get(keys), [None] * len(keys), _keys_text(keys)
            )
        found = {
            pk: rebuild_model(model_class, row) for pk, row in zip(ids, rows, strict=True) if row
        }
        CACHE_LOOKUPS.labels(kind, "hit").inc(len(found))
        CACHE_LOOKUPS.labels(kind, "miss").inc(len(ids) - len(found))
        return found

    def _memory_rows(self, namespace: str, kind: str, ids: Sequence[int]) -> list[Any]:
        """What ``multi_get`` gives on the in-process backend (``_memory_namespace``)."""
        store: dict[str, Any] = self.backend._cache
        prefix = f"{namespace}{kind}:"
        return [store.get(f"{prefix}{pk}") for pk in ids]

    async def put_models(self, kind: str, models: Iterable[Model]) -> None:
        pairs = [(f"{kind}:{model.pk}", model_row(model)) for model in models]
        if pairs:
            await self._guard(
                "set",
                self.backend.multi_set(pairs, ttl=self.ttls[kind]),
                None,
                _keys_text([key for key, _ in pairs]),
            )

    async def models_by_id(
        self, kind: str, model_class: type[M], ids: Sequence[int]
    ) -> list[M | None]:
        """Cache-aside batch load: the cached rows, the rest in one ``WHERE id IN`` query
        (then cached), in the order of ``ids`` (None for a missing row)."""
        found = await self.get_models(kind, model_class, ids)
        missing = [pk for pk in ids if pk not in found]
        if missing:
            loaded = await models_by_ids(model_class, missing)
            found.update((model.pk, model) for model in loaded)
            await self.put_models(kind, loaded)
        return [found.get(pk) for pk in ids]

    async def forget(self, kind: str, ids: Iterable[int]) -> None:
        for pk in set(ids):
            await self._guard("delete", self.backend.delete(f"{kind}:{pk}"), None, f"{kind}:{pk}")

    # --- list pages ---------------------------------------------------------------------

    async def _version(self, kind: str) -> int:
        # `increment` stores a bare integer, not a serialised value: read it raw.
        key = f"{kind}:version"
        value = await self._guard("get", self.backend.get(key, loads_fn=_raw), None, key)
        return int(value or 0)

    async def page_key(self, kind: str, arguments: object) -> str:
        digest = hashlib.sha256(orjson.dumps(arguments, default=str)).hexdigest()[:24]
        return f"{kind}:v{await self._version(kind)}:{digest}"

    async def get_page(self, kind: str, key: str) -> Any:
        page = await self._guard("get", self.backend.get(key), None, key)
        CACHE_LOOKUPS.labels(kind, "hit" if page is not None else "miss").inc()
        return page

    async def put_page(self, kind: str, key: str, page: object) -> None:
        await self._guard("set", self.backend.set(key, page, ttl=self.ttls[kind]), None, key)

    async def bump_version(self, kind: str) -> None:
        """Every cached page of ``kind`` stops being found (they expire by TTL)."""
        key = f"{kind}:version"
        await self._guard("increment", self.backend.increment(key), None, key)

    async def close(self) -> None:
        await self._guard("close", self.backend.close(), None, "the connections")

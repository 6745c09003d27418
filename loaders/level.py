"""The values of many keys of one DataLoader with ONE future per caller, not one per key.

``prefetch`` asks a loader for a whole level at once (the authors of 20 posts, of 100
comments). ``DataLoader.load_many`` would make a future, a batch task and two done-callbacks
per key and gather them. ``load_level`` reads the loader's
cache (primed and cleared values are honoured), loads every missing key in one call of the
loader's batch function, primes the cache with the results, and merges the callers of one
loop iteration (a transfer's ``from`` and ``to``) into one call, as the DataLoader would.

Loaders made by ``level_loader`` keep a ``ValueCache``: plain values, with a future made
only when ``DataLoader.load`` asks for a key, not one per value loaded.

``LIBRARY_SHORTCUTS=false`` (``core.shortcuts``) makes ``load_level`` the
DataLoader's own ``load_many``: the same values and batches, without reading its internals.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any, TypeVar

from strawberry.dataloader import AbstractCache, DataLoader

from core import shortcuts, tracing

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


_OPEN_BATCH = "_agora_level_batch"
_IN_FLIGHT = "_agora_level_in_flight"  # key -> the batch loading it, until it has loaded


class ValueCache(AbstractCache[K, V]):
    """A DataLoader cache holding values; a key is in ``values`` or in ``futures``, never
    both (what ``DataLoader.load``/``prime`` put there, or a value turned into a future
    when ``load`` asks for it)."""

    def __init__(self) -> None:
        self.values: dict[K, V] = {}
        self.futures: dict[K, asyncio.Future[V]] = {}

    def get(self, key: K) -> asyncio.Future[V] | None:
        future = self.futures.get(key)
        if future is None and key in self.values:
            future = asyncio.get_running_loop().create_future()
            future.set_result(self.values.pop(key))
            self.futures[key] = future
        return future

    def set(self, key: K, value: asyncio.Future[V]) -> None:
        self.values.pop(key, None)
        self.futures[key] = value

    def delete(self, key: K) -> None:
        self.values.pop(key, None)
        self.futures.pop(key, None)

    def clear(self) -> None:
        self.values.clear()
        self.futures.clear()


def level_loader(
    load_fn: Callable[[list[K]], Awaitable[Sequence[V]]], name: str | None = None
) -> DataLoader[K, V]:
    """A per-request DataLoader whose cache ``load_level`` reads and fills without futures;
    ``name`` names its batches' spans (default: the batch function's module and name)."""
    return DataLoader(load_fn=traced_batch(load_fn, name), cache_map=ValueCache())


BatchFunction = Callable[[list[K]], Awaitable[Sequence[V]]]


def traced_batch(load_fn: BatchFunction[K, V], name: str | None = None) -> BatchFunction[K, V]:
    """``load_fn`` itself while tracing is off; on, each call (one batch: a whole level's
    keys) is a span ``load <name>`` with the number of keys, its SQL below it."""
    if not tracing.enabled:
        return load_fn
    span_name = f"load {name or batch_name(load_fn)}"

    async def load(keys: list[K]) -> Sequence[V]:
        with tracing.span(span_name, {BATCH_KEYS_ATTRIBUTE: len(keys)}):
            return await load_fn(keys)

    return load


BATCH_KEYS_ATTRIBUTE = "agora.load.keys"


def batch_name(load_fn: Callable[..., Any]) -> str:
    """``posts.load_posts``: the batch function's module and name."""
    module = getattr(load_fn, "__module__", "") or ""
    return f"{module.rsplit('.', 1)[-1]}.{getattr(load_fn, '__name__', 'batch')}"


class _LevelBatch:
    """Keys asked for during one loop iteration; loaded together when it ends. Each caller
    waits on its own future: a cancelled caller cancels only that one (what a shared
    future would need ``asyncio.shield`` and its extra loop iteration for)."""

    __slots__ = ("keys", "outcome", "waiters")

    def __init__(self) -> None:
        self.keys: dict[Hashable, None] = {}
        self.waiters: list[asyncio.Future[dict[Hashable, Any]]] = []
        # None while loading, then the values by key or the batch's error (for a caller
        # that waits on this batch after it landed, e.g. after waiting on another first).
        self.outcome: dict[Hashable, Any] | BaseException | None = None

    async def loaded(self) -> dict[Hashable, Any]:
        outcome = self.outcome
        if outcome is None:
            waiter: asyncio.Future[dict[Hashable, Any]] = asyncio.get_running_loop().create_future()
            self.waiters.append(waiter)
            return await waiter
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def land(self, outcome: dict[Hashable, Any] | BaseException) -> None:
        self.outcome = outcome
        for waiter in self.waiters:
            if waiter.done():  # its caller was cancelled
                continue
            if isinstance(outcome, BaseException):
                waiter.set_exception(outcome)
            else:
                waiter.set_result(outcome)
        self.waiters.clear()


def _in_flight(loader: DataLoader[Any, Any]) -> dict[Hashable, _LevelBatch]:
    in_flight: dict[Hashable, _LevelBatch] | None = loader.__dict__.get(_IN_FLIGHT)
    if in_flight is None:
        in_flight = loader.__dict__[_IN_FLIGHT] = {}
    return in_flight


async def _dispatch(loader: DataLoader[Any, Any], batch: _LevelBatch) -> None:
    if loader.__dict__.get(_OPEN_BATCH) is batch:
        del loader.__dict__[_OPEN_BATCH]
    keys = list(batch.keys)
    try:
        values = list(await loader.load_fn(keys))
        if len(values) != len(keys):
            raise ValueError(
                f"the batch function returned {len(values)} values for {len(keys)} keys"
            )
    except Exception as error:  # noqa: BLE001 - every waiting caller gets the failure
        _landed(loader, batch, keys)
        batch.land(error)
        return
    _landed(loader, batch, keys)
    loaded = dict(zip(keys, values, strict=True))
    cache = loader.cache_map if loader.cache else None
    if isinstance(cache, ValueCache):
        for key, value in loaded.items():
            if not isinstance(value, BaseException) and key not in cache.futures:
                cache.values.setdefault(key, value)
    elif cache is not None:
        for key, value in loaded.items():
            if not isinstance(value, BaseException) and loader.cache_map.get(key) is None:
                future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
                future.set_result(value)
                loader.cache_map.set(key, future)
    batch.land(loaded)


def _landed(loader: DataLoader[Any, Any], batch: _LevelBatch, keys: list[Hashable]) -> None:
    in_flight = _in_flight(loader)
    for key in keys:
        if in_flight.get(key) is batch:
            del in_flight[key]


def _open_batch(loader: DataLoader[Any, Any]) -> _LevelBatch:
    batch: _LevelBatch | None = loader.__dict__.get(_OPEN_BATCH)
    if batch is None:
        batch = loader.__dict__[_OPEN_BATCH] = _LevelBatch()
        # The task's first step runs in the next loop iteration, after every caller of this
        # one has added its keys.
        asyncio.get_running_loop().create_task(_dispatch(loader, batch))
    return batch


def _no_future(key: Any) -> None:
    return None


async def load_level(loader: DataLoader[Any, Any], keys: Sequence[Any]) -> list[Any]:
    """``loader``'s values for ``keys`` (in their order, repeats allowed)."""
    if not shortcuts.enabled:
        return list(await loader.load_many(keys))
    values: dict[Any, Any] = {}
    pending: dict[Any, asyncio.Future[Any]] = {}
    loading: dict[Any, _LevelBatch] = {}  # keys another caller's batch is loading
    missing: list[Any] = []
    in_flight = _in_flight(loader)
    cache = loader.cache_map if loader.cache else None
    cached_values: dict[Any, Any] = {}
    cached_future: Callable[[Any], asyncio.Future[Any] | None] = _no_future
    if isinstance(cache, ValueCache):  # its values are read below, only futures by ``get``
        cached_values, cached_future = cache.values, cache.futures.get
    elif cache is not None:
        cached_future = cache.get
    for key in dict.fromkeys(keys):
        if key in cached_values:
            values[key] = cached_values[key]
            continue
        if (other := in_flight.get(key)) is not None:
            loading[key] = other
            continue
        cached = cached_future(key)
        if cached is None or cached.cancelled():
            missing.append(key)
        elif cached.done():
            values[key] = cached.result()
        else:  # a DataLoader.load of this key is in flight
            pending[key] = cached
    if missing:
        batch = _open_batch(loader)
        batch.keys.update(dict.fromkeys(missing))
        for key in missing:
            in_flight[key] = batch
            loading[key] = batch
    for batch in dict.fromkeys(loading.values()):
        loaded = await batch.loaded()
        for key, loaded_by in loading.items():
            if loaded_by is batch:
                value = values[key] = loaded[key]
                if isinstance(value, BaseException):
                    raise value
    for key, future in pending.items():
        values[key] = await future
    return [values[key] for key in keys]

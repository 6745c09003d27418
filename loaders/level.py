"""The values of many keys of one DataLoader with ONE future per caller, not one per key.

``prefetch`` asks a loader for a whole level at once (the authors of 20 posts, of 100
comments). ``DataLoader.load_many`` would make a future, a batch task and two done-callbacks
per key and gather them: ~10% of the feed query's CPU. ``load_level`` reads the loader's
cache (primed and cleared values are honoured), loads every missing key in one call of the
loader's batch function, primes the cache with the results, and merges the callers of one
loop iteration (a transfer's ``from`` and ``to``) into one call, as the DataLoader would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable, Sequence
from typing import Any

from strawberry.dataloader import DataLoader

_OPEN_BATCH = "_agora_level_batch"


class _LevelBatch:
    """Keys asked for during one loop iteration; loaded together when it ends."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.keys: dict[Hashable, None] = {}
        self.done: asyncio.Future[dict[Hashable, Any]] = loop.create_future()


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
        batch.done.set_exception(error)
        return
    loaded = dict(zip(keys, values, strict=True))
    if loader.cache:
        for key, value in loaded.items():
            if not isinstance(value, BaseException) and loader.cache_map.get(key) is None:
                future: asyncio.Future[Any] = batch.done.get_loop().create_future()
                future.set_result(value)
                loader.cache_map.set(key, future)
    batch.done.set_result(loaded)


def _open_batch(loader: DataLoader[Any, Any]) -> _LevelBatch:
    batch: _LevelBatch | None = loader.__dict__.get(_OPEN_BATCH)
    if batch is None:
        loop = asyncio.get_running_loop()
        batch = loader.__dict__[_OPEN_BATCH] = _LevelBatch(loop)
        opened = batch
        loop.call_soon(lambda: loop.create_task(_dispatch(loader, opened)))
    return batch


def _value(value: Any) -> Any:
    if isinstance(value, BaseException):
        raise value
    return value


async def load_level(loader: DataLoader[Any, Any], keys: Sequence[Any]) -> list[Any]:
    """``loader``'s values for ``keys`` (in their order, repeats allowed)."""
    values: dict[Any, Any] = {}
    pending: dict[Any, asyncio.Future[Any]] = {}
    missing: list[Any] = []
    for key in dict.fromkeys(keys):
        cached = loader.cache_map.get(key) if loader.cache else None
        if cached is None or cached.cancelled():
            missing.append(key)
        elif cached.done():
            values[key] = cached.result()
        else:  # a DataLoader.load of this key is in flight
            pending[key] = cached
    if missing:
        batch = _open_batch(loader)
        batch.keys.update(dict.fromkeys(missing))
        loaded = await asyncio.shield(batch.done)  # one cancelled caller cancels no other
        for key in missing:
            values[key] = _value(loaded[key])
    for key, future in pending.items():
        values[key] = await future
    return [values[key] for key in keys]

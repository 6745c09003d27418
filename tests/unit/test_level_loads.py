"""``load_level``: a whole level's keys through a DataLoader's batch function and cache, one
future per caller."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from strawberry.dataloader import DataLoader

from loaders.level import load_level


class Squares:
    """A batch function that records every call."""

    def __init__(self) -> None:
        self.calls: list[list[int]] = []

    async def __call__(self, keys: Sequence[int]) -> list[int]:
        self.calls.append(list(keys))
        return [key * key for key in keys]


async def test_values_come_back_in_the_order_of_the_keys_with_repeats():
    squares = Squares()
    loader = DataLoader(load_fn=squares)

    assert await load_level(loader, [3, 1, 3, 2]) == [9, 1, 9, 4]
    assert squares.calls == [[3, 1, 2]]


async def test_callers_of_one_loop_iteration_share_one_call_of_the_batch_function():
    squares = Squares()
    loader = DataLoader(load_fn=squares)

    senders, receivers = await asyncio.gather(
        load_level(loader, [1, 2]), load_level(loader, [2, 3])
    )

    assert (senders, receivers) == ([1, 4], [4, 9])
    assert squares.calls == [[1, 2, 3]]


async def test_loaded_values_are_cached_for_later_loads_of_either_kind():
    squares = Squares()
    loader = DataLoader(load_fn=squares)
    await load_level(loader, [1, 2])

    assert await load_level(loader, [2, 1]) == [4, 1]
    assert await loader.load(2) == 4
    assert squares.calls == [[1, 2]]


async def test_primed_values_are_used_and_cleared_ones_loaded_again():
    squares = Squares()
    loader = DataLoader(load_fn=squares)
    loader.prime(5, -1)
    await load_level(loader, [6])
    loader.clear(6)

    assert await load_level(loader, [5, 6]) == [-1, 36]
    assert squares.calls == [[6], [6]]


async def test_a_key_already_loading_through_the_dataloader_is_awaited_not_loaded_twice():
    squares = Squares()
    loader = DataLoader(load_fn=squares)

    single, level = await asyncio.gather(loader.load(4), load_level(loader, [4]))

    assert (single, level) == (16, [16])
    assert squares.calls == [[4]]


async def test_a_failing_batch_fails_every_caller_and_caches_nothing():
    calls = 0

    async def broken(keys: Sequence[int]) -> list[int]:
        nonlocal calls
        calls += 1
        raise RuntimeError("database down")

    loader = DataLoader(load_fn=broken)
    results = await asyncio.gather(
        load_level(loader, [1]), load_level(loader, [2]), return_exceptions=True
    )

    assert [str(result) for result in results] == ["database down", "database down"]
    with pytest.raises(RuntimeError):
        await load_level(loader, [1])
    assert calls == 2


async def test_a_batch_function_returning_the_wrong_number_of_values_is_an_error():
    async def short(keys: Sequence[int]) -> list[int]:
        return [0]

    with pytest.raises(ValueError, match="returned 1 values for 2 keys"):
        await load_level(DataLoader(load_fn=short), [1, 2])


async def test_one_cancelled_caller_leaves_the_others_their_values():
    release = asyncio.Event()

    async def slow(keys: Sequence[int]) -> list[int]:
        await release.wait()
        return list(keys)

    loader = DataLoader(load_fn=slow)
    cancelled = asyncio.create_task(load_level(loader, [1]))
    kept = asyncio.create_task(load_level(loader, [1, 2]))
    await asyncio.sleep(0.01)
    cancelled.cancel()
    release.set()

    assert await kept == [1, 2]
    assert cancelled.cancelled()

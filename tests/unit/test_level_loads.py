"""``load_level``: a whole level's keys through a DataLoader's batch function and cache, one
future per caller."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

import pytest
from strawberry.dataloader import DataLoader

from loaders.level import ValueCache, level_loader, load_level

MakeLoader = Callable[[Callable[[list[int]], Awaitable[Sequence[int]]]], DataLoader[int, int]]


@pytest.fixture(autouse=True)
def level_batches_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests pin the shortcut itself, whatever LIBRARY_SHORTCUTS says (an app built
    earlier in the session sets it process-wide)."""
    monkeypatch.setattr("core.shortcuts.enabled", True)


@pytest.fixture(params=["DataLoader", "level_loader"])
def make_loader(request: pytest.FixtureRequest) -> MakeLoader:
    """Every behaviour holds for Strawberry's own cache and for ``ValueCache``."""
    if request.param == "level_loader":
        return level_loader
    return lambda load_fn: DataLoader(load_fn=load_fn)


class Squares:
    """A batch function that records every call."""

    def __init__(self) -> None:
        self.calls: list[list[int]] = []

    async def __call__(self, keys: Sequence[int]) -> list[int]:
        self.calls.append(list(keys))
        return [key * key for key in keys]


async def test_values_come_back_in_the_order_of_the_keys_with_repeats(make_loader: MakeLoader):
    squares = Squares()
    loader = make_loader(squares)

    assert await load_level(loader, [3, 1, 3, 2]) == [9, 1, 9, 4]
    assert squares.calls == [[3, 1, 2]]


async def test_callers_of_one_loop_iteration_share_one_call_of_the_batch_function(
    make_loader: MakeLoader,
):
    squares = Squares()
    loader = make_loader(squares)

    senders, receivers = await asyncio.gather(
        load_level(loader, [1, 2]), load_level(loader, [2, 3])
    )

    assert (senders, receivers) == ([1, 4], [4, 9])
    assert squares.calls == [[1, 2, 3]]


async def test_loaded_values_are_cached_for_later_loads_of_either_kind(make_loader: MakeLoader):
    squares = Squares()
    loader = make_loader(squares)
    await load_level(loader, [1, 2])

    assert await load_level(loader, [2, 1]) == [4, 1]
    assert await loader.load(2) == 4
    assert squares.calls == [[1, 2]]


async def test_primed_values_are_used_and_cleared_ones_loaded_again(make_loader: MakeLoader):
    squares = Squares()
    loader = make_loader(squares)
    loader.prime(5, -1)
    await load_level(loader, [6])
    loader.clear(6)

    assert await load_level(loader, [5, 6]) == [-1, 36]
    assert squares.calls == [[6], [6]]


async def test_a_key_already_loading_through_the_dataloader_is_awaited_not_loaded_twice(
    make_loader: MakeLoader,
):
    squares = Squares()
    loader = make_loader(squares)

    single, level = await asyncio.gather(loader.load(4), load_level(loader, [4]))

    assert (single, level) == (16, [16])
    assert squares.calls == [[4]]


async def test_a_failing_batch_fails_every_caller_and_caches_nothing(make_loader: MakeLoader):
    calls = 0

    async def broken(keys: Sequence[int]) -> list[int]:
        nonlocal calls
        calls += 1
        raise RuntimeError("database down")

    loader = make_loader(broken)
    results = await asyncio.gather(
        load_level(loader, [1]), load_level(loader, [2]), return_exceptions=True
    )

    assert [str(result) for result in results] == ["database down", "database down"]
    with pytest.raises(RuntimeError):
        await load_level(loader, [1])
    assert calls == 2


async def test_a_batch_function_returning_the_wrong_number_of_values_is_an_error(
    make_loader: MakeLoader,
):
    async def short(keys: Sequence[int]) -> list[int]:
        return [0]

    with pytest.raises(ValueError, match="returned 1 values for 2 keys"):
        await load_level(make_loader(short), [1, 2])


async def test_one_cancelled_caller_leaves_the_others_their_values(make_loader: MakeLoader):
    release = asyncio.Event()

    async def slow(keys: Sequence[int]) -> list[int]:
        await release.wait()
        return list(keys)

    loader = make_loader(slow)
    cancelled = asyncio.create_task(load_level(loader, [1]))
    kept = asyncio.create_task(load_level(loader, [1, 2]))
    await asyncio.sleep(0.01)
    cancelled.cancel()
    release.set()

    assert await kept == [1, 2]
    assert cancelled.cancelled()


async def test_a_level_loader_keeps_values_and_makes_a_future_only_for_dataloader_load():
    loader = level_loader(Squares())
    await load_level(loader, [2, 3])
    cache = loader.cache_map
    assert isinstance(cache, ValueCache)

    assert (cache.values, cache.futures) == ({2: 4, 3: 9}, {})
    assert await loader.load(3) == 9
    assert (set(cache.values), set(cache.futures)) == ({2}, {3})


async def test_a_forced_prime_replaces_a_loaded_value():
    loader = level_loader(Squares())
    await load_level(loader, [2])
    loader.prime(2, 5, force=True)

    assert await load_level(loader, [2]) == [5]
    assert await loader.load(2) == 5


async def test_a_key_another_level_is_loading_is_awaited_not_loaded_again(
    make_loader: MakeLoader,
):
    release = asyncio.Event()
    calls: list[list[int]] = []

    async def slow(keys: Sequence[int]) -> list[int]:
        calls.append(list(keys))
        await release.wait()
        return [key * 10 for key in keys]

    loader = make_loader(slow)
    first = asyncio.create_task(load_level(loader, [1, 2]))
    await asyncio.sleep(0.01)  # the first batch is loading now
    second = asyncio.create_task(load_level(loader, [2, 3]))
    await asyncio.sleep(0.01)
    release.set()

    assert await first == [10, 20]
    assert await second == [20, 30]
    assert calls == [[1, 2], [3]]

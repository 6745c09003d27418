"""One event's row is loaded once per process, even when its entry is pushed out mid-load."""

from __future__ import annotations

import asyncio

from resolvers.subscriptions import EventRows


async def test_an_entry_pushed_out_while_loading_is_not_loaded_again() -> None:
    rows = EventRows(size=1)
    loads: list[str] = []
    release = asyncio.Event()

    async def load_first() -> str:
        loads.append("first")
        await release.wait()
        return "row"

    async def load_second() -> str:
        loads.append("second")
        return "other row"

    first, second = {"id": 1}, {"id": 2}
    event = rows.event(first, load_first)
    waiting = asyncio.ensure_future(event.loaded_row())
    await asyncio.sleep(0)
    rows.event(second, load_second)  # pushes the first entry out
    release.set()

    assert await waiting == "row"
    assert event.shared_loaders(None) is event.shared_loaders(None)
    assert loads == ["first", "second"]

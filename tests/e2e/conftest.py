"""A real uvicorn serving the app on a free port, in this test's event loop (it shares the
session's database)."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn

from server.app import create_app
from server.container import Container
from tests.conftest import make_settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class LiveServer:
    base_url: str
    ws_url: str
    container: Container


@pytest.fixture
async def live_server_factory(db: None) -> AsyncIterator[Callable[..., Any]]:
    started: list[tuple[uvicorn.Server, asyncio.Task[None], Container]] = []

    async def start(**overrides: Any) -> LiveServer:
        port = free_port()
        # APP_URL is this server, as under `make run`: the links it sends lead back to it.
        settings = make_settings(**{"app_url": f"http://127.0.0.1:{port}", **overrides})
        container = Container.from_settings(settings, key_prefix=f"e2e:{uuid.uuid4().hex}:")
        app = create_app(settings, manage_database=False, container=container)
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=port,
                log_config=None,
                ws="websockets-sansio",
                lifespan="on",
            )
        )
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        started.append((server, task, container))
        return LiveServer(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/graphql", container)

    yield start
    for server, task, _ in started:
        server.should_exit = True
        await task


@pytest.fixture
async def live_server(live_server_factory: Callable[..., Any]) -> LiveServer:
    return await live_server_factory()  # type: ignore[no-any-return]

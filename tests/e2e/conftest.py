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
from services.pubsub import RedisPubSub
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


async def subscribers(server: LiveServer, topic: str, count: int) -> None:
    """Wait until ``count`` subscriptions of this process listen on ``topic`` and, on Redis,
    until Redis has the channel's subscription: the pub/sub counts a local subscriber before
    Redis confirms its SUBSCRIBE, and an event published in between is not seen."""
    container = server.container
    pubsub: Any = container.pubsub
    async with asyncio.timeout(5):
        while pubsub.subscriber_count(topic) != count:  # noqa: ASYNC110 - polls another task's state
            await asyncio.sleep(0.01)
        if count and isinstance(pubsub, RedisPubSub) and container.redis is not None:
            channel = pubsub._channel(topic)
            while not (await container.redis.pubsub_numsub(channel))[0][1]:  # noqa: ASYNC110
                await asyncio.sleep(0.01)


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

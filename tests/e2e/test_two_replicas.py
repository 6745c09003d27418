"""Two server PROCESSES sharing one Redis and one database: a mutation on one delivers to
subscribers on both (the Redis pub/sub backend). Skipped without REDIS_URL.

The database is a throwaway one: a new PostgreSQL database (dropped afterwards) when the
suite runs on PostgreSQL, else a SQLite file."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
from redis.asyncio import Redis

from tests.conftest import DATABASE_URL, ON_POSTGRES, REDIS_URL, requires_redis
from tests.e2e.conftest import free_port
from tests.e2e.httpstream import MULTIPART_ACCEPT, open_stream
from tests.e2e.processes import run_cli, server_env, start_server, stop_server, wait_ready
from tests.e2e.wsclient import GraphQLWS, connect

pytestmark = requires_redis

PASSWORD = "Sup3r-secret!"
EMAIL = "replica-author@example.com"
CHANNEL = "agora:events:post.published"  # the default key prefix both servers use
FEED = "subscription { postPublished { id title author { name } } }"
CREATE = 'mutation($t: String!) { createPost(input: {title: $t, body: "b", publish: true}) { id } }'


@pytest.fixture
async def database_url(tmp_path: Path) -> AsyncIterator[str]:
    if not ON_POSTGRES:
        yield f"sqlite://{tmp_path}/replicas.sqlite3"
        return
    parts = urlsplit(DATABASE_URL)
    name = f"agora_replicas_{uuid.uuid4().hex[:10]}"
    admin_url = urlunsplit(("postgresql", parts.netloc, "/postgres", "", ""))
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def replicas(database_url: str) -> AsyncIterator[tuple[str, str]]:
    """Two `python -m server serve` processes on free ports; their base URLs."""
    assert REDIS_URL is not None
    env = server_env(database_url, REDIS_URL=REDIS_URL)
    await run_cli(env, "migrate")
    await run_cli(env, "create-user", "--name", "Ada", "--email", EMAIL, "--password", PASSWORD)
    ports = [free_port(), free_port()]
    processes = [await start_server(env, port) for port in ports]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url, process in zip(urls, processes, strict=True):
            await wait_ready(url, process)
        yield urls[0], urls[1]
    finally:
        await asyncio.gather(*(stop_server(process) for process in processes))


async def login(http: httpx.AsyncClient) -> str:
    response = await http.post(
        "/graphql",
        json={
            "query": "mutation($e: String!, $p: String!) { login(email: $e, password: $p) "
            "{ accessToken } }",
            "variables": {"e": EMAIL, "p": PASSWORD},
        },
    )
    return str(response.json()["data"]["login"]["accessToken"])


async def channel_subscribers(redis: Redis) -> int:
    return int((await redis.pubsub_numsub(CHANNEL))[0][1])


async def test_a_mutation_on_one_replica_reaches_subscribers_on_both(replicas):
    first_url, second_url = replicas
    ws = [url.replace("http://", "ws://") + "/graphql" for url in replicas]
    assert REDIS_URL is not None
    redis = Redis.from_url(REDIS_URL)
    try:
        before = await channel_subscribers(redis)
        async with connect(ws[0]) as on_first, connect(ws[1]) as on_second:
            clients: list[GraphQLWS] = [on_first, on_second]
            for client in clients:
                assert (await client.init())["type"] == "connection_ack"
                await client.subscribe("feed", FEED)
            async with asyncio.timeout(10):  # each replica subscribed its own connection
                while await channel_subscribers(redis) < before + 2:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)

            title = f"across replicas {uuid.uuid4().hex[:6]}"
            async with httpx.AsyncClient(base_url=first_url) as http:
                token = await login(http)
                response = await http.post(
                    "/graphql",
                    json={"query": CREATE, "variables": {"t": title}},
                    headers={"Authorization": f"Bearer {token}"},
                )
            post_id = response.json()["data"]["createPost"]["id"]

            for client in clients:
                message = await client.receive(10)
                assert message["type"] == "next"
                assert message["payload"]["data"]["postPublished"] == {
                    "id": post_id,
                    "title": title,
                    "author": {"name": "Ada"},
                }
        # And the other way round: the second replica's mutation reaches the first.
        async with connect(ws[0]) as on_first:
            await on_first.init()
            await on_first.subscribe("feed", FEED)
            async with asyncio.timeout(10):
                while await channel_subscribers(redis) < before + 1:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
            async with httpx.AsyncClient(base_url=second_url) as http:
                token = await login(http)
                await http.post(
                    "/graphql",
                    json={"query": CREATE, "variables": {"t": "from the second"}},
                    headers={"Authorization": f"Bearer {token}"},
                )
            message = await on_first.receive(10)
            assert message["payload"]["data"]["postPublished"]["title"] == "from the second"
    finally:
        await redis.aclose()


async def test_http_streams_on_both_replicas_receive_a_mutation_on_one(replicas):
    """graphql-sse on one replica, Apollo's multipart on the other: both get the event."""
    first_url, second_url = replicas
    assert REDIS_URL is not None
    redis = Redis.from_url(REDIS_URL)
    try:
        before = await channel_subscribers(redis)
        async with (
            open_stream(first_url, FEED) as on_first,
            open_stream(second_url, FEED, accept=MULTIPART_ACCEPT) as on_second,
        ):
            async with asyncio.timeout(10):  # each replica subscribed its own connection
                while await channel_subscribers(redis) < before + 2:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)

            title = f"streamed across replicas {uuid.uuid4().hex[:6]}"
            async with httpx.AsyncClient(base_url=second_url) as http:
                token = await login(http)
                response = await http.post(
                    "/graphql",
                    json={"query": CREATE, "variables": {"t": title}},
                    headers={"Authorization": f"Bearer {token}"},
                )
            post_id = response.json()["data"]["createPost"]["id"]

            for stream in (on_first, on_second):
                message = await stream.receive(10)
                assert message.kind == "next"
                assert message.data["data"]["postPublished"] == {
                    "id": post_id,
                    "title": title,
                    "author": {"name": "Ada"},
                }
    finally:
        await redis.aclose()


async def test_ending_a_user_s_sessions_on_one_replica_closes_their_socket_on_the_other(
    replicas,
):
    first_url, second_url = replicas
    async with httpx.AsyncClient(base_url=first_url) as http:
        token = await login(http)
        async with connect(second_url.replace("http://", "ws://") + "/graphql") as client:
            assert (await client.init(token))["type"] == "connection_ack"
            await client.subscribe("feed", FEED)

            response = await http.post(
                "/graphql",
                json={"query": "mutation { logoutAll }"},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.json()["data"] == {"logoutAll": True}

            assert await client.closed_with(10) == 4403

"""Redis stopped under load: a real server process on a private redis-server (killed and
started again by the test; the machine's shared Redis is never touched), with concurrent
queries throughout.

While Redis is down, queries keep answering 200 with their data (the cache and the cost
bucket fall back), a client's bucket starts at RATE_LIMIT_OUTAGE_FRACTION of the capacity
(not full), and the warnings are rate-limited: one line per kind of fault, however many
requests hit it. When Redis is back, subscriptions recover: an event published after the
restart reaches a subscriber that connected before the outage."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from tests.conftest import requires_redis
from tests.e2e.processes import run_cli, server_env, serving
from tests.e2e.wsclient import connect
from tests.redis_server import RedisServer

pytestmark = requires_redis

PASSWORD = "Sup3r-secret!"
EMAIL = "outage-author@example.com"
CHANNEL = "agora:events:post.published"
CAPACITY = 1000
OUTAGE_FRACTION = 0.1
WORKERS = 6
LOOKUP = "query($id: ID!) { node(id: $id) { ... on User { id name } } }"
FEED = "subscription { postPublished { title } }"
CREATE = 'mutation($t: String!) { createPost(input: {title: $t, body: "b", publish: true}) { id } }'


@dataclass
class Load:
    """Anonymous lookups from concurrent clients; every answer is recorded by phase."""

    base_url: str
    user_id: str
    phase: str = "before"
    answers: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    stopped: bool = False

    async def worker(self) -> None:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=10) as http:
            while not self.stopped:
                phase = self.phase
                try:
                    response = await http.post(
                        "/graphql", json={"query": LOOKUP, "variables": {"id": self.user_id}}
                    )
                    body = response.json()
                    if response.status_code != 200 or body.get("data", {}).get("node") is None:
                        self.failures.append(f"{phase}: {response.status_code} {body}")
                except httpx.HTTPError as error:
                    self.failures.append(f"{phase}: {error!r}")
                self.answers[phase] += 1

    async def until(self, phase: str, count: int) -> None:
        async with asyncio.timeout(60):
            while self.answers[phase] < count:  # noqa: ASYNC110 - counts the workers' answers
                await asyncio.sleep(0.01)


@pytest.fixture
async def redis_server() -> AsyncIterator[RedisServer]:
    server = RedisServer()
    await server.start()
    yield server
    await server.kill()


async def graphql(
    http: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str = ""
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body


async def channel_subscribers(redis: Redis) -> int:
    return int((await redis.pubsub_numsub(CHANNEL))[0][1])


async def until_subscribed(redis: Redis) -> None:
    """Until this replica's pub/sub connection listens on the feed's channel."""
    async with asyncio.timeout(30):
        while True:
            try:
                if await channel_subscribers(redis) == 1:
                    return
            except (RedisError, OSError):
                pass  # the watcher's own connection is reopened on the next call
            await asyncio.sleep(0.05)


def dependency_warnings(log: Path) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    return [line for line in lines if line["level"] == "warning" and "dependency" in line]


async def test_redis_stopped_under_load(tmp_path: Path, redis_server: RedisServer):
    env = server_env(
        f"sqlite://{tmp_path}/agora.sqlite3",
        REDIS_URL=redis_server.url,
        RATE_LIMIT_CAPACITY=str(CAPACITY),
        RATE_LIMIT_RESTORE_RATE="1000",
        RATE_LIMIT_OUTAGE_FRACTION=str(OUTAGE_FRACTION),
        LOG_REPEAT_INTERVAL_SECONDS="600",
    )
    await run_cli(env, "migrate")
    await run_cli(env, "create-user", "--name", "Ada", "--email", EMAIL, "--password", PASSWORD)
    log = tmp_path / "server.log"
    watcher = Redis.from_url(redis_server.url)
    with log.open("wb") as stdout:
        async with (
            serving(env, stdout=stdout) as (_, port),
            httpx.AsyncClient(base_url=(base_url := f"http://127.0.0.1:{port}")) as http,
            connect(f"ws://127.0.0.1:{port}/graphql") as subscriber,
        ):
            login = await graphql(
                http,
                "mutation($e: String!, $p: String!) { login(email: $e, password: $p) "
                "{ accessToken user { id } } }",
                {"e": EMAIL, "p": PASSWORD},
            )
            token = login["data"]["login"]["accessToken"]
            load = Load(base_url, login["data"]["login"]["user"]["id"])
            await subscriber.init()
            await subscriber.subscribe("feed", FEED)
            await until_subscribed(watcher)
            workers = [asyncio.create_task(load.worker()) for _ in range(WORKERS)]
            try:
                await load.until("before", 50)

                await redis_server.kill()
                load.phase = "outage"
                await load.until("outage", 300)
                first_outage_answer = await graphql(http, "{ me { id } }", {}, token)

                load.phase = "after"
                await redis_server.start()  # empty, on the same port
                await until_subscribed(watcher)
                title = f"after the outage {uuid.uuid4().hex[:6]}"
                await graphql(http, CREATE, {"t": title}, token)
                event = await subscriber.receive(10)
                await load.until("after", 50)
            finally:
                load.stopped = True
                await asyncio.gather(*workers)
            metrics = (await http.get("/metrics")).text
    await watcher.aclose()

    assert load.failures == [], load.failures[:5]  # 200 with data, before, during and after
    assert event["type"] == "next", event  # the subscription outlived the outage
    assert event["payload"]["data"]["postPublished"]["title"] == title
    throttle = first_outage_answer["extensions"]["cost"]["throttleStatus"]
    assert throttle["maximumAvailable"] == CAPACITY
    assert throttle["currentlyAvailable"] == CAPACITY * OUTAGE_FRACTION - 1  # not a full bucket

    bucket_faults = _metric(metrics, 'dependency="redis",operation="rate_limit"')
    # Every lookup of the outage (less those in flight when it ended) met the fault ...
    assert bucket_faults >= load.answers["outage"] - WORKERS
    warnings = dependency_warnings(log)
    bucket_lines = [line for line in warnings if line["operation"] == "rate_limit"]
    # ... but it was logged once when the outage began, and the rest reported at shutdown.
    assert len(bucket_lines) == 2, bucket_lines
    assert bucket_lines[-1]["repeated"] == bucket_faults - 1
    kinds = Counter((line["logger"], line["operation"], line["repeated"] > 0) for line in warnings)
    assert max(kinds.values()) <= 2, kinds  # no kind of fault floods the log


def _metric(text: str, labels: str) -> float:
    [line] = [
        line
        for line in text.splitlines()
        if line.startswith("dependency_failures_total{") and labels in line
    ]
    return float(line.rsplit(" ", 1)[1])

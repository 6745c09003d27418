"""Fault injection: a real server process on a PostgreSQL cluster of the test's own, which
is stopped (``pg_ctl stop -m fast``) and started again while clients transfer money with
idempotency keys and retry every SERVICE_UNAVAILABLE with the same key.

Afterwards no money was created or lost, no transfer was made twice, every acknowledged
transfer exists exactly once, every answer during the outage was a JSON
SERVICE_UNAVAILABLE (never a plain 500) on a keep-alive connection that stayed open, the
websocket operation context refused with SERVICE_UNAVAILABLE, and /health/ready went
back to 200 without restarting the server."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import pytest

from services.seed import DEMO_PASSWORD
from tests.conftest import requires_postgres
from tests.e2e.conftest import free_port
from tests.e2e.private_postgres import PrivatePostgres, missing_requirement
from tests.e2e.processes import run_cli, server_env, start_server, stop_server, wait_ready
from tests.e2e.wsclient import connect
from tests.factories import gid
from vocabulary.relay import int_pk

pytestmark = [
    requires_postgres,
    pytest.mark.skipif(missing_requirement() is not None, reason=str(missing_requirement())),
]

POOL_SIZE = 4
SENDERS = ["uma@agora.test", "bo@agora.test", "cy@agora.test", "moderator@agora.test"]
RECEIVER = "admin@agora.test"
LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }"
TRANSFER = """mutation($to: ID!, $key: String!) {
  transfer(input: {toUserId: $to, amount: "0.01", idempotencyKey: $key}) { id } }"""
ME = "{ me { id } }"
POSTS = "{ posts(first: 2) { nodes { id } } }"
KEY_PREFIX = "restart-"
RETRY_DELAY_SECONDS = 0.1
REFUSALS_PER_SENDER = 10


@dataclass
class Answer:
    kind: str
    status: int
    media_type: str
    code: str | None  # the first error's code, None without errors
    retry_after: str | None
    connection: str | None

    @classmethod
    def of(cls, kind: str, response: httpx.Response) -> Answer:
        media_type = response.headers.get("content-type", "")
        code = None
        if "json" in media_type:
            body = response.json()
            errors = body.get("errors") if isinstance(body, dict) else None
            code = errors[0]["extensions"]["code"] if errors else None
        return cls(
            kind,
            response.status_code,
            media_type,
            code,
            response.headers.get("retry-after"),
            response.headers.get("connection"),
        )

    @property
    def unavailable(self) -> bool:
        return self.status == 503


@dataclass
class Load:
    """What the clients saw: every answer, the acknowledged transfers, their ports."""

    answers: list[Answer] = field(default_factory=list)
    acknowledged: dict[str, str] = field(default_factory=dict)  # key -> transfer id
    ports: dict[str, set[int]] = field(default_factory=dict)  # client -> local ports
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    unexpected: Answer | None = None  # what made a sender give up

    def refusals(self) -> int:
        return sum(answer.kind == "transfer" and answer.unavailable for answer in self.answers)

    def unavailable_seen(self) -> set[str]:
        """The kinds of request that have been answered 503."""
        return {answer.kind for answer in self.answers if answer.unavailable}


async def until(condition: Callable[[], bool], load: Load, seconds: float = 30) -> None:
    async with asyncio.timeout(seconds):
        while not condition():
            assert load.unexpected is None, load.unexpected
            await asyncio.sleep(0.02)


@dataclass
class Deployment:
    database: PrivatePostgres
    process: asyncio.subprocess.Process
    base_url: str
    log_path: str

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/graphql"

    async def query(self, sql: str) -> Any:
        connection = await asyncpg.connect(self.database.url)
        try:
            return await connection.fetch(sql)
        finally:
            await connection.close()


@pytest.fixture
async def deployment() -> AsyncIterator[Deployment]:
    database = PrivatePostgres(free_port())
    env = server_env(
        database.url,
        APP_ENV="test",
        DB_POOL_MIN="1",
        DB_POOL_MAX=str(POOL_SIZE),
        DB_CONNECT_TIMEOUT_SECONDS="2",
        LOG_FORMAT="console",
        RATE_LIMIT_CAPACITY="1000000",
        RATE_LIMIT_RESTORE_RATE="100000",
    )
    port = free_port()
    log_path = str(database.root / "api.log")
    process = None
    try:
        await database.create()
        await run_cli(env, "migrate")
        await run_cli(env, "seed")
        with open(log_path, "wb") as log:  # noqa: ASYNC230 - opened once, written by the child
            process = await start_server(env, port, log)
        await wait_ready(f"http://127.0.0.1:{port}", process)
        yield Deployment(database, process, f"http://127.0.0.1:{port}", log_path)
    finally:
        if process is not None:
            await stop_server(process)
        await database.destroy()


async def log_in(http: httpx.AsyncClient, email: str) -> tuple[str, str]:
    """The access token and the global id of a demo account."""
    body = (
        await http.post(
            "/graphql", json={"query": LOGIN, "variables": {"e": email, "p": DEMO_PASSWORD}}
        )
    ).json()
    token = body["data"]["login"]["accessToken"]
    me = await http.post(
        "/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {token}"}
    )
    return token, me.json()["data"]["me"]["id"]


def keep_alive_client(base_url: str) -> httpx.AsyncClient:
    """One TCP connection at most: a second one would mean the first was dropped."""
    return httpx.AsyncClient(base_url=base_url, limits=httpx.Limits(max_connections=1))


async def observe(
    load: Load, client: str, kind: str, request: Awaitable[httpx.Response]
) -> tuple[Answer, httpx.Response | None]:
    """Send ``request`` and note its answer and the local port of its connection; a
    connection the server dropped is noted as an answer of status 0."""
    try:
        response = await request
    except httpx.TransportError as exc:
        answer = Answer(kind, 0, f"no answer: {exc!r}", None, None, None)
        load.answers.append(answer)
        return answer, None
    answer = Answer.of(kind, response)
    load.answers.append(answer)
    try:
        port = response.extensions["network_stream"].get_extra_info("client_addr")[1]
    except OSError:  # the server closed it already
        port = -1
    load.ports.setdefault(client, set()).add(port)
    return answer, response


async def transfers(base_url: str, load: Load, name: str, token: str, receiver: str) -> None:
    """Transfers one after another, each retried with its key until acknowledged."""
    headers = {"Authorization": f"Bearer {token}"}
    async with keep_alive_client(base_url) as http:
        for number in itertools.count():
            if load.stop.is_set():
                return
            key = f"{KEY_PREFIX}{name}-{number}"
            while True:
                payload = {"query": TRANSFER, "variables": {"to": receiver, "key": key}}
                answer, response = await observe(
                    load, name, "transfer", http.post("/graphql", json=payload, headers=headers)
                )
                if response is not None and answer.status == 200 and answer.code is None:
                    load.acknowledged[key] = response.json()["data"]["transfer"]["id"]
                    break
                if answer.code != "SERVICE_UNAVAILABLE":
                    load.unexpected = answer
                    return
                await asyncio.sleep(RETRY_DELAY_SECONDS)


async def probes(base_url: str, load: Load, token: str) -> None:
    """A reader, an authenticated reader and the readiness probe, in turn."""
    headers = {"Authorization": f"Bearer {token}"}
    async with keep_alive_client(base_url) as http:
        while not load.stop.is_set():
            await observe(load, "probe", "posts", http.post("/graphql", json={"query": POSTS}))
            me = http.post("/graphql", json={"query": ME}, headers=headers)
            await observe(load, "probe", "me", me)
            await observe(load, "probe", "ready", http.get("/health/ready"))
            await asyncio.sleep(0.02)


async def balances(deployment: Deployment) -> dict[int, int]:
    rows = await deployment.query("SELECT id, balance_cents FROM users")
    return {row["id"]: row["balance_cents"] for row in rows}


async def transfer_count(deployment: Deployment) -> int:
    return int((await deployment.query("SELECT count(*) AS n FROM transfers"))[0]["n"])


async def ready_again(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url) as http, asyncio.timeout(30):
        while (await http.get("/health/ready")).status_code != 200:  # noqa: ASYNC110
            await asyncio.sleep(0.05)


async def burst(base_url: str, name: str, token: str, receiver: str, count: int) -> dict[str, str]:
    """``count`` transfers at once (more than the pool holds: it lost no connection in the
    outage). Their keys and transfer ids."""
    keys = [f"{KEY_PREFIX}{name}-burst-{number}" for number in range(count)]
    async with httpx.AsyncClient(base_url=base_url) as http:
        responses = await asyncio.gather(
            *(
                http.post(
                    "/graphql",
                    json={"query": TRANSFER, "variables": {"to": receiver, "key": key}},
                    headers={"Authorization": f"Bearer {token}"},
                )
                for key in keys
            )
        )
    bodies = [response.json() for response in responses]
    assert all("errors" not in body for body in bodies), bodies
    return {key: body["data"]["transfer"]["id"] for key, body in zip(keys, bodies, strict=True)}


async def test_transfers_survive_a_postgres_restart_under_load(deployment):
    async with httpx.AsyncClient(base_url=deployment.base_url) as http:
        accounts = [await log_in(http, email) for email in [*SENDERS, RECEIVER]]
    *senders, (receiver_token, receiver) = accounts
    start, transfers_before = await balances(deployment), await transfer_count(deployment)
    load = Load()
    running = [
        asyncio.create_task(transfers(deployment.base_url, load, f"s{n}", token, receiver))
        for n, (token, _) in enumerate(senders)
    ]
    running.append(asyncio.create_task(probes(deployment.base_url, load, receiver_token)))

    async with connect(deployment.ws_url) as socket:
        assert (await socket.init(receiver_token))["type"] == "connection_ack"
        await until(lambda: len(load.acknowledged) >= 10, load)

        await deployment.database.stop("fast")
        # Down until every sender has been refused (and has retried) a few times.
        await until(lambda: load.refusals() >= REFUSALS_PER_SENDER * len(senders), load)
        await until(lambda: load.unavailable_seen() >= {"transfer", "me", "posts", "ready"}, load)
        await socket.subscribe("during", ME)
        refused = await socket.receive(10)
        acknowledged_during_outage = len(load.acknowledged)
        await deployment.database.start()

        await ready_again(deployment.base_url)
        await until(lambda: len(load.acknowledged) > acknowledged_during_outage, load)
        await socket.subscribe("after", ME)
        answered = await socket.receive(10)
    load.stop.set()
    async with asyncio.timeout(30):
        await asyncio.gather(*running)
    load.acknowledged.update(
        await burst(deployment.base_url, "s0", senders[0][0], receiver, 3 * POOL_SIZE)
    )

    # Every answer was a success or a JSON 503 (the error contract's SERVICE_UNAVAILABLE
    # with Retry-After; readiness: "degraded"), never a plain 500, and no client needed a
    # second connection: the server kept every keep-alive connection open.
    for answer in load.answers:
        assert "json" in answer.media_type, answer
        assert answer.connection != "close", answer
        if not answer.unavailable:
            assert (answer.status, answer.code) == (200, None), answer
        elif answer.kind != "ready":
            assert (answer.code, answer.retry_after) == ("SERVICE_UNAVAILABLE", "5"), answer
    assert all(len(ports) == 1 for ports in load.ports.values()), load.ports
    # The websocket operation context, during and after.
    assert refused["type"] == "error"
    assert refused["payload"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert answered["type"] == "next"
    assert answered["payload"]["data"] == {"me": {"id": receiver}}
    # The same server process throughout.
    assert deployment.process.returncode is None
    log = open(deployment.log_path, encoding="utf-8").read()  # noqa: ASYNC230, SIM115
    assert "Exception in ASGI application" not in log
    assert "unexpected error" not in log

    # The books: no money made or lost; each acknowledged transfer made exactly once.
    end = await balances(deployment)
    assert sum(end.values()) == sum(start.values())
    receiver_pk = int_pk(receiver, "User")
    assert end[receiver_pk] - start[receiver_pk] == len(load.acknowledged)
    for number, (_, sender) in enumerate(senders):
        sent = sum(key.startswith(f"{KEY_PREFIX}s{number}-") for key in load.acknowledged)
        assert start[int_pk(sender, "User")] - end[int_pk(sender, "User")] == sent
    assert await transfer_count(deployment) - transfers_before == len(load.acknowledged)
    records = await deployment.query(
        f"SELECT key, result_id FROM idempotency_records WHERE key LIKE '{KEY_PREFIX}%'"  # noqa: S608
    )
    assert {row["key"]: gid("Transfer", row["result_id"]) for row in records} == load.acknowledged
    books = await deployment.query(
        "SELECT u.balance_cents, COALESCE(sum(l.amount_cents), 0) AS total "
        "FROM users u LEFT JOIN ledger_entries l ON l.user_id = u.id GROUP BY u.id"
    )
    assert all(row["balance_cents"] == row["total"] for row in books)

"""Password hashing runs off the event loop, in a bounded pool: the server keeps answering
while argon2 works, and hashes beyond the pool's threads and queue are refused with
RATE_LIMITED (HTTP 429, Retry-After) on every path that hashes."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx
import pytest

from server.container import Container
from services.passwords import PasswordHasher
from tests.conftest import AppFactory, data, graphql
from tests.factories import bearer, create_user

PASSWORD = "Sup3r-secret!"
LOGIN = """
mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { accessToken }
}
"""


def container(client: httpx.AsyncClient) -> Container:
    return client.container  # type: ignore[attr-defined,no-any-return]


class ObservedHasher(PasswordHasher):
    """The real hasher; tells the test when a verify starts and ends (in its thread)."""

    def __init__(self, **parameters: int) -> None:
        super().__init__(**parameters)
        self.started = threading.Event()
        self.finished = threading.Event()

    def verify(self, password_hash: str | None, password: str) -> bool:
        self.started.set()
        try:
            return super().verify(password_hash, password)
        finally:
            self.finished.set()


class GatedHasher(PasswordHasher):
    """The real (cheap) hasher, held until the test opens the gate: a hash in progress."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost_kib=8192, parallelism=1)
        self.gate = threading.Event()

    def hash(self, password: str) -> str:
        self.gate.wait(10)
        return super().hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        self.gate.wait(10)
        return super().verify(password_hash, password)


async def until(condition: Any) -> None:
    async with asyncio.timeout(10):
        while not condition():  # noqa: ASYNC110 - waits for a worker thread
            await asyncio.sleep(0.001)


def assert_rate_limited(response: httpx.Response) -> None:
    assert response.status_code == 429
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert error["extensions"]["retryAfter"] >= 1
    assert response.headers["retry-after"] == str(error["extensions"]["retryAfter"])


async def login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await graphql(client, LOGIN, {"email": email, "password": password})


async def test_the_server_answers_other_requests_while_a_password_is_verified(
    client_factory: AppFactory,
):
    production = {"time_cost": 3, "memory_cost_kib": 65536, "parallelism": 4}
    client = client_factory()
    hasher = ObservedHasher(**production)
    container(client).password_pool.hasher = hasher

    attempt = asyncio.create_task(login(client, "ada@example.com", PASSWORD))
    await until(hasher.started.is_set)
    other = await graphql(client, "{ __typename }")

    assert data(other) == {"__typename": "Query"}
    assert not hasher.finished.is_set(), "the query waited for the verify to end"
    assert not attempt.done()
    assert (await attempt).json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.fixture
def busy_client(client_factory: AppFactory) -> tuple[httpx.AsyncClient, GatedHasher]:
    """An app whose pool has one thread and one waiting place; its hasher is gated."""
    client = client_factory(password_hash_concurrency=1, password_hash_queue=1)
    hasher = GatedHasher()
    container(client).password_pool.hasher = hasher
    return client, hasher


async def fill_the_pool(client: httpx.AsyncClient) -> list[asyncio.Task[httpx.Response]]:
    """Two logins in the pool: one hashing, one waiting."""
    pool = container(client).password_pool
    waiting = [asyncio.create_task(login(client, f"u{n}@example.com", PASSWORD)) for n in (1, 2)]
    await until(lambda: pool.admitted == 2)
    return waiting


async def test_a_login_beyond_the_pool_and_its_queue_is_rate_limited(
    busy_client: tuple[httpx.AsyncClient, GatedHasher],
):
    client, hasher = busy_client
    admitted = await fill_the_pool(client)

    assert_rate_limited(await login(client, "u3@example.com", PASSWORD))

    hasher.gate.set()
    for response in await asyncio.gather(*admitted):  # the admitted ones were answered
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert container(client).password_pool.admitted == 0


@pytest.mark.parametrize("path", ["register", "changePassword", "resetPassword"])
async def test_every_hashing_path_is_refused_when_the_pool_is_full(
    busy_client: tuple[httpx.AsyncClient, GatedHasher], path: str
):
    client, hasher = busy_client
    user = await create_user(password_hash=PasswordHasher(1, 8192, 1).hash(PASSWORD))
    admitted = await fill_the_pool(client)
    requests: dict[str, tuple[str, dict[str, Any], dict[str, str] | None]] = {
        "register": (
            "mutation($input: RegisterInput!) { register(input: $input) { id } }",
            {"input": {"name": "Ada", "email": "new@example.com", "password": PASSWORD}},
            None,
        ),
        "changePassword": (
            "mutation($c: String!, $n: String!) "
            "{ changePassword(currentPassword: $c, newPassword: $n) }",
            {"c": PASSWORD, "n": "N3w-secret!!"},
            bearer(client, user),
        ),
        "resetPassword": (
            "mutation($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) }",
            {"t": "a-token", "p": "N3w-secret!!"},
            None,
        ),
    }
    query, variables, headers = requests[path]

    assert_rate_limited(await graphql(client, query, variables, headers))

    hasher.gate.set()
    await asyncio.gather(*admitted)


async def test_a_login_refused_by_the_pool_is_not_a_failed_attempt(
    busy_client: tuple[httpx.AsyncClient, GatedHasher],
):
    client, hasher = busy_client
    user = await create_user(password_hash=PasswordHasher(1, 8192, 1).hash(PASSWORD))
    admitted = await fill_the_pool(client)
    for _ in range(6):  # more than LOGIN_MAX_FAILURES
        assert_rate_limited(await login(client, user.email, PASSWORD))
    hasher.gate.set()
    await asyncio.gather(*admitted)

    assert data(await login(client, user.email, PASSWORD))["login"]["accessToken"]

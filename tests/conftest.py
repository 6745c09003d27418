"""Shared fixtures: one database per test session, emptied between tests; an ASGI client
per test with its own settings and service container.

The suite runs on the embedded defaults (SQLite, in-process buckets). With DATABASE_URL and
REDIS_URL set (the second CI pass) the same tests run on PostgreSQL and Redis.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from tortoise import Tortoise, connections

from core import tracing
from core.faults import REPEATS
from core.settings import Settings
from models.user import User
from server.app import create_app
from server.container import Container
from server.database import close_database, tortoise_config
from tests.factories import bearer
from tests.scratch import FILES_DIR, OUTBOX_DIR, SCRATCH, WORKING_TREE_DATA, changes, snapshot
from tests.tables import delete_all_rows

DATABASE_URL = os.environ.get("DATABASE_URL") or "sqlite://:memory:"
REDIS_URL = os.environ.get("REDIS_URL") or None
ON_POSTGRES = DATABASE_URL.startswith(("postgres", "asyncpg"))

requires_redis = pytest.mark.skipif(REDIS_URL is None, reason="needs REDIS_URL (second CI pass)")
requires_postgres = pytest.mark.skipif(not ON_POSTGRES, reason="needs a PostgreSQL DATABASE_URL")


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "app_env": "test",
        "database_url": DATABASE_URL,
        "redis_url": REDIS_URL,
        "log_level": "WARNING",
        # API tests run jobs in-process even when REDIS_URL is set; the saq backend has its
        # own tests with a real worker (tests/integration/test_jobs.py).
        "job_backend": "inprocess",
        "mail_outbox_dir": str(OUTBOX_DIR),
        "storage_local_dir": str(FILES_DIR),
        # Cheap argon2 parameters keep the suite fast; production uses the defaults.
        "argon2_time_cost": 1,
        "argon2_memory_cost_kib": 8192,
        "argon2_parallelism": 1,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture(scope="session", autouse=True)
def working_tree_data_untouched() -> Iterator[None]:
    """The suite writes its mails and files under SCRATCH; a write into data/ fails the run."""
    before = snapshot(WORKING_TREE_DATA)
    yield
    shutil.rmtree(SCRATCH, ignore_errors=True)
    written = changes(before, snapshot(WORKING_TREE_DATA))
    assert not written, (
        f"the tests wrote into {WORKING_TREE_DATA} (point the setting at tests.scratch, "
        f"or stop a `make run` writing there meanwhile): {written}"
    )


@pytest.fixture(autouse=True)
def fresh_log_throttle() -> Iterator[None]:
    """Each test starts with no run of repeated warnings (the throttle is process-wide)."""
    REPEATS.drain()
    yield
    REPEATS.drain()


@pytest.fixture(scope="session")
async def database() -> AsyncIterator[None]:
    settings = make_settings()
    await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)
    if ON_POSTGRES:
        connection = connections.get("default")
        await connection.execute_script("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    await Tortoise.generate_schemas(safe=True)
    yield
    await close_database()


async def empty_tables() -> None:
    await delete_all_rows()


@pytest.fixture
async def db(database: None) -> None:
    """An empty database for this test."""
    await empty_tables()


AppFactory = Callable[..., httpx.AsyncClient]


@pytest.fixture
async def client_factory(db: None) -> AsyncIterator[AppFactory]:
    """Build clients for apps with settings overridden per test; all closed afterwards."""
    opened: list[tuple[httpx.AsyncClient, Container]] = []

    def build(
        peer: tuple[str, int] = ("203.0.113.7", 50000), **overrides: Any
    ) -> httpx.AsyncClient:
        settings = make_settings(**overrides)
        container = Container.from_settings(settings, key_prefix=f"test:{uuid.uuid4().hex}:")
        app = create_app(settings, manage_database=False, container=container)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=peer),
            base_url="http://testserver",
        )
        client.container = container  # type: ignore[attr-defined]  # for tests that inspect it
        opened.append((client, container))
        return client

    yield build
    for client, container in opened:
        await client.aclose()
        await container.close()


@pytest.fixture
def client(client_factory: AppFactory) -> httpx.AsyncClient:
    return client_factory()


async def graphql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    operation_name: str | None = None,
) -> httpx.Response:
    payload: dict[str, Any] = {"query": query}
    if variables is not None:
        payload["variables"] = variables
    if operation_name is not None:
        payload["operationName"] = operation_name
    return await client.post("/graphql", json=payload, headers=headers or {})


def data(response: httpx.Response) -> dict[str, Any]:
    """The ``data`` of a response that must have no errors."""
    return data_of(response.json())


def data_of(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body["errors"]
    return body["data"]  # type: ignore[no-any-return]


def error_of(body: dict[str, Any]) -> dict[str, Any]:
    """The one error of a response body."""
    assert len(body.get("errors") or []) == 1, body
    return body["errors"][0]  # type: ignore[no-any-return]


async def call(
    client: httpx.AsyncClient,
    viewer: User | None,
    query: str,
    variables: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The response body of ``query`` as ``viewer`` (anonymous when None)."""
    headers = bearer(client, viewer) if viewer is not None else None
    return (await graphql(client, query, variables, headers)).json()  # type: ignore[no-any-return]


class StatementCounter(logging.Handler):
    """Counts the SQL statements Tortoise sends (it logs each at DEBUG on
    ``tortoise.db_client``): the N+1 tests assert on these counts."""

    KINDS = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage().lstrip()
        if message.upper().startswith(self.KINDS):
            self.statements.append(message)

    @property
    def count(self) -> int:
        return len(self.statements)

    def reset(self) -> None:
        self.statements.clear()


@pytest.fixture
def sql_statements() -> Iterator[StatementCounter]:
    logger = logging.getLogger("tortoise.db_client")
    counter = StatementCounter()
    previous_level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    try:
        yield counter
    finally:
        logger.removeHandler(counter)
        logger.setLevel(previous_level)


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on for this test, every span kept in memory (each exported as it ends); apps
    built with ``otel_traces_exporter="otlp"`` then trace into it (the first provider installed
    wins, core/tracing.py). Off again, and the libraries uninstrumented, afterwards."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.install(provider)
    tracing.enabled = True
    try:
        yield exporter
    finally:
        tracing.uninstall()

"""What a database outage really raises, and that services/unavailable.py calls it an
outage: the failures are produced for real (a port nothing listens on, a server that never
answers, backends of the test PostgreSQL terminated with pg_terminate_backend: only our own
connections, the server keeps running)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import asyncpg
import pytest
from tortoise import connections
from tortoise.backends.asyncpg.client import AsyncpgDBClient
from tortoise.transactions import in_transaction

from server.database import connect, connection_config, postgres_connection
from services.unavailable import DatabaseUnreachable, database_unavailable
from tests import factories
from tests.conftest import DATABASE_URL, make_settings, requires_postgres
from tests.outage import absent_postgres_url


async def failure_of(client: AsyncpgDBClient) -> BaseException:
    with pytest.raises(Exception) as raised:  # noqa: PT011 - any failure, classified below
        await client.execute_query("SELECT 1")
    await client.close()
    return raised.value


def client_of(url: str, connect_timeout: float) -> AsyncpgDBClient:
    config = postgres_connection(url, connect_timeout=connect_timeout)
    return AsyncpgDBClient(connection_name="probe", **config["credentials"])


def test_the_postgres_pool_connects_through_connect_within_the_configured_timeout():
    settings = make_settings(
        database_url="postgres://agora@db.internal:5432/agora", db_connect_timeout_seconds=3
    )

    config = connection_config(settings)

    assert isinstance(config, dict)
    credentials = config["credentials"]
    assert credentials["connect"] is connect
    assert credentials["timeout"] == 3


async def test_a_refused_connection_is_database_unreachable():
    error = await failure_of(client_of(absent_postgres_url(), connect_timeout=5))

    assert isinstance(error, DatabaseUnreachable)
    assert isinstance(error.__cause__, ConnectionRefusedError)
    assert database_unavailable(error)


async def test_a_server_that_never_answers_is_unreachable_after_the_connect_timeout():
    silent = await asyncio.start_server(lambda reader, writer: None, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    try:
        error = await failure_of(client_of(f"asyncpg://agora@127.0.0.1:{port}/agora", 0.2))
    finally:
        silent.close()

    assert isinstance(error, DatabaseUnreachable)
    assert isinstance(error.__cause__, TimeoutError)
    assert database_unavailable(error)


async def test_a_constraint_violation_is_not_an_outage(db):
    await factories.create_user(email="twice@example.com")
    with pytest.raises(Exception) as raised:  # noqa: PT011 - SQLite's or PostgreSQL's
        await factories.create_user(email="twice@example.com")

    assert not database_unavailable(raised.value)


# --- connections the PostgreSQL server ends ---------------------------------------------


def dsn(port: int | None = None) -> str:
    parts = urlsplit(DATABASE_URL)
    host = f"{parts.hostname}:{port or parts.port or 5432}"
    user = f"{parts.username}@" if parts.username else ""
    return f"postgresql://{user}{host}{parts.path}"


@pytest.fixture
async def admin() -> AsyncIterator[asyncpg.Connection]:
    """A connection that terminates the backends of the others."""
    connection = await asyncpg.connect(dsn())
    yield connection
    await connection.close()


async def closed(connection: asyncpg.Connection) -> None:
    async with asyncio.timeout(5):
        while not connection.is_closed():  # noqa: ASYNC110 - the EOF is read by the loop
            await asyncio.sleep(0.01)


@requires_postgres
async def test_a_statement_cut_by_the_server_is_an_outage(admin):
    victim = await asyncpg.connect(dsn())
    running = asyncio.create_task(victim.fetchval("SELECT pg_sleep(30)"))
    async with asyncio.timeout(5):
        while not await admin.fetchval(  # noqa: ASYNC110 - waits for the statement to start
            "SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND state = 'active'",
            victim.get_server_pid(),
        ):
            await asyncio.sleep(0.01)

    await admin.execute("SELECT pg_terminate_backend($1)", victim.get_server_pid())

    with pytest.raises(Exception) as raised:  # noqa: PT011 - classified below
        await running
    assert isinstance(raised.value, asyncpg.ConnectionDoesNotExistError)
    assert isinstance(raised.value.__cause__, asyncpg.AdminShutdownError)
    assert database_unavailable(raised.value)


@requires_postgres
async def test_a_statement_on_a_connection_the_server_closed_is_an_outage(admin):
    victim = await asyncpg.connect(dsn())
    await admin.execute("SELECT pg_terminate_backend($1)", victim.get_server_pid())
    await closed(victim)

    with pytest.raises(asyncpg.InterfaceError) as raised:
        await victim.fetchval("SELECT 1")
    assert str(raised.value) == "connection is closed"
    assert database_unavailable(raised.value)


async def transaction_ended_by_the_server(admin: asyncpg.Connection) -> None:
    async with in_transaction() as transaction:
        pid = (await transaction.execute_query_dict("SELECT pg_backend_pid() AS pid"))[0]
        await admin.execute("SELECT pg_terminate_backend($1)", pid["pid"])
        await closed(transaction._connection)
        await transaction.execute_query("SELECT 1")


async def transaction_over_its_statement_timeout() -> None:
    async with in_transaction() as transaction:
        await transaction.execute_script("SET LOCAL statement_timeout = 10")
        await transaction.execute_query("SELECT pg_sleep(5)")


@requires_postgres
async def test_a_transaction_whose_connection_was_ended_is_an_outage(db, admin):
    with pytest.raises(Exception) as raised:  # noqa: PT011 - classified below
        await transaction_ended_by_the_server(admin)

    # Tortoise's rollback fails too; the lost connection is what it was handling.
    assert "the underlying connection is closed" in str(raised.value)
    assert database_unavailable(raised.value)
    assert (await connections.get("default").execute_query("SELECT 1"))[0] == 1


@requires_postgres
async def test_a_statement_timeout_is_not_an_outage(db):
    with pytest.raises(Exception) as raised:  # noqa: PT011 - classified below
        await transaction_over_its_statement_timeout()

    assert isinstance(raised.value, asyncpg.QueryCanceledError)
    assert not database_unavailable(raised.value)


@requires_postgres
async def test_two_operations_at_once_on_one_connection_are_a_bug_not_an_outage():
    connection = await asyncpg.connect(dsn())
    try:
        first = asyncio.create_task(connection.fetchval("SELECT pg_sleep(0.2)"))
        await asyncio.sleep(0)
        with pytest.raises(asyncpg.InterfaceError) as raised:
            await connection.fetchval("SELECT 1")
        await first
    finally:
        await connection.close()

    assert "another operation is in progress" in str(raised.value)
    assert not database_unavailable(raised.value)


# --- the asyncpg InternalClientError logged when the database stopped -------------------


class EndHeldRelay:
    """A TCP relay to PostgreSQL that passes every byte on at once but, when the server
    closes, keeps the client's side open until ``release``: the client has read the server's
    last message and not yet the end of the connection, the moment an event loop under load
    sits in between the two."""

    def __init__(self) -> None:
        self.server_closed = asyncio.Event()
        self.released = asyncio.Event()
        self.port = 0
        self._listener: asyncio.Server | None = None

    async def start(self, target_port: int) -> None:
        async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                urlsplit(DATABASE_URL).hostname, target_port
            )
            to_server = asyncio.create_task(pump(reader, upstream_writer))
            await pump(upstream_reader, writer, close=False)
            self.server_closed.set()
            await self.released.wait()
            to_server.cancel()
            writer.close()

        self._listener = await asyncio.start_server(relay, "127.0.0.1", 0)
        self.port = self._listener.sockets[0].getsockname()[1]

    async def close(self) -> None:
        self.released.set()
        if self._listener is not None:
            self._listener.close()


async def pump(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, close: bool = True
) -> None:
    while chunk := await reader.read(65536):
        writer.write(chunk)
        await writer.drain()
    if close:
        with contextlib.suppress(OSError):
            writer.close()


@requires_postgres
async def test_the_first_statement_after_the_server_ended_an_idle_connection_is_an_outage(
    admin,
):
    """The ``InternalClientError: cannot switch to state 12; another operation (2) is in
    progress`` seen when the database stopped: one connection, one task, no concurrency."""
    relay = EndHeldRelay()
    await relay.start(urlsplit(DATABASE_URL).port or 5432)
    victim = await asyncpg.connect(dsn(relay.port))
    try:
        await admin.execute("SELECT pg_terminate_backend($1)", victim.get_server_pid())
        await relay.server_closed.wait()  # its FATAL was relayed, its EOF is held
        for _ in range(10):  # a few loop turns: the relayed bytes are read
            await asyncio.sleep(0)

        assert not victim.is_closed()
        with pytest.raises(asyncpg.InternalClientError) as raised:
            await victim.fetchval("SELECT 1")
    finally:
        await relay.close()
        victim.terminate()

    assert "another operation (2) is in progress" in str(raised.value)
    assert database_unavailable(raised.value)

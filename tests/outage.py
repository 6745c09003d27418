"""A real database outage for the tests on any database: while ``database_down()`` is
active, the app's ``default`` connection is an asyncpg client, configured as the app
configures PostgreSQL (server/database.py), of a server that is not there (a port nothing
listens on). Every statement then fails as it does while PostgreSQL is stopped: the pool
cannot connect (tests/e2e/test_database_outage.py stops a real one)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tortoise import connections
from tortoise.backends.asyncpg.client import AsyncpgDBClient

from server.database import postgres_connection
from tests.e2e.conftest import free_port


def absent_postgres_url() -> str:
    return f"asyncpg://agora@127.0.0.1:{free_port()}/agora"


@asynccontextmanager
async def database_down() -> AsyncIterator[None]:
    config = postgres_connection(absent_postgres_url(), connect_timeout=5)
    absent = AsyncpgDBClient(connection_name="default", **config["credentials"])
    # The connection table every task shares (``connections.set`` would only change this
    # task's copy): live servers run in tasks of their own.
    table = connections._get_storage()
    real = table["default"]
    table["default"] = absent
    try:
        yield
    finally:
        table["default"] = real
        await absent.close()

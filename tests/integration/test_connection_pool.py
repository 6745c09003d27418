"""The PostgreSQL pool skips asyncpg's per-release RESET round trip (server/database.py):
what the application relies on from a released connection still holds."""

from __future__ import annotations

from tortoise import connections

from server.database import connection_config, keep_session_state
from tests.conftest import make_settings, requires_postgres

pytestmark = requires_postgres


def test_the_pool_is_configured_with_the_session_keeping_reset():
    config = connection_config(make_settings())

    assert isinstance(config, dict)
    assert config["credentials"]["reset"] is keep_session_state


async def test_a_transaction_left_open_is_rolled_back_when_its_connection_is_released(db):
    pool = connections.get("default")._pool
    async with pool.acquire() as connection:
        await connection.execute("BEGIN")
        await connection.execute("CREATE TEMP TABLE leftover (id int)")
    for _ in range(pool.get_max_size()):  # every pooled connection, whichever it was
        async with pool.acquire() as connection:
            assert not connection.is_in_transaction()
            assert await connection.fetchval("SELECT to_regclass('pg_temp.leftover')") is None

"""Tortoise ORM set-up: one config for the app, the CLI, aerich and the tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg
from asyncpg import Connection
from tortoise import Tortoise, connections
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.exceptions import ConfigurationError

from core.settings import Settings
from services.unavailable import DatabaseUnreachable

APP_LABEL = "models"
MODEL_MODULES = [
    "models.user",
    "models.auth",
    "models.audit",
    "models.posts",
    "models.catalogue",
    "models.orders",
    "models.wallet",
    "models.notifications",
    "models.files",
]
MIGRATIONS_LOCATION = "./migrations"


def database_url(settings: Settings) -> str:
    """The URL Tortoise connects to: PostgreSQL URLs get the pool size from the settings."""
    url = settings.database_url
    parts = urlsplit(url)
    if parts.scheme in ("postgres", "postgresql", "asyncpg"):
        query = dict(parse_qsl(parts.query))
        query.setdefault("minsize", str(settings.db_pool_min))
        query.setdefault("maxsize", str(settings.db_pool_max))
        return urlunsplit(("asyncpg", parts.netloc, parts.path, urlencode(query), parts.fragment))
    return url


async def keep_session_state(connection: Connection) -> None:
    """asyncpg's pool ``reset``: what it always does first (roll back a transaction left
    open, drop listeners) is enough here, so the default ``RESET ALL; CLOSE ALL; UNLISTEN
    *; SELECT pg_advisory_unlock_all()`` round trip after every statement is skipped. The
    application never changes session state (no SET, LISTEN, cursors or session advisory
    locks); anything that starts to must use ``SET LOCAL``/transaction-scoped locks."""


async def connect(*args: Any, **kwargs: Any) -> Connection:
    """asyncpg's pool ``connect``: a server that cannot be reached (refused, reset, unknown
    host, no answer within the connect timeout) raises DatabaseUnreachable, so the outage is
    told apart from any other ``OSError`` (services/unavailable.py)."""
    try:
        connection: Connection = await asyncpg.connect(*args, **kwargs)
    except OSError as exc:  # TimeoutError and every socket error are OSErrors
        raise DatabaseUnreachable(f"cannot connect to the database: {exc}") from exc
    return connection


def postgres_connection(url: str, connect_timeout: float | None = None) -> dict[str, Any]:
    """Tortoise's connection config for an ``asyncpg://`` URL: the pool's reset and connect,
    and the connect timeout (asyncpg waits 60 s by default; a ``timeout`` in the URL wins)."""
    config = expand_db_url(url)
    credentials = config["credentials"]
    credentials["reset"] = keep_session_state
    credentials["connect"] = connect
    if connect_timeout is not None:
        credentials.setdefault("timeout", connect_timeout)
    return config


def connection_config(settings: Settings) -> str | dict[str, Any]:
    """Tortoise's ``default`` connection: the URL, with the pool's reset, connect and
    timeout for PostgreSQL."""
    url = database_url(settings)
    if url.startswith("asyncpg://"):
        return postgres_connection(url, settings.db_connect_timeout_seconds)
    return url


def tortoise_config(settings: Settings, *, with_aerich: bool = True) -> dict[str, Any]:
    models = [*MODEL_MODULES, "aerich.models"] if with_aerich else list(MODEL_MODULES)
    return {
        "connections": {"default": connection_config(settings)},
        "apps": {APP_LABEL: {"models": models, "default_connection": "default"}},
        "use_tz": True,
        "timezone": "UTC",
    }


async def init_database(settings: Settings) -> None:
    """Connect; on SQLite also create any missing tables from the models."""
    await _connect(settings)
    if settings.is_sqlite:
        await Tortoise.generate_schemas(safe=True)


async def _connect(settings: Settings) -> None:
    sqlite_path = settings.sqlite_path()
    if sqlite_path is not None:
        sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    # A bare Tortoise.init leaves request tasks without a context unless the global
    # fallback is on (RegisterTortoise turns it on too).
    await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)


async def _create_missing_sqlite_tables() -> list[str]:
    """What creating the models' missing tables did, empty when none was missing."""
    existed = await _sqlite_tables()
    await Tortoise.generate_schemas(safe=True)
    created = sorted(await _sqlite_tables() - existed)
    if not created:
        return []
    if not existed:
        return [f"schema created from the models (SQLite, {len(created)} tables)"]
    return [f"created from the models (SQLite): {', '.join(created)}"]


async def _sqlite_tables() -> set[str]:
    _, rows = await connections.get("default").execute_query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )
    return {row["name"] for row in rows}


async def close_database() -> None:
    await connections.close_all()


async def ping_database() -> None:
    """Raise if the database cannot answer a trivial query."""
    await connections.get("default").execute_query("SELECT 1")


async def migrate(settings: Settings) -> list[str]:
    """Bring the schema up to date: aerich migrations on PostgreSQL, the models on SQLite."""
    if settings.is_sqlite:
        await _connect(settings)
        try:
            return await _create_missing_sqlite_tables()
        finally:
            await close_database()
    from aerich import Command  # imported lazily: aerich is only needed for PostgreSQL

    async with Command(
        tortoise_config=tortoise_config(settings), app=APP_LABEL, location=MIGRATIONS_LOCATION
    ) as command:
        await command.init()
        applied: list[str] = await command.upgrade(run_in_transaction=True)
    return applied


@dataclass(frozen=True, slots=True)
class PoolUsage:
    in_use: int
    idle: int
    max_size: int
    waiting: int


def pool_usage() -> PoolUsage | None:
    """The PostgreSQL pool's connections now; None on SQLite (one connection, no pool) or
    before the pool exists. ``waiting`` reads asyncpg's queue of free connections: the
    acquirers blocked in its ``get`` (asyncpg 0.32 has no public count of them;
    tests/integration/test_runtime_metrics.py saturates a pool to pin it)."""
    try:
        client = connections.get("default")
    except ConfigurationError:  # not connected (yet, or any more)
        return None
    pool: asyncpg.Pool | None = getattr(client, "_pool", None)
    if not isinstance(pool, asyncpg.Pool):
        return None
    size, idle = pool.get_size(), pool.get_idle_size()
    getters = getattr(pool._queue, "_getters", ())
    waiting = sum(1 for getter in getters if not getter.done())
    return PoolUsage(size - idle, idle, pool.get_max_size(), waiting)

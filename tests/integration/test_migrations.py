"""The aerich migrations build exactly the schema the models describe (PostgreSQL)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from tests.conftest import DATABASE_URL, requires_postgres

PROJECT_ROOT = Path(__file__).resolve().parents[2]

pytestmark = requires_postgres

COLUMNS_SQL = """
SELECT table_name, column_name, data_type, is_nullable, column_default,
       character_maximum_length
FROM information_schema.columns
WHERE table_schema = 'public' AND table_name <> 'aerich'
ORDER BY table_name, column_name
"""
INDEXES_SQL = """
SELECT tablename, indexname, indexdef FROM pg_indexes
WHERE schemaname = 'public' AND tablename <> 'aerich'
ORDER BY tablename, indexname
"""
CONSTRAINTS_SQL = """
SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text <> 'aerich'
ORDER BY 1, 2
"""


def _url_for(database: str) -> str:
    parts = urlsplit(DATABASE_URL)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, ""))


def _asyncpg_dsn(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(("postgresql", parts.netloc, parts.path, "", ""))


@pytest.fixture
async def scratch_databases() -> AsyncIterator[tuple[str, str]]:
    names = [f"agora_drift_{uuid.uuid4().hex[:8]}_{side}" for side in ("migrated", "models")]
    admin = await asyncpg.connect(_asyncpg_dsn(_url_for("postgres")))
    try:
        for name in names:
            await admin.execute(f'CREATE DATABASE "{name}"')
        yield _url_for(names[0]), _url_for(names[1])
    finally:
        for name in names:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def _run(args: list[str], database_url: str) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "APP_ENV": "development"}
    completed = subprocess.run(
        [sys.executable, *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr


async def _catalog(url: str) -> dict[str, list[tuple[object, ...]]]:
    connection = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        return {
            name: [tuple(row) for row in await connection.fetch(sql)]
            for name, sql in (
                ("columns", COLUMNS_SQL),
                ("indexes", INDEXES_SQL),
                ("constraints", CONSTRAINTS_SQL),
            )
        }
    finally:
        await connection.close()


GENERATE_FROM_MODELS = (
    "import asyncio\n"
    "from tortoise import Tortoise\n"
    "from server.database import tortoise_config\n"
    "from core.settings import Settings\n"
    "async def main():\n"
    "    await Tortoise.init(config=tortoise_config(Settings()))\n"
    "    await Tortoise.generate_schemas()\n"
    "    await Tortoise.close_connections()\n"
    "asyncio.run(main())\n"
)


async def test_migrations_produce_the_schema_the_models_describe(scratch_databases):
    migrated_url, models_url = scratch_databases
    _run(["-m", "server", "migrate"], migrated_url)
    _run(["-c", GENERATE_FROM_MODELS], models_url)

    migrated, from_models = await _catalog(migrated_url), await _catalog(models_url)

    assert migrated["columns"], "the migrations created no tables"
    for part in ("columns", "indexes", "constraints"):
        assert migrated[part] == from_models[part], (
            f"{part} differ between the migrations and the models: run "
            "`aerich migrate --name <change>` against PostgreSQL and commit the migration"
        )


async def test_migrate_twice_is_a_no_op(scratch_databases):
    migrated_url, _ = scratch_databases
    _run(["-m", "server", "migrate"], migrated_url)
    _run(["-m", "server", "migrate"], migrated_url)
    connection = await asyncpg.connect(_asyncpg_dsn(migrated_url))
    try:
        versions = await connection.fetch("SELECT version FROM aerich")
    finally:
        await connection.close()
    assert len(versions) == len(list((PROJECT_ROOT / "migrations" / "models").glob("*.py")))

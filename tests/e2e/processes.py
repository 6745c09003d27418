"""`python -m server` as a separate process: the CLI commands and `serve` on a port, for the
end-to-end tests that need a server of their own (its own database, its own lifetime),
stopped (killed if need be) when the test ends."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO

import httpx

from tests.e2e.conftest import free_port
from tests.scratch import FILES_DIR, OUTBOX_DIR

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SERVER = (sys.executable, "-m", "server")


def server_env(database_url: str, **settings: str) -> dict[str, str]:
    """The environment of a server process: this one's, a development app on
    ``database_url`` without Redis, JSON logs, cheap argon2 parameters, mails and files in
    the tests' scratch directory, then ``settings``."""
    return {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": database_url,
        "REDIS_URL": "",
        "JOB_BACKEND": "inprocess",
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "json",
        "ARGON2_MEMORY_COST_KIB": "8192",
        "ARGON2_TIME_COST": "1",
        "ARGON2_PARALLELISM": "1",
        "MAIL_OUTBOX_DIR": str(OUTBOX_DIR),
        "STORAGE_LOCAL_DIR": str(FILES_DIR),
        **settings,
    }


async def run_cli(env: dict[str, str], *args: str) -> None:
    process = await asyncio.create_subprocess_exec(
        *SERVER, *args, env=env, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL
    )
    assert await process.wait() == 0, f"{args[0]} failed"


async def start_server(
    env: dict[str, str], port: int, log: IO[bytes] | None = None
) -> asyncio.subprocess.Process:
    """``serve`` on ``port``; its stdout and stderr go to ``log`` when given."""
    return await asyncio.create_subprocess_exec(
        *SERVER,
        "serve",
        "--port",
        str(port),
        env=env,
        cwd=PROJECT_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT if log is not None else None,
    )


async def wait_for_health(
    base_url: str, process: asyncio.subprocess.Process, check: str = "ready"
) -> None:
    """Until ``/health/<check>`` (``live`` or ``ready``) answers 200; fails if the server
    exits first or takes more than 30 s."""
    async with httpx.AsyncClient(base_url=base_url) as http, asyncio.timeout(30):
        while True:
            assert process.returncode is None, "the server exited"
            try:
                if (await http.get(f"/health/{check}")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)


async def wait_ready(base_url: str, process: asyncio.subprocess.Process) -> None:
    await wait_for_health(base_url, process, "ready")


async def stop_server(process: asyncio.subprocess.Process) -> None:
    """SIGTERM, then SIGKILL if it has not exited within 15 s."""
    if process.returncode is None:
        process.terminate()
    try:
        async with asyncio.timeout(15):
            await process.wait()
    except TimeoutError:
        process.kill()
        await process.wait()


@asynccontextmanager
async def serving(
    env: dict[str, str], stdout: IO[bytes] | None = None
) -> AsyncIterator[tuple[asyncio.subprocess.Process, int]]:
    """A `serve` process on a free port, live; the process and its port. ``stdout``
    receives its log (one JSON object per line)."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        *SERVER, "serve", "--port", str(port), env=env, cwd=PROJECT_ROOT, stdout=stdout
    )
    try:
        await wait_for_health(f"http://127.0.0.1:{port}", process, "live")
        yield process, port
    finally:
        await stop_server(process)

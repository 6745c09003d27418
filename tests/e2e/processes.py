"""`python -m server` as a separate process: the CLI commands and `serve` on a port, for the
end-to-end tests that need a server of their own (its own database, its own lifetime)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import IO

import httpx

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SERVER = (sys.executable, "-m", "server")


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


async def wait_ready(base_url: str, process: asyncio.subprocess.Process) -> None:
    async with httpx.AsyncClient(base_url=base_url) as http, asyncio.timeout(30):
        while True:
            assert process.returncode is None, "a server exited"
            try:
                if (await http.get("/health/ready")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)


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

"""A redis-server of a test's own, on a free port (never the machine's shared Redis): it can
be killed and started again on the same port to play a Redis outage."""

from __future__ import annotations

import asyncio
import shutil
import subprocess

from tests.e2e.conftest import free_port


class RedisServer:
    """Started with ``start()``, gone with ``kill()``; nothing is persisted."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        assert binary is not None, "redis-server is not installed"
        self.binary = binary
        self.port = free_port()
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            stdout=subprocess.DEVNULL,
        )
        async with asyncio.timeout(10):
            while True:
                assert self.process.returncode is None, "redis-server exited"
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                except OSError:
                    await asyncio.sleep(0.02)
                    continue
                writer.close()
                return

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        self.process = None

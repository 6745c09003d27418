"""A headless Chromium page driven over the DevTools protocol: open a URL, run a script in
the page, wait for the page a form submission loads, and read what the browser reported
(CSP violations arrive as log entries)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
STEP_SECONDS = 30  # a hang guard for each step, never a speed assertion


class Page:
    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.last_id = 0
        self.events: list[dict[str, Any]] = []
        self.log: list[str] = []

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        self.last_id += 1
        command_id = self.last_id
        await self.socket.send(json.dumps({"id": command_id, "method": method, "params": params}))
        async with asyncio.timeout(STEP_SECONDS):
            while True:
                message = json.loads(await self.socket.recv())
                if message.get("id") == command_id:
                    assert "error" not in message, message["error"]
                    return message.get("result", {})  # type: ignore[no-any-return]
                self._record(message)

    async def open(self, url: str) -> None:
        self.events.clear()
        await self.send("Page.navigate", url=url)
        await self._wait_for_load()

    async def run(self, script: str) -> Any:
        result = await self.send("Runtime.evaluate", expression=script, returnByValue=True)
        return result["result"].get("value")

    async def run_and_wait_for_load(self, script: str) -> None:
        """Run a script that navigates (a click on a submit button) and wait for the page
        it loads."""
        self.events.clear()
        await self.run(script)
        await self._wait_for_load()

    async def text(self) -> str:
        return str(await self.run("document.body.innerText"))

    async def _wait_for_load(self) -> None:
        async with asyncio.timeout(STEP_SECONDS):
            while not any(event["method"] == "Page.loadEventFired" for event in self.events):
                self._record(json.loads(await self.socket.recv()))

    def _record(self, message: dict[str, Any]) -> None:
        if "method" not in message:
            return
        self.events.append(message)
        if message["method"] == "Log.entryAdded":
            self.log.append(message["params"]["entry"]["text"])


@asynccontextmanager
async def chromium_page() -> AsyncIterator[Page]:
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory() as profile:
        process = await asyncio.create_subprocess_exec(
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",
            "about:blank",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,  # its own process group, ended whole in _stop
        )
        try:
            port = await _devtools_port(Path(profile) / "DevToolsActivePort")
            async with httpx.AsyncClient() as http:
                targets = (await http.get(f"http://127.0.0.1:{port}/json/list")).json()
            [target] = [target for target in targets if target["type"] == "page"]
            async with connect(target["webSocketDebuggerUrl"], max_size=None) as socket:
                page = Page(socket)
                await page.send("Page.enable")
                await page.send("Log.enable")
                yield page
                with suppress(ConnectionClosed):
                    await page.send("Browser.close")
        finally:
            await _stop(process)


async def _stop(process: asyncio.subprocess.Process) -> None:
    """Wait for the browser closed above to exit, then end what is left of the process
    group it started (helpers still writing into the profile fail its removal)."""
    try:
        async with asyncio.timeout(STEP_SECONDS):
            await process.wait()
    except TimeoutError:
        process.kill()
        await process.wait()
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


async def _devtools_port(port_file: Path) -> int:
    async with asyncio.timeout(STEP_SECONDS):
        while True:
            if (port := _written_port(port_file)) is not None:
                return port
            await asyncio.sleep(0.05)


def _written_port(port_file: Path) -> int | None:
    """Chromium writes the port it chose, then the browser's path, once it listens."""
    lines = port_file.read_text().splitlines() if port_file.exists() else []
    return int(lines[0]) if len(lines) >= 2 else None

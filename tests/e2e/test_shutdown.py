"""SIGTERM stops accepting connections first, then drains: a real `python -m server serve`.

(Flushing queued subscription events before closing with 1001 is tested in
tests/e2e/test_subscriptions.py.)"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Literal

import websockets

from tests.e2e.processes import server_env, serving
from tests.e2e.wsclient import GraphQLWS, connect

Outcome = Literal["refused", "answered", "reset"]

# A login for an unknown email is checked against a dummy hash made with these parameters:
# ~0.5 s of argon2, during which the drain waits for the login running over the websocket.
SLOW_ARGON2 = {"ARGON2_TIME_COST": "300", "ARGON2_MEMORY_COST_KIB": "8192"}
SLOW_LOGIN = (
    'mutation { login(email: "nobody@example.com", password: "Wr0ng-password!") { accessToken } }'
)


async def new_connection(port: int) -> Outcome:
    """Open a new connection and ask for /health/live on it."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except ConnectionRefusedError:
        return "refused"
    try:
        writer.write(b"GET /health/live HTTP/1.1\r\nHost: agora\r\nConnection: close\r\n\r\n")
        async with asyncio.timeout(10):
            answer = await reader.read()
    except ConnectionResetError:
        return "reset"
    finally:
        writer.close()
    return "answered" if answer.startswith(b"HTTP/1.1 ") else "reset"


async def operation_result(client: GraphQLWS) -> str:
    """The type of the first message the operation gets (``next`` or ``error``)."""
    try:
        return str((await client.receive(30))["type"])
    except websockets.exceptions.ConnectionClosed:
        return "closed"


async def test_after_sigterm_new_connections_are_refused_while_the_drain_runs(tmp_path: Path):
    env = server_env(f"sqlite://{tmp_path}/agora.sqlite3", **SLOW_ARGON2)
    async with serving(env) as (process, port):
        async with connect(f"ws://127.0.0.1:{port}/graphql") as client:
            await client.init()
            await client.subscribe("login", SLOW_LOGIN)
            await client.send({"type": "ping"})
            # Messages are handled in order: the login is running once the pong is back.
            assert (await client.receive())["type"] == "pong"
            result = asyncio.create_task(operation_result(client))
            process.send_signal(signal.SIGTERM)
            # Let the signal be handled: a connection completing its handshake at the very
            # instant the listener closes is reset by the kernel, which is not this test.
            await asyncio.sleep(0.2)

            outcomes = [await new_connection(port)]
            while outcomes[-1] == "answered":
                outcomes.append(await new_connection(port))
            refused_during_the_drain = not result.done()

            assert outcomes[-1] == "refused", outcomes  # never accepted, then reset
            assert refused_during_the_drain, "the listener stayed open until the drain ended"
            assert await result == "next"  # the login already running was answered
            assert await client.closed_with(10) == 1001
        async with asyncio.timeout(15):
            await process.wait()  # uvicorn re-raises the signal once it has stopped

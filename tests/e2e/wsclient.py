"""A small graphql-transport-ws (and legacy graphql-ws) client on the websockets library,
for the end-to-end tests and the subscription benchmark."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

TRANSPORT_WS = Subprotocol("graphql-transport-ws")
LEGACY_WS = Subprotocol("graphql-ws")


class GraphQLWS:
    """One socket: ``init``, ``subscribe``, then ``receive`` messages (pings answered)."""

    def __init__(self, socket: ClientConnection, protocol: Subprotocol) -> None:
        self.socket = socket
        self.protocol = protocol

    @property
    def legacy(self) -> bool:
        return self.protocol == LEGACY_WS

    async def send(self, message: dict[str, Any]) -> None:
        await self.socket.send(json.dumps(message))

    async def init(self, token: str | None = None) -> dict[str, Any]:
        payload = {"Authorization": f"Bearer {token}"} if token else {}
        await self.send({"type": "connection_init", "payload": payload})
        return await self.receive()

    async def subscribe(
        self, operation_id: str, query: str, variables: dict[str, Any] | None = None
    ) -> None:
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        kind = "start" if self.legacy else "subscribe"
        await self.send({"id": operation_id, "type": kind, "payload": payload})

    async def complete(self, operation_id: str) -> None:
        await self.send({"id": operation_id, "type": "stop" if self.legacy else "complete"})

    async def receive(self, seconds: float = 5.0) -> dict[str, Any]:
        async with asyncio.timeout(seconds):
            while True:
                message: dict[str, Any] = json.loads(await self.socket.recv())
                if message["type"] == "ping":
                    await self.send({"type": "pong"})
                elif message["type"] != "ka":
                    return message

    async def nothing_within(self, seconds: float) -> bool:
        """True when no message arrives within ``seconds``."""
        try:
            message = await self.receive(seconds)
        except TimeoutError:
            return True
        raise AssertionError(f"unexpected message: {message}")

    async def closed_with(self, seconds: float = 5.0) -> int | None:
        """Wait for the server to close the socket; its close code."""
        try:
            async with asyncio.timeout(seconds):
                while True:
                    await self.socket.recv()
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None
        raise AssertionError("still open")  # pragma: no cover


@asynccontextmanager
async def connect(
    url: str,
    protocol: Subprotocol = TRANSPORT_WS,
    **options: Any,
) -> AsyncIterator[GraphQLWS]:
    async with websockets.connect(url, subprotocols=[protocol], **options) as socket:
        yield GraphQLWS(socket, protocol)

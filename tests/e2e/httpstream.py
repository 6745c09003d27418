"""A small client for subscriptions over HTTP (graphql-sse and Apollo's multipart), on httpx:
it opens the stream and parses what arrives into messages, for the end-to-end tests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any

import httpx

SSE_ACCEPT = "text/event-stream"
# What Apollo Client 3 sends for a subscription (Apollo Client 4 adds the modern type).
MULTIPART_ACCEPT = 'multipart/mixed;boundary="graphql";subscriptionSpec="1.0", application/json'
_DELIMITER = "\r\n--graphql"


@dataclass(frozen=True)
class Message:
    """``kind``: next, complete, heartbeat, or error (multipart's ``payload: null``)."""

    kind: str
    data: Any = None


def sse_messages(text: str) -> tuple[list[Message], str]:
    """The complete events in ``text`` and what is left of it."""
    messages = []
    while "\n\n" in text:
        block, text = text.split("\n\n", 1)
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
        if "event" not in fields:
            messages.append(Message("heartbeat"))
        elif fields["event"] == "next":
            messages.append(Message("next", json.loads(fields["data"])))
        else:
            messages.append(Message(fields["event"]))
    return messages, text


def multipart_messages(text: str, seen_first: bool) -> tuple[list[Message], str, bool]:
    """The complete parts in ``text`` (a part is complete once its delimiter follows), what
    is left, and whether the first delimiter was seen."""
    messages = []
    while (index := text.find(_DELIMITER)) >= 0:
        part, text = text[:index], text[index + len(_DELIMITER) :]
        if seen_first:
            body = json.loads(part.split("\r\n\r\n", 1)[1])
            if body == {}:
                messages.append(Message("heartbeat"))
            elif body.get("payload") is None:
                messages.append(Message("error", body["errors"]))
            else:
                messages.append(Message("next", body["payload"]))
        seen_first = True
    if seen_first and text.startswith("--"):
        messages.append(Message("complete"))
        text = ""
    return messages, text, seen_first


class HTTPStreamClient:
    """One streamed response: ``receive`` the messages (heartbeats skipped unless asked)."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        content_type = response.headers.get("content-type", "")
        self.multipart = content_type.startswith("multipart/")
        self.streaming = self.multipart or content_type.startswith("text/event-stream")
        self._queue: asyncio.Queue[Message | None] = asyncio.Queue()
        self._pump = asyncio.create_task(self._read()) if self.streaming else None

    async def json(self) -> Any:
        """The body of an answer that is not a stream (a refusal)."""
        assert not self.streaming, self.response.headers
        await self.response.aread()
        return self.response.json()

    async def _read(self) -> None:
        text, seen_first = "", False
        try:
            async for chunk in self.response.aiter_text():
                text += chunk
                if self.multipart:
                    messages, text, seen_first = multipart_messages(text, seen_first)
                else:
                    messages, text = sse_messages(text)
                for message in messages:
                    self._queue.put_nowait(message)
        finally:
            self._queue.put_nowait(None)  # the response ended

    async def receive(self, seconds: float = 5.0, heartbeats: bool = False) -> Message:
        async with asyncio.timeout(seconds):
            while True:
                message = await self._queue.get()
                if message is None:
                    raise EOFError("the stream ended")
                if heartbeats or message.kind != "heartbeat":
                    return message

    async def nothing_within(self, seconds: float) -> bool:
        try:
            message = await self.receive(seconds)
        except TimeoutError:
            return True
        raise AssertionError(f"unexpected message: {message}")

    async def ended(self, seconds: float = 5.0) -> bool:
        """True once the server ended the response."""
        async with asyncio.timeout(seconds):
            while await self._queue.get() is not None:
                pass
        return True

    async def close(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            with suppress(asyncio.CancelledError, httpx.HTTPError):
                await self._pump
        await self.response.aclose()


def request_headers(accept: str, token: str = "") -> dict[str, str]:
    headers = {"Accept": accept}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


@asynccontextmanager
async def open_stream(
    base_url: str,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    accept: str = SSE_ACCEPT,
    token: str = "",
    method: str = "POST",
) -> AsyncIterator[HTTPStreamClient]:
    """POST (or GET) ``query`` to /graphql asking for a stream; the client reads whatever the
    answer is (check ``client.response.status_code`` for a refusal)."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        body: dict[str, Any] = {"query": query, "variables": variables or {}}
        if method == "GET":
            params = {"query": query, "variables": json.dumps(variables or {})}
            request = http.build_request(
                "GET", "/graphql", params=params, headers=request_headers(accept, token)
            )
        else:
            request = http.build_request(
                "POST", "/graphql", json=body, headers=request_headers(accept, token)
            )
        response = await http.send(request, stream=True)
        client = HTTPStreamClient(response)
        try:
            yield client
        finally:
            await client.close()

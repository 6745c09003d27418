"""The refresh cookie is read from HTTP POST requests only (never a GET, never a websocket)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import Message
from starlette.websockets import WebSocket

from resolvers.auth import refresh_cookie

COOKIE = "agora_refresh"


def scope(kind: str, method: str = "GET") -> dict[str, object]:
    return {
        "type": kind,
        "method": method,
        "path": "/graphql",
        "headers": [(b"cookie", f"{COOKIE}=secret-token".encode())],
        "query_string": b"",
    }


async def nothing() -> Message:  # pragma: no cover - never awaited
    return {"type": "http.disconnect"}


async def nowhere(message: Message) -> None:  # pragma: no cover - never awaited
    return None


def test_the_cookie_is_read_in_a_post() -> None:
    assert refresh_cookie(Request(scope("http", "POST")), COOKIE) == "secret-token"


def test_the_cookie_is_not_read_in_a_get() -> None:
    assert refresh_cookie(Request(scope("http", "GET")), COOKIE) is None


def test_the_cookie_is_not_read_on_a_websocket() -> None:
    websocket = WebSocket(scope("websocket"), nothing, nowhere)
    assert refresh_cookie(websocket, COOKIE) is None

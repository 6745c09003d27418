"""A real browser's CORS: a page on another origin (headless Chromium, its own preflight)
sends the headers Apollo Client and tracing libraries add — `apollographql-client-name`,
`apollographql-client-version`, `traceparent`, `tracestate`, `baggage` — and gets the answer
when its origin and those headers are allowed, and nothing (the browser blocks it) when the
origin is not, or a header is left out of CORS_ALLOWED_HEADERS.

(`tests/clients/preflight.mjs` sends the same preflight by hand, from Node.)"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tests.e2e.browser import CHROMIUM, Page, chromium_page
from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium package")

APOLLO_AND_TRACE_HEADERS = {
    "apollographql-client-name": "agora-web",
    "apollographql-client-version": "1.4.2",
    "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    "tracestate": "agora=00f067aa0ba902b7",
    "baggage": "userId=alice",
}
PAGE = b"<!doctype html><title>frontend</title><p>frontend"


@pytest.fixture
async def frontend_origin() -> AsyncIterator[str]:
    """Another origin than the API's: a one-page server on its own port."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n"
            + f"Content-Length: {len(PAGE)}\r\n\r\n".encode()
            + PAGE
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}"


async def fetch_from_page(page: Page, url: str) -> dict[str, Any]:
    """Run a cross-origin POST in the page: its status and body, or the error the browser
    gave the script (a refused preflight is a TypeError, and no request is sent)."""
    script = f"""
      fetch({json.dumps(url)}, {{
        method: "POST",
        headers: {{"Content-Type": "application/json", ...{json.dumps(APOLLO_AND_TRACE_HEADERS)}}},
        body: JSON.stringify({{query: "{{ products(first: 1) {{ nodes {{ id }} }} }}"}}),
      }}).then(
        async (response) => ({{status: response.status, body: await response.json()}}),
        (error) => ({{error: String(error)}}),
      )
    """
    result = await page.send(
        "Runtime.evaluate", expression=script, awaitPromise=True, returnByValue=True
    )
    value: dict[str, Any] = result["result"]["value"]
    return value


async def test_a_browser_on_an_allowed_origin_may_send_apollo_and_trace_headers(
    live_server_factory: Callable[..., Any], frontend_origin: str
):
    server: LiveServer = await live_server_factory(cors_allowed_origins=[frontend_origin])

    async with chromium_page() as page:
        await page.open(frontend_origin)
        answer = await fetch_from_page(page, f"{server.base_url}/graphql")

    assert answer.get("status") == 200, answer
    assert len(answer["body"]["data"]["products"]["nodes"]) <= 1
    assert "errors" not in answer["body"]


async def test_a_browser_on_another_origin_gets_nothing(
    live_server_factory: Callable[..., Any], frontend_origin: str
):
    server: LiveServer = await live_server_factory(cors_allowed_origins=["http://app.example.test"])

    async with chromium_page() as page:
        await page.open(frontend_origin)
        answer = await fetch_from_page(page, f"{server.base_url}/graphql")

    assert answer == {"error": "TypeError: Failed to fetch"}


async def test_a_browser_is_refused_a_header_left_out_of_the_allowed_list(
    live_server_factory: Callable[..., Any], frontend_origin: str
):
    server: LiveServer = await live_server_factory(
        cors_allowed_origins=[frontend_origin], cors_allowed_headers=["Content-Type"]
    )

    async with chromium_page() as page:
        await page.open(frontend_origin)
        answer = await fetch_from_page(page, f"{server.base_url}/graphql")

    assert answer == {"error": "TypeError: Failed to fetch"}

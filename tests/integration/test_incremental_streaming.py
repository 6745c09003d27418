"""An incremental response is sent part by part: each payload leaves the app in its own
body message, ending with the delimiter that lets a client read it, and GZipMiddleware
compresses it without holding it back (Starlette flushes every chunk of a streamed body)."""

from __future__ import annotations

import asyncio
import json
import logging
import zlib
from typing import Any

import httpx
import pytest

from schema.errors import MASKED_MESSAGE
from server.incremental.payloads import Defer20220824Payloads
from tests import factories
from tests.conftest import DATABASE_URL, AppFactory, graphql
from tests.incremental import DEFER_SPEC, payloads_of, payloads_of_body

DEFERRED = """
query {
  posts(first: 20) {
    nodes { title body ... @defer { author { name } comments(first: 5) { nodes { body } } } }
  }
}
"""


async def body_messages(client: httpx.AsyncClient, headers: dict[str, str]) -> list[bytes]:
    """The body messages the ASGI app sends for DEFERRED, as a server would write them."""
    app = client._transport.app  # type: ignore[attr-defined]
    body = json.dumps({"query": DEFERRED}).encode()
    raw_headers = [(b"content-type", b"application/json"), (b"host", b"testserver")]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": raw_headers,
        "client": ("203.0.113.7", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
    received = False
    never = asyncio.Event()
    messages: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal received
        if received:  # the response listening for a disconnect: the client stays
            await never.wait()
        received = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            assert message["status"] == 200
        elif message["type"] == "http.response.body" and message.get("body"):
            messages.append(message["body"])

    await app(scope, receive, send)
    return messages


async def test_each_payload_is_sent_on_its_own_with_its_closing_delimiter(
    client_factory: AppFactory, db: None
) -> None:
    author = await factories.create_user()
    for _ in range(20):
        await factories.create_post(author)
    client = client_factory()

    messages = await body_messages(client, {"Accept": DEFER_SPEC})

    texts = [message.decode() for message in messages]
    assert len(texts) == 2
    assert texts[0].startswith("\r\n---\r\n")
    assert texts[0].endswith("\r\n---")
    assert texts[1].endswith("\r\n-----\r\n")
    initial, final = payloads_of_body("".join(texts))
    assert initial["hasNext"] is True
    assert final["hasNext"] is False


async def test_gzip_compresses_each_payload_without_holding_it_back(
    client_factory: AppFactory, db: None
) -> None:
    author = await factories.create_user()
    for _ in range(20):
        await factories.create_post(author)
    client = client_factory()

    messages = await body_messages(client, {"Accept": DEFER_SPEC, "Accept-Encoding": "gzip"})

    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    texts = [decompressor.decompress(message).decode() for message in messages]
    # The first message alone is the whole initial payload, readable before the next.
    assert texts[0].startswith("\r\n---\r\n")
    assert texts[0].endswith("\r\n---")
    assert json.loads(texts[0].split("\r\n\r\n", 1)[1].removesuffix("\r\n---"))["hasNext"]
    assert sum(len(message) for message in messages) < len("".join(texts))  # compressed
    assert payloads_of_body("".join(texts))[-1]["hasNext"] is False


async def test_a_failure_of_the_stream_itself_ends_the_body_with_a_masked_error(
    client_factory: AppFactory,
    db: None,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A bug after the first part was sent (here: in writing a later payload) cannot
    change the status any more: the body still ends as a multipart body, with a last
    payload carrying the error in the contract, and the error is logged with its stack."""
    author = await factories.create_user()
    await factories.create_post(author)

    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(Defer20220824Payloads, "subsequent", explode)
    client = client_factory(
        app_env="production",
        database_url=DATABASE_URL,
        jwt_secret="j" * 40,
        refresh_token_secret="r" * 40,
        metrics_token="m" * 40,
    )

    with caplog.at_level(logging.ERROR, logger="agora.graphql"):
        response = await graphql(client, DEFERRED, headers={"Accept": DEFER_SPEC})

    initial, last = payloads_of(response)
    assert initial["hasNext"] is True
    assert last["hasNext"] is False
    [error] = last["errors"]
    assert error["message"] == MASKED_MESSAGE
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    [record] = [record for record in caplog.records if record.name == "agora.graphql"]
    assert record.getMessage() == "incremental delivery failed"
    assert record.exc_info is not None

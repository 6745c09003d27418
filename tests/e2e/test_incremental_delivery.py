"""@defer against a real uvicorn: the multipart body streamed over HTTP/1.1 (chunked,
gzip-compressed) reads back into the full result; over a websocket, where there is no way to
deliver it, the operation is refused with a code."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests import factories
from tests.e2e.conftest import LiveServer
from tests.e2e.wsclient import connect
from tests.incremental import DEFER_SPEC, merged_defer_spec, payloads_of_body

DEFERRED = """
query {
  posts(first: 10) {
    nodes {
      title
      ... @defer(label: "more") { author { name } comments(first: 3) { nodes { body } } }
    }
  }
}
"""


async def seed() -> None:
    authors = await factories.create_users(2)
    for index in range(10):
        post = await factories.create_post(authors[index % 2])
        await factories.create_comments(post, authors)


async def test_a_deferred_query_streams_over_a_real_server_and_merges_into_the_full_result(
    live_server: LiveServer,
) -> None:
    await seed()
    async with httpx.AsyncClient(base_url=live_server.base_url) as client:
        async with client.stream(
            "POST",
            "/graphql",
            json={"query": DEFERRED},
            headers={"Accept": DEFER_SPEC, "Accept-Encoding": "gzip"},
        ) as response:
            assert response.headers["content-encoding"] == "gzip"
            assert response.headers["transfer-encoding"] == "chunked"
            body = "".join([text async for text in response.aiter_text()])
        plain = await client.post(
            "/graphql", json={"query": re.sub(r"@defer\([^)]*\)", "", DEFERRED)}
        )

    payloads = payloads_of_body(body)
    assert payloads[0]["hasNext"] is True
    assert payloads[-1]["hasNext"] is False
    expected: dict[str, Any] = {"data": plain.json()["data"], "errors": []}
    assert merged_defer_spec(payloads) == expected


async def test_a_deferred_query_over_a_websocket_is_refused_with_a_code(
    live_server: LiveServer,
) -> None:
    await seed()
    async with connect(live_server.ws_url) as socket:
        await socket.init()
        await socket.subscribe("q", DEFERRED)

        refused = await socket.receive()

        assert refused["type"] == "error"
        [error] = refused["payload"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert error["extensions"]["reason"] == "INCREMENTAL_DELIVERY_NOT_HTTP"

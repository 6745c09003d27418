"""Conditional GETs against a real uvicorn: a 304 carries no body, so the keep-alive connection
it came on serves the next request intact, plain and gzip-encoded."""

from __future__ import annotations

import httpx

from tests import factories
from tests.e2e.conftest import LiveServer

FEED = "{ posts(first: 10) { nodes { id title author { name } } } }"


async def test_a_304_leaves_the_keep_alive_connection_usable(live_server: LiveServer) -> None:
    author = await factories.create_user()
    for index in range(10):
        title = f"A title long enough to pass the gzip threshold, number {index:03}"
        await factories.create_post(author, title=title)
    params = {"query": FEED}
    # One connection for every request: a 304 with stray body bytes would corrupt the next.
    limits = httpx.Limits(max_connections=1)
    async with httpx.AsyncClient(base_url=live_server.base_url, limits=limits) as http:
        for encoding in ("identity", "gzip"):
            headers = {"Accept-Encoding": encoding}
            first = await http.get("/graphql", params=params, headers=headers)
            etag = first.headers["etag"]
            again = await http.get(
                "/graphql", params=params, headers={**headers, "If-None-Match": etag}
            )
            after = await http.get("/graphql", params=params, headers=headers)
            assert first.status_code == 200
            assert (first.headers.get("content-encoding") == "gzip") is (encoding == "gzip")
            assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", etag)
            assert "content-length" not in again.headers or again.headers["content-length"] == "0"
            assert (after.status_code, after.content) == (200, first.content)

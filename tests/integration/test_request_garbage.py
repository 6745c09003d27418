"""A request's objects are freed by reference counting when it ends: no reference cycle
keeps its executor, context, loaders and models alive until the cyclic garbage collector
runs (graphql-core's executor had one; schema/execution.py breaks it; the cost it had is in
the README, "Troubleshooting")."""

from __future__ import annotations

import gc
import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests import factories

FEED = """{ posts(first: 5) { edges { cursor node { title author { name } commentCount
  comments(first: 3) { edges { node { body author { name } } } } } }
  pageInfo { hasNextPage endCursor } totalCount } }"""


# What a request builds: if any of it is cyclic garbage, the whole request graph is (the
# leak this guards against held all of these). Other garbage can come from earlier tests'
# leftovers finishing on the shared event loop meanwhile, so it is not counted.
REQUEST_OBJECTS = {
    "ModelAwareExecutionContext",
    "GraphQLResolveInfoHelpers",
    "Context",
    "Loaders",
    "DataLoader",
    "ValueCache",
    "User",
    "Post",
    "Comment",
    "Request",
    "Response",
}


@pytest.fixture
def collector_paused() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


def cyclic_garbage() -> Counter[str]:
    """What only the cyclic collector would free, by type (of a request's objects)."""
    gc.set_debug(gc.DEBUG_SAVEALL)
    gc.collect()
    found = Counter(
        name
        for value in gc.garbage
        if (name := type(value).__qualname__) in REQUEST_OBJECTS and _of_this_test(value)
    )
    gc.garbage.clear()
    gc.set_debug(0)
    gc.collect()  # really free them: cleared from gc.garbage they are cyclic garbage again
    return found


# The client address of every request this module sends (``post_graphql``).
CLIENT = ("203.0.113.7", 50000)


def _of_this_test(value: object) -> bool:
    """A Context counts when it was built for one of this module's requests. Seen in CI's
    PostgreSQL pass under load: two ``Context`` objects in the garbage and none of the
    Request, Loaders or models a context of this request holds, i.e. contexts of an earlier
    test's connection (websocket or stream operations copy the connection's context) freed
    by a task finishing on the shared event loop meanwhile."""
    if type(value).__qualname__ != "Context":
        return True
    scope = getattr(getattr(value, "request", None), "scope", None)
    return isinstance(scope, dict) and tuple(scope.get("client") or ()) == CLIENT


async def post_graphql(
    client: httpx.AsyncClient, query: str, headers: dict[str, str] | None = None
) -> Any:
    """POST straight to the ASGI app (an HTTP client's own objects would count as well)."""
    app = client._transport.app  # type: ignore[attr-defined]
    body = json.dumps({"query": query}).encode()
    raw_headers = [(b"content-type", b"application/json"), (b"host", b"testserver")]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
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
        "client": CLIENT,
        "server": ("testserver", 80),
        "state": {},
    }
    chunks: list[bytes] = []
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        assert not sent, "the app reads the body once"
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return json.loads(b"".join(chunks))


async def warm_up(
    client: httpx.AsyncClient, query: str, headers: dict[str, str] | None = None
) -> None:
    """The same query a few times: parse and validation caches filled, pools ready, and what
    the first requests left to the collector (their validation) collected."""
    for _ in range(3):
        await post_graphql(client, query, headers)


async def create_feed() -> None:
    author = await factories.create_user()
    for _ in range(6):
        post = await factories.create_post(author)
        await factories.create_comments(post, [author, author])


async def test_a_nested_query_leaves_no_cyclic_garbage(client, collector_paused):
    await create_feed()
    await warm_up(client, FEED)
    cyclic_garbage()

    response = await post_graphql(client, FEED)

    assert "errors" not in response
    assert cyclic_garbage() == Counter()


async def test_a_mutation_leaves_no_cyclic_garbage(client, collector_paused):
    user = await factories.create_user()
    headers = factories.bearer(client, user)
    create = 'mutation { createPost(input: {title: "Hello", body: "World"}) { id } }'
    await warm_up(client, create, headers)
    cyclic_garbage()

    response = await post_graphql(client, create, headers)

    assert "errors" not in response, response
    assert cyclic_garbage() == Counter()

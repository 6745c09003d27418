"""Where today's features meet: HTTP caching of GET queries (ETag, If-None-Match, 304) for a
browser client on another origin (CORS); @defer for a client that accepts both streams
(graphql-sse and multipart/mixed)."""

from __future__ import annotations

import httpx

from tests.conftest import AppFactory
from tests.error_contract import assert_error_contract

APP_ORIGIN = "https://app.example.com"
POSTS = "query Posts { posts(first: 2) { totalCount } }"
MODERN = {"Accept": "application/graphql-response+json"}
DEFERRED = "query Deferred { posts(first: 2) { totalCount ... @defer { edges { node { id } } } } }"
BOTH_STREAMS = {"Accept": "text/event-stream, multipart/mixed"}


def cross_origin(client_factory: AppFactory) -> httpx.AsyncClient:
    return client_factory(cors_allowed_origins=[APP_ORIGIN])


async def test_a_cross_origin_client_can_read_the_etag_of_a_cacheable_get(
    client_factory: AppFactory,
) -> None:
    client = cross_origin(client_factory)
    response = await client.get(
        "/graphql", params={"query": POSTS}, headers={**MODERN, "Origin": APP_ORIGIN}
    )
    assert_error_contract(response)
    assert response.headers["etag"]
    exposed = {
        name.strip().lower()
        for name in response.headers["access-control-expose-headers"].split(",")
    }
    assert "etag" in exposed


async def test_a_preflight_for_a_conditional_get_with_if_none_match_is_allowed(
    client_factory: AppFactory,
) -> None:
    client = cross_origin(client_factory)
    response = await client.options(
        "/graphql",
        headers={
            "Origin": APP_ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "accept,if-none-match",
        },
    )
    assert response.status_code == 200


async def test_a_cross_origin_conditional_get_with_the_exposed_etag_answers_304(
    client_factory: AppFactory,
) -> None:
    client = cross_origin(client_factory)
    headers = {**MODERN, "Origin": APP_ORIGIN}
    first = await client.get("/graphql", params={"query": POSTS}, headers=headers)
    again = await client.get(
        "/graphql",
        params={"query": POSTS},
        headers={**headers, "If-None-Match": first.headers["etag"]},
    )
    assert again.status_code == 304
    assert again.headers["access-control-allow-origin"] == APP_ORIGIN


async def test_defer_for_a_client_accepting_event_stream_and_multipart_is_answered_multipart(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/graphql", json={"query": DEFERRED}, headers=BOTH_STREAMS)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("multipart/mixed")
    assert '"hasNext":true' in response.text
    assert "errors" not in response.text


async def test_a_query_without_defer_for_a_client_accepting_both_streams_stays_an_event(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/graphql", json={"query": POSTS}, headers=BOTH_STREAMS)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert "event: next" in response.text

"""Opening a subscription stream over HTTP, through the ASGI app (the streams themselves are
tested against a real uvicorn in tests/e2e/test_http_subscriptions.py)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from server.app import create_app
from server.container import Container
from tests.conftest import make_settings

FEED = "subscription { postPublished { id } }"


@pytest.fixture
async def app(db: None) -> AsyncIterator[Starlette]:
    settings = make_settings()
    container = Container.from_settings(settings, key_prefix=f"test:{uuid.uuid4().hex}:")
    yield create_app(settings, manage_database=False, container=container)
    await container.close()


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.mark.parametrize(
    "accept", ["text/event-stream", "multipart/mixed;subscriptionSpec=1.0,application/json"]
)
async def test_a_stream_asked_for_while_the_server_drains_is_refused_with_503(
    app: Starlette, http: httpx.AsyncClient, accept: str
) -> None:
    app.state.graphql_view.websockets.draining = True  # what SIGTERM starts with

    response = await http.post("/graphql", json={"query": FEED}, headers={"Accept": accept})

    assert response.status_code == 503
    assert int(response.headers["retry-after"]) >= 1
    assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"


async def test_a_subscription_sent_as_plain_json_names_the_streaming_transports(
    http: httpx.AsyncClient,
) -> None:
    response = await http.post("/graphql", json={"query": FEED})

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["reason"] == "SUBSCRIPTION_OVER_HTTP"
    assert "text/event-stream" in error["message"]
    assert "subscriptionSpec=1.0" in error["message"]


# What urql's fetchExchange sends with every query and mutation.
URQL_ACCEPT = (
    "application/graphql-response+json, application/graphql+json, application/json, "
    "text/event-stream, multipart/mixed"
)


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_query_listing_json_before_event_stream_is_answered_as_json(
    http: httpx.AsyncClient, method: str
) -> None:
    query = "{ __typename }"
    if method == "GET":
        response = await http.get(
            "/graphql", params={"query": query}, headers={"Accept": URQL_ACCEPT}
        )
    else:
        response = await http.post(
            "/graphql", json={"query": query}, headers={"Accept": URQL_ACCEPT}
        )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/graphql-response+json")
    assert response.json()["data"] == {"__typename": "Query"}


async def test_a_query_preferring_event_stream_is_answered_as_one_next_event(
    http: httpx.AsyncClient,
) -> None:
    response = await http.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers={"Accept": "text/event-stream, application/json"},
    )

    assert response.headers["content-type"].startswith("text/event-stream")
    assert "event: next" in response.text
    assert '"__typename":"Query"' in response.text
    assert "event: complete" in response.text


async def test_a_persisted_query_miss_asked_as_a_stream_is_answered_not_found(
    http: httpx.AsyncClient,
) -> None:
    unknown = {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}

    response = await http.post(
        "/graphql",
        json={"extensions": unknown},
        headers={"Accept": "multipart/mixed;subscriptionSpec=1.0,application/json"},
    )

    assert response.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
